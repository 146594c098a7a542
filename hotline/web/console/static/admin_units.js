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
      document.dispatchEvent(new CustomEvent('hl:reference'));  // the other tabs' unit choices follow
    });
  });
  document.addEventListener('hl:choices', function () { if (table.dataset.loaded) load(); });  // a territory renamed
  load();
})();

/* Routing rules: add, change (saved as a successor rule with a new id), deactivate, reactivate; the tables are
 * redrawn from /api/admin/routing-rules (and .../deactivated) after each change, and the trial above them answers
 * from the live router. */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var esc = HL.esc, table = $('#rules-table'), form = $('#rule-form');
  if (!table || !form) return;
  var bureau = form.dataset.bureau;
  var FIELD = {category: '业务类别', territory: '属地', unit: '承办单位', active: '状态'};
  function reasonText(field, reason) {
    var overlap = /overlaps rule #(\d+)/.exec(reason);
    if (overlap) return '与规则 #' + overlap[1] + ' 重叠（同一业务类别和属地只能有一条规则）：请修改或停用那一条';
    if (/unknown|not a known/.test(reason)) return (FIELD[field] || field) + '不存在或已停用';
    return (FIELD[field] || field) + '填写有误';
  }
  function rowHTML(r) {
    var unit = r.unit_name || (r.unit === bureau ? '属地交通运输局' : r.unit);
    return '<tr data-rule="' + r.id + '" data-category="' + esc(r.category) + '" data-territory="' + esc(r.territory) +
      '" data-unit="' + esc(r.unit) + '"><td>' + r.order + '</td><td>#' + r.id + '</td><td>' + esc(r.category_name) +
      '</td><td>' + esc(r.territory_name || '任意属地') + '</td><td>' + esc(unit) + '</td><td class="acts">' +
      '<button type="button" class="ghost" data-act="edit" aria-label="修改规则 #' + r.id + '">修改</button>' +
      '<button type="button" class="danger" data-act="deactivate" aria-label="停用规则 #' + r.id + '">停用</button></td></tr>';
  }
  var off = $('#rules-off');
  function offHTML(r) {
    var unit = r.unit_name || (r.unit === bureau ? '属地交通运输局' : r.unit);
    return '<tr data-rule="' + r.id + '"><td>#' + r.id + '</td><td>' + esc(r.category_name) + '</td><td>' +
      esc(r.territory_name || '任意属地') + '</td><td>' + esc(unit) + '</td><td>' +
      (r.in_force ? '<span class="muted">同类别同属地现行规则 #' + r.in_force + '</span>' : '<span class="badge muted-badge">已停用</span>') +
      '</td><td class="acts"><button type="button" data-act="activate" aria-label="重新启用规则 #' + r.id + '"' +
      (r.in_force ? ' disabled title="请先停用规则 #' + r.in_force + '"' : '') + '>重新启用</button></td></tr>';
  }
  function loadOff() {
    return HL.api('GET', '/api/admin/routing-rules/deactivated').then(function (res) {
      var body = off.tBodies[0];
      if (!res.ok) { body.innerHTML = '<tr class="empty"><td colspan="6">' + esc(HL.problemMessage(res)) + '</td></tr>'; return; }
      body.innerHTML = res.data.items.length ? res.data.items.map(offHTML).join('')
        : '<tr class="empty"><td colspan="6">没有已停用的规则</td></tr>';
      off.dataset.loaded = '1';
    });
  }
  function load() {
    return Promise.all([HL.api('GET', '/api/admin/routing-rules').then(function (res) {
      if (res.ok) table.tBodies[0].innerHTML = res.data.items.map(rowHTML).join('');
    }), loadOff()]);
  }
  off.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-act="activate"]');
    if (!button) return;
    var id = button.closest('tr').dataset.rule;
    button.disabled = true;
    HL.api('PATCH', '/api/admin/routing-rules/' + id, {active: true}).then(function (res) {
      if (!res.ok) {
        button.disabled = false;
        var fields = (res.data && res.data.fields) || {}, f = Object.keys(fields)[0];
        HL.toast(f ? reasonText(f, fields[f]) : HL.problemMessage(res), true);
        return;
      }
      HL.toast('已重新启用规则 #' + id);
      load().then(function () { table.dataset.saved = id; });
    });
  });
  document.addEventListener('hl:choices', load);  // a unit or territory renamed: the names in both tables
  loadOff();
  function reset() {
    form.reset(); HL.clearErrors(form); form.elements.editing.value = '';
    $('#rule-form-h').textContent = '新增规则'; $('#rule-save').textContent = '新增规则'; $('#rule-cancel').hidden = true;
  }
  $('#rule-cancel').addEventListener('click', reset);
  function showErrors(res) {
    var fields = (res.data && res.data.fields) || {}, placed = false;
    Object.keys(fields).forEach(function (f) { if (HL.fieldError(form, f, reasonText(f, fields[f]))) placed = true; });
    if (!placed) HL.formError(form, res.status === 404 ? '规则不存在。' : HL.problemMessage(res));
  }
  table.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-act]');
    if (!button) return;
    var tr = button.closest('tr'), id = tr.dataset.rule;
    if (button.dataset.act === 'edit') {
      reset();
      form.elements.editing.value = id;
      form.elements.category.value = tr.dataset.category;
      form.elements.territory.value = tr.dataset.territory;
      form.elements.unit.value = tr.dataset.unit;
      $('#rule-form-h').textContent = '修改规则 #' + id; $('#rule-save').textContent = '保存修改'; $('#rule-cancel').hidden = false;
      form.elements.category.focus();
      return;
    }
    if (!window.confirm('停用规则 #' + id + '？该业务类别和属地的工单将按下一条规则派单，没有规则时转人工派单。')) return;
    button.disabled = true;
    HL.api('PATCH', '/api/admin/routing-rules/' + id, {active: false}).then(function (res) {
      button.disabled = false;
      if (!res.ok) { HL.toast(HL.problemMessage(res), true); return; }
      HL.toast('已停用规则 #' + id);
      load();
    });
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(form);
    if (!HL.validate(form)) return;
    var editing = form.elements.editing.value;
    var payload = {category: form.elements.category.value, territory: form.elements.territory.value, unit: form.elements.unit.value};
    var call = editing ? HL.api('PATCH', '/api/admin/routing-rules/' + editing, payload) : HL.api('POST', '/api/admin/routing-rules', payload);
    call.then(function (res) {
      if (!res.ok) { showErrors(res); return; }
      HL.toast(editing ? (res.data.replaces ? '已保存：规则 #' + res.data.replaces + ' 由新规则 #' + res.data.id + ' 取代' : '已保存规则 #' + res.data.id)
                       : '已新增规则 #' + res.data.id);
      reset();
      load().then(function () { table.dataset.saved = res.data.id; });
    });
  });
})();
