/* The working calendar: years known, office hours, local exceptions; what a new exception (a typhoon day) would do
 * to the running deadlines of the territories it names (全市 by default), shown before anything is saved. */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var esc = HL.esc, form = $('#cal-form');
  if (!form) return;
  var CLOCK = {sign: '签收', reply: '办结', callback: '回访', dispatch: '派单'};
  var citywide = form.elements.citywide, boxes = Array.prototype.slice.call(form.querySelectorAll('input[name=territory]'));
  var NAMES = {};
  boxes.forEach(function (b) { NAMES[b.value] = b.dataset.name; });
  function where(codes) { return codes && codes.length ? codes.map(function (c) { return NAMES[c] || c; }).join('、') : '全市'; }
  // 全市 and named territories exclude each other; nothing named is the whole city.
  function syncTerritories(changed) {
    if (changed === citywide && citywide.checked) boxes.forEach(function (b) { b.checked = false; });
    else if (changed !== citywide) citywide.checked = !boxes.some(function (b) { return b.checked; });
    if (!citywide.checked && !boxes.some(function (b) { return b.checked; })) citywide.checked = true;
  }
  form.addEventListener('change', function (ev) { if (ev.target === citywide || boxes.indexOf(ev.target) >= 0) syncTerritories(ev.target); });
  var day = new Intl.DateTimeFormat('zh-CN', {timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
                                               hour: '2-digit', minute: '2-digit', hour12: false, weekday: 'short'});
  function when(iso) { return day.format(new Date(iso)).replace(/\//g, '-'); }
  function ranges(years) {
    var out = [], start = null;
    years.forEach(function (y, i) {
      if (start === null) start = y;
      if (years[i + 1] !== y + 1) { out.push(start === y ? String(y) : start + '–' + y); start = null; }
    });
    return out.join('、');
  }
  var saveButton = $('#cal-save'), previewed = null;
  function load() {
    HL.api('GET', '/api/admin/calendar').then(function (res) {
      if (!res.ok) return;
      var d = res.data;
      $('#cal-years').textContent = ranges(d.known_years) + (d.known_years.length ? '（之后的年份按周一至周五计算，时限标为暂定）' : '');
      $('#cal-hours').textContent = d.office_hours.map(function (p) { return p[0] + '–' + p[1]; }).join('，');
      // Only calendar.toml's: the saved ones are listed (once) in the table below, where they can be withdrawn.
      var fromFile = d.exceptions.filter(function (e) { return e.source !== 'saved'; });
      $('#cal-exceptions').tBodies[0].innerHTML = fromFile.length ? fromFile.map(function (e) {
        return '<tr data-date="' + esc(e.date) + '"><td>' + esc(e.date) + '</td><td>' + (e.working ? '调为工作日' : '停工') + '</td><td>' + esc(e.reason) + '</td></tr>';
      }).join('') : '<tr class="empty"><td colspan="3">暂无</td></tr>';
    });
    HL.api('GET', '/api/admin/calendar/exceptions').then(function (res) {
      if (!res.ok) return;
      $('#cal-saved').tBodies[0].innerHTML = res.data.items.length ? res.data.items.map(function (e) {
        var state = e.withdrawn_at ? '<span class="muted">' + esc(e.withdrawn_by) + ' 于 ' + esc(HL.time(e.withdrawn_at)) + ' 撤销</span>'
          : '<button type="button" class="danger" data-withdraw="' + e.id + '" aria-label="撤销 ' + esc(e.date) + ' 的例外">撤销</button>';
        return '<tr data-id="' + e.id + '" data-date="' + esc(e.date) + '"><td>' + esc(e.date) + '</td><td class="territories">' + esc(where(e.territories)) + '</td><td>' + (e.working ? '调为工作日' : '停工') +
          '</td><td>' + esc(e.reason) + '</td><td>' + esc(e.created_by) + ' ' + esc(HL.time(e.created_at)) + '</td><td>' + state + '</td></tr>';
      }).join('') : '<tr class="empty"><td colspan="6">暂无</td></tr>';
    });
  }
  function values() {
    return {date: form.elements.date.value, working: form.elements.working.value === 'true', reason: form.elements.reason.value.trim(),
            territories: boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; })};
  }
  function invalidate() { previewed = null; saveButton.disabled = true; }
  form.addEventListener('input', invalidate);
  form.addEventListener('change', invalidate);
  function refused(res, body) {
    var f = (res.data && res.data.fields) || {};
    if (f.territories) HL.fieldError(form, 'territories', '属地不在参考数据中，请刷新页面后重选');
    else if (f.date) HL.fieldError(form, 'date', /local exception/.test(f.date) ? '这一天' + (body.territories.length ? '在所选属地' : '') + '已有本地例外，请先撤销' : /already/.test(f.date) ? '这一天本来就是' + (body.working ? '工作日' : '休息日') + '，设为例外不会改变任何时限' : '日期超出支持范围');
    else if (f.reason) HL.fieldError(form, 'reason', '理由须为1到200字');
    else HL.formError(form, HL.problemMessage(res));
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(form);
    invalidate();
    if (!HL.validate(form)) return;
    var body = values();
    HL.api('POST', '/api/admin/calendar/exception-preview', body).then(function (res) {
      if (!res.ok) { refused(res, body); return; }
      var d = res.data, table = $('#cal-moved');
      $('#cal-count').textContent = where(d.territories) + '在办计时 ' + d.open_clocks + ' 个，其中 ' + d.would_move + ' 个时限将改变' + (d.would_move > d.moved.length ? '（下表列出前 ' + d.moved.length + ' 个）' : '') + '。';
      $('#cal-count').dataset.wouldMove = d.would_move;
      $('#cal-count').hidden = false;
      table.tBodies[0].innerHTML = d.moved.map(function (m) {
        return '<tr data-number="' + esc(m.number) + '" data-clock="' + esc(m.clock) + '" data-territory="' + esc(m.territory || '') + '"><td><a href="/tickets/' + encodeURIComponent(m.number) + '">' + esc(m.number) + '</a></td><td>' + (m.territory ? esc(where([m.territory])) : '—') + '</td><td>' +
          esc(CLOCK[m.clock] || m.clock) + '</td><td>' + esc(when(m.due_at)) + '</td><td class="new-due">' + esc(when(m.new_due_at)) + '</td></tr>';
      }).join('');
      table.hidden = $('#cal-moved-h').hidden = !d.moved.length;
      previewed = body;
      saveButton.disabled = false;
    });
  });
  saveButton.addEventListener('click', function () {
    HL.clearErrors(form);
    if (!previewed) return;
    var body = previewed;
    saveButton.disabled = true;
    HL.api('POST', '/api/admin/calendar/exceptions', body).then(function (res) {
      if (!res.ok) { refused(res, body); return; }
      HL.toast('已保存 ' + body.date + '（' + where(body.territories) + '）的例外，' + res.data.moved + ' 个在办时限已按新日历重算' + (res.data.recompute_more ? '（其余在后台继续）' : ''));
      form.reset(); syncTerritories(citywide); invalidate();
      $('#cal-count').hidden = $('#cal-moved').hidden = $('#cal-moved-h').hidden = true;
      load();
    });
  });
  $('#cal-saved').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-withdraw]');
    if (!b) return;
    var row = b.closest('tr'), date = row.dataset.date, scope = row.querySelector('td.territories').textContent;
    if (!window.confirm('撤销 ' + date + '（' + scope + '）的本地例外？在办工单的时限将按原日历重算。')) return;
    b.disabled = true;
    HL.api('DELETE', '/api/admin/calendar/exceptions/' + b.dataset.withdraw).then(function (res) {
      if (!res.ok) { b.disabled = false; HL.toast(HL.problemMessage(res), true); return; }
      HL.toast('已撤销 ' + date + ' 的例外，' + res.data.moved + ' 个在办时限已重算');
      load();
    });
  });
  load();
})();
