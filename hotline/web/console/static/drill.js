/* The figures' drill-down on the manager's page: a tile, a row, a heat-map cell or a report figure carries
 * data-drill, the GET /api/tickets query of exactly the tickets behind it (same filter, same instant); a click
 * lists them in a dialog, every page of them. */
(function () {
  'use strict';
  var dialog = document.getElementById('drill');
  if (!dialog) return;
  var list = document.querySelector('#drill-list tbody'), count = document.getElementById('drill-count');
  var names = JSON.parse(document.getElementById('drill-names').textContent || '{}');
  var MAX_PAGES = 25;  // 5,000 tickets: more than any figure on this page holds
  var asked = 0;

  function row(t) {
    var esc = HL.esc;
    return '<tr data-number="' + esc(t.number) + '"><td class="nowrap"><a class="num" href="/tickets/' +
      encodeURIComponent(t.number) + '">' + esc(t.number) + '</a></td><td class="ellipsis">' + esc(t.title) +
      '</td><td class="nowrap">' + esc(HL.STATUS[t.status] || t.status) + '</td><td class="nowrap">' +
      esc(t.unit_name || '未派单') + '</td><td class="nowrap">' +
      esc((names.territories || {})[t.territory] || t.territory || '未填写') + '</td><td class="nowrap">' +
      esc(HL.time(t.received_at)) + '</td></tr>';
  }
  function fetchAll(query, seq) {
    var items = [];
    function page(cursor, n) {
      var q = query + '&limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return HL.api('GET', '/api/tickets?' + q).then(function (res) {
        if (seq !== asked) return null;
        if (!res.ok) throw res;
        items = items.concat(res.data.items || []);
        if (res.data.next_cursor && n < MAX_PAGES) return page(res.data.next_cursor, n + 1);
        return items;
      });
    }
    return page(null, 1);
  }
  function open(el) {
    var query = el.getAttribute('data-drill');
    var seq = ++asked;
    document.getElementById('drill-title').textContent = el.getAttribute('data-title') || '工单明细';
    document.getElementById('drill-api').href = '/api/tickets?' + query;
    count.textContent = '查询中…';
    dialog.dataset.state = 'loading';
    dialog.dataset.query = query;
    list.innerHTML = '';
    if (!dialog.open) dialog.showModal();
    fetchAll(query, seq).then(function (items) {
      if (items === null) return;
      list.innerHTML = items.length ? items.map(row).join('') : '<tr class="empty"><td colspan="6">没有工单</td></tr>';
      count.textContent = '共 ' + items.length + ' 件';
      dialog.dataset.count = String(items.length);
      dialog.dataset.state = 'ok';
    }, function (res) {
      if (seq !== asked) return;
      count.textContent = HL.problemMessage(res);
      dialog.dataset.state = 'error';
    });
  }
  document.addEventListener('click', function (ev) {
    var el = ev.target.closest && ev.target.closest('[data-drill]');
    if (!el || ev.target.closest('a[href]')) return;
    ev.preventDefault();
    open(el);
  });
  document.addEventListener('keydown', function (ev) {
    var el = ev.target;
    if ((ev.key === 'Enter' || ev.key === ' ') && el.matches && el.matches('tr[data-drill], td[data-drill], rect[data-drill]')) {
      ev.preventDefault();
      open(el);
    }
  });
  document.getElementById('drill-close').addEventListener('click', function () { dialog.close(); });
})();
