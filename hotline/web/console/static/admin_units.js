/* Units (display name, contact person and phone, active flag) and, below, routing rules: read and changed through
 * /api/admin/units and /api/admin/routing-rules, as any API client's. */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var esc = HL.esc, table = $('#units-table'), form = $('#unit-form');
  if (!table || !form) return;
  var units = {};
  var FIELD = {name: '单位名称', contact_person: '联系人', contact_phone: '联系电话', active: '状态'};
  function reasonText(field, reason) {
    var label = FIELD[field] || field;
    if (/needs a name/.test(reason)) return '请输入单位名称';
    if (/phone number/.test(reason)) return '联系电话只能包含数字、空格和“-”，可以“+”开头';
    if (/length|at most/i.test(reason)) return label + '过长';
    return label + '填写有误';
  }
  function dash(v) { return v ? esc(v) : '<span class="muted">—</span>'; }
  function rowHTML(u) {
    var c = esc(u.code);
    return '<tr data-unit="' + c + '"' + (u.active ? '' : ' class="inactive"') + '><td class="nowrap"><code>' + c + '</code></td><td class="unit-name">' +
      esc(u.name) + '</td><td>' + (u.territory_name ? esc(u.territory_name) : '全市') + '</td><td>' + dash(u.contact_person) +
      '</td><td class="nowrap">' + dash(u.contact_phone) + '</td><td>' +
      (u.active ? '<span class="badge status-in_progress">启用</span>' : '<span class="badge muted-badge">已停用</span>') +
      '</td><td class="acts"><button type="button" class="ghost" data-act="edit" aria-label="编辑 ' + esc(u.name) + '">编辑</button></td></tr>';
  }
  function load() {
    return HL.api('GET', '/api/admin/units').then(function (res) {
      var body = table.tBodies[0];
      if (!res.ok) { body.innerHTML = '<tr class="empty"><td colspan="7">' + esc(HL.problemMessage(res)) + '</td></tr>'; return; }
      units = {};
      res.data.items.forEach(function (u) { units[u.code] = u; });
      body.innerHTML = res.data.items.map(rowHTML).join('');
      table.dataset.loaded = '1';
    });
  }
  function close() { form.reset(); HL.clearErrors(form); form.hidden = true; $('#unit-hint').hidden = false; }
  function edit(u) {
    HL.clearErrors(form);
    form.elements.code.value = u.code;
    form.elements.name.value = u.name;
    form.elements.contact_person.value = u.contact_person || '';
    form.elements.contact_phone.value = u.contact_phone || '';
    form.elements.active.checked = u.active;
    $('#unit-form-h').textContent = '编辑单位 ' + u.code;
    form.hidden = false; $('#unit-hint').hidden = true;
    form.elements.name.focus();
  }
  table.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-act="edit"]');
    if (button) edit(units[button.closest('tr').dataset.unit]);
  });
  $('#unit-cancel').addEventListener('click', close);
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(form);
    if (!HL.validate(form)) return;
    var code = form.elements.code.value, before = units[code];
    if (before.active && !form.elements.active.checked &&
        !window.confirm('停用 ' + before.name + '？按规则应派给它的新工单将转人工派单。')) return;
    var payload = {name: form.elements.name.value.trim(), contact_person: form.elements.contact_person.value.trim() || null,
                   contact_phone: form.elements.contact_phone.value.trim() || null, active: form.elements.active.checked};
    var save = $('#unit-save');
    save.disabled = true;
    HL.api('PATCH', '/api/admin/units/' + encodeURIComponent(code), payload).then(function (res) {
      save.disabled = false;
      if (!res.ok) {
        var fields = (res.data && res.data.fields) || {}, placed = false;
        Object.keys(fields).forEach(function (f) { if (HL.fieldError(form, f, reasonText(f, fields[f]))) placed = true; });
        if (!placed) HL.formError(form, res.status === 404 ? '单位不存在。' : HL.problemMessage(res));
        return;
      }
      HL.toast('已保存单位 ' + res.data.name);
      close();
      load();
    });
  });
  load();
})();
