/* The manager's page: a live dashboard, server-drawn SVG charts, and the closure-rate report with its exports. */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var dash = $('#dashboard'), trend = $('#trend'), heat = $('#heatmap');
  var form = $('#report-form'), table = $('#report-table');

  // ---- live dashboard ---------------------------------------------------------------------------------------
  function values() {
    var out = {};
    dash.querySelectorAll('[data-value]').forEach(function (el, i) { out[el.id || i] = el.dataset.value; });
    return out;
  }
  function refreshDashboard() {
    var before = values();
    return HL.refresh(dash).then(function () {
      dash.querySelectorAll('.tile b[id]').forEach(function (el) {
        if (before[el.id] !== undefined && before[el.id] !== el.dataset.value) el.parentNode.classList.add('bump');
      });
    });
  }
  function refreshSvg(el) {
    return HL.getHTML(el.dataset.src).then(function (res) { if (res && res.ok) el.innerHTML = res.html; });
  }
  function refreshCharts() { return Promise.all([refreshSvg(trend), refreshSvg(heat)]); }
  var dashSoon = HL.debounce(refreshDashboard, 300);
  var chartsSoon = HL.debounce(refreshCharts, 3000);
  HL.live(function (type) {
    if (type === 'ticket' || type === 'escalation') { dashSoon(); chartsSoon(); }
  }, function () { refreshDashboard(); refreshCharts(); });
  setInterval(function () { refreshDashboard(); refreshCharts(); }, 60000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { refreshDashboard(); } });

  // ---- closure-rate report ----------------------------------------------------------------------------------
  var columns = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.dataset.k; });
  var esc = HL.esc;
  function cell(key, value) {
    if (value === null || value === undefined) return '—';
    // Half-up on tenths of a percent, as a manager rounds by hand (toFixed alone gives 86.25 -> 86.2 or 86.3
    // depending on the float); the epsilon absorbs binary noise of exact ratios such as 69/80.
    if (/_rate$/.test(key)) return (Math.floor(value * 1000 + 0.5 + 1e-9) / 10).toFixed(1) + '%';
    return esc(value);
  }
  // The report's ticket figures open their tickets (drill.js): received in the period, of the group; closed; and
  // overdue_open at the report's as_of. The assignment figures (dispatched, the rates) count assignments, not 件.
  var DRILL = {received: '', closed: '&status=closed', overdue_open: '&overdue=true'};
  var NULLABLE = {unit: 1, territory: 1, category: 1};
  function drill(report, r, k, total) {
    if (!(k in DRILL) || !report || !r[k]) return '';
    var q = new URLSearchParams({created_from: report.from, created_to: report.to});
    if (k === 'overdue_open') q.set('as_of', report.as_of);
    var g = report.group_by;
    if (!total && (r.group !== null || NULLABLE[g])) q.set(g, r.group === null ? 'none' : r.group);
    var title = (total ? '合计' : (r.group_name || r.group || '（未填写）')) + ' · ' + table.querySelector('th[data-k="' + k + '"]').textContent;
    return ' data-drill="' + esc(q.toString() + DRILL[k]) + '" data-title="' + esc(title) + '" class="drill"';
  }
  function rowHTML(r, label, report, total) {
    return '<tr data-group="' + esc(r.group) + '">' + columns.map(function (k, i) {
      return '<td data-k="' + k + '"' + (i ? drill(report, r, k, total) : '') + '>' + (i === 0 ? esc(label) : cell(k, r[k])) + '</td>';
    }).join('') + '</tr>';
  }
  function query() {
    var q = new URLSearchParams();
    q.set('from', form.elements.from.value);
    q.set('to', form.elements.to.value);
    q.set('group_by', form.elements.group_by.value);
    return q;
  }
  function setExports() {
    ['csv', 'xlsx'].forEach(function (f) {
      var q = query(); q.set('format', f);
      $('#export-' + f).href = '/api/reports/closure?' + q.toString();
    });
  }
  function empty(text) {
    table.tBodies[0].innerHTML = '<tr class="empty"><td colspan="' + columns.length + '">' + esc(text) + '</td></tr>';
    table.tFoot.innerHTML = '';
  }
  function runReport() {
    HL.clearErrors(form);
    var err = $('#report-error'); err.hidden = true;
    var from = form.elements.from.value, to = form.elements.to.value;
    if (!from) { HL.fieldError(form, 'from', '请选择起始日期'); return Promise.resolve(); }
    if (!to) { HL.fieldError(form, 'to', '请选择截止日期'); return Promise.resolve(); }
    if (to <= from) { HL.fieldError(form, 'to', '截止日期应晚于起始日期'); return Promise.resolve(); }
    setExports();
    // The page arrives with the default query's report: the first run draws it (unless the browser restored other
    // choices into the form), later runs ask the API.
    var first = $('#report-first');
    if (first) {
      first.remove();
      if (first.dataset.from === from && first.dataset.to === to && form.elements.group_by.value === 'unit') {
        show({ok: true, status: 200, data: JSON.parse(first.textContent)});
        return Promise.resolve();
      }
    }
    empty('查询中…');
    var q = query(); q.set('format', 'json');
    return HL.api('GET', '/api/reports/closure?' + q.toString()).then(show);
  }
  function show(res) {
    var err = $('#report-error');
    table.dataset.loaded = '1';
    if (res.status === 404 || res.status === 405) { empty('暂无数据（统计服务暂不可用）'); table.dataset.state = 'unavailable'; return; }
    if (!res.ok) {
      if (res.status === 422) HL.showProblem(form, res);
      else { err.textContent = HL.problemMessage(res); err.hidden = false; }
      empty('暂无数据'); table.dataset.state = 'error'; return;
    }
    var rows = res.data.rows || [];
    table.dataset.state = 'ok';
    if (!rows.length) empty('暂无数据（所选期间没有受理工单）');
    else table.tBodies[0].innerHTML = rows.map(function (r) { return rowHTML(r, r.group_name || r.group || '（未填写）', res.data, false); }).join('');
    table.tFoot.innerHTML = res.data.totals ? rowHTML(res.data.totals, '合计', res.data, true) : '';
  }
  form.addEventListener('submit', function (ev) { ev.preventDefault(); runReport(); });
  form.addEventListener('change', setExports);
  runReport().then(HL.ready);

  // ---- dead letters of the upstream feedback (外网反馈): re-driven by 重试 --------------------------------------
  var dead = $('#dead-letters');
  var EVENT_LABEL = {signed: '签收', extension_approved: '延期获批', replied: '答复', returned_upstream: '退单', closed: '办结'};
  function loadDeadLetters() {
    return HL.api('GET', '/api/outbox?status=dead&limit=50').then(function (res) {
      var body = dead.querySelector('tbody');
      if (!res.ok) { body.innerHTML = '<tr class="empty"><td colspan="9">无法读取（' + res.status + '）</td></tr>'; return; }
      var items = res.data.items || [];
      if (!items.length) { body.innerHTML = '<tr class="empty"><td colspan="9">无失败的反馈</td></tr>'; return; }
      body.innerHTML = items.map(function (d) {
        return '<tr data-outbox="' + d.id + '"><td><a href="/tickets/' + encodeURIComponent(d.ticket) + '">' + esc(d.ticket) + '</a></td>' +
          '<td>' + esc(d.channel) + '</td><td>' + esc(d.external_ref) + '</td>' +
          '<td>' + esc(EVENT_LABEL[d.event] || d.event) + '</td><td>' + d.sequence + '</td><td>' + d.attempts + '</td>' +
          '<td class="muted">' + esc(d.last_error) + '</td><td>' + esc(HL.time(d.created_at)) + '</td>' +
          '<td><button type="button" class="retry" data-id="' + d.id + '">重试</button></td></tr>';
      }).join('');
    });
  }
  dead.addEventListener('click', function (ev) {
    var button = ev.target.closest('button.retry');
    if (!button) return;
    button.disabled = true;
    HL.api('POST', '/api/outbox/' + button.dataset.id + '/retry', {}).then(function (res) {
      if (res.ok) { HL.toast('已重新投递'); } else { HL.toast(HL.problemMessage(res), true); button.disabled = false; }
      loadDeadLetters();
    });
  });
  loadDeadLetters();
  setInterval(loadDeadLetters, 60000);
})();
