/* Territories: the display name of each district or county (the GB/T 2260 code stays), read and changed through
 * /api/admin/territories as any API client's. A change tells the page ('hl:reference'): the other tabs' choices
 * follow (admin_choices.js). */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var esc = HL.esc, table = $('#territories-table'), form = $('#territory-form');
  if (!table || !form) return;
  var territories = {};
  function reasonText(reason) {
    if (/needs a name/.test(reason)) return '请输入属地名称';
    if (/length|at most/i.test(reason)) return '名称过长（最多100字）';
    return '名称填写有误';
  }
  function rowHTML(t) {
    var c = esc(t.code);
    return '<tr data-territory="' + c + '"><td class="nowrap"><code>' + c + '</code></td><td class="territory-name">' + esc(t.name) +
      '</td><td>' + (t.parent_name ? esc(t.parent_name) : '<span class="muted">—</span>') + '</td><td>' + t.units +
      '</td><td class="acts"><button type="button" class="ghost" data-act="edit" aria-label="改名 ' + esc(t.name) + '">改名</button></td></tr>';
  }
  function load() {
    return HL.api('GET', '/api/admin/territories').then(function (res) {
      var body = table.tBodies[0];
      if (!res.ok) { body.innerHTML = '<tr class="empty"><td colspan="5">' + esc(HL.problemMessage(res)) + '</td></tr>'; return; }
      territories = {};
      res.data.items.forEach(function (t) { territories[t.code] = t; });
      body.innerHTML = res.data.items.map(rowHTML).join('');
      table.dataset.loaded = '1';
    });
  }
  function close() { form.reset(); HL.clearErrors(form); form.hidden = true; $('#territory-hint').hidden = false; }
  function edit(t) {
    HL.clearErrors(form);
    form.elements.code.value = t.code;
    form.elements.name.value = t.name;
    $('#territory-form-h').textContent = '修改属地名称 ' + t.code;
    form.hidden = false; $('#territory-hint').hidden = true;
    form.elements.name.focus();
  }
  table.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-act="edit"]');
    if (button) edit(territories[button.closest('tr').dataset.territory]);
  });
  $('#territory-cancel').addEventListener('click', close);
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(form);
    if (!HL.validate(form)) return;
    var code = form.elements.code.value, save = $('#territory-save');
    save.disabled = true;
    HL.api('PATCH', '/api/admin/territories/' + encodeURIComponent(code), {name: form.elements.name.value.trim()}).then(function (res) {
      save.disabled = false;
      if (!res.ok) {
        var fields = (res.data && res.data.fields) || {};
        if (!(fields.name && HL.fieldError(form, 'name', reasonText(fields.name))))
          HL.formError(form, res.status === 404 ? '属地不存在。' : HL.problemMessage(res));
        return;
      }
      HL.toast('已保存属地 ' + res.data.name);
      close();
      load();
      document.dispatchEvent(new CustomEvent('hl:reference'));
    });
  });
  document.addEventListener('hl:choices', function () { if (table.dataset.loaded) load(); });
  load();
})();
