/* The administrator's page: accounts (list, search, create, edit, deactivate/reactivate, reset password, unlock)
 * and routing rules with a trial of the live router. Every change goes through /api/admin, as any API client's. */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var esc = HL.esc;
  var root = $('#admin'), self = root.dataset.self;
  HL.unitNames = JSON.parse(root.dataset.unitNames || '{}');  // every unit's name; admin_choices.js keeps it current
  var ROLE = {agent: '坐席', handler: '承办单位', dispatcher: '派单员', manager: '管理', admin: '系统管理员', integration: '接口'};
  var WHAT = {'account.create': '新建账号', 'account.change': '修改账号', 'account.reset_password': '重置密码',
              'account.unlock': '解除登录限制'};
  var FIELD = {username: '用户名', display_name: '姓名', role: '角色', unit: '承办单位', channel: '受理渠道',
               active: '状态', category: '业务类别', territory: '属地'};
  function optionText(select, value) {
    var o = select.querySelector('option[value="' + (window.CSS && CSS.escape ? CSS.escape(value) : value) + '"]');
    return o ? o.textContent : value;
  }
  function reasonText(field, reason) {
    var label = FIELD[field] || field;
    if (/already taken/.test(reason)) return label + '已被使用';
    if (/pattern|expected `str` matching/i.test(reason)) return label + '只能用小写字母、数字和 . - _（2到40位）';
    if (/needs a unit/.test(reason)) return '承办单位账号须选择单位，其他角色不设单位';
    if (/needs a channel/.test(reason)) return '接口账号须选择渠道，其他角色不设渠道';
    if (/own account/.test(reason)) return '不能停用或降级自己的账号';
    if (/reserved/.test(reason)) return label + '为系统保留';
    if (/unknown/.test(reason)) return label + '不存在';
    return label + '填写有误';
  }
  function showErrors(form, res) {
    var fields = (res.data && res.data.fields) || {}, placed = false;
    Object.keys(fields).forEach(function (f) { if (HL.fieldError(form, f, reasonText(f, fields[f]))) placed = true; });
    if (!placed) HL.formError(form, res.status === 404 ? '账号不存在。' : HL.problemMessage(res));
  }

  // ---- tabs ----------------------------------------------------------------------------------------------------
  var tabs = document.querySelectorAll('.admin-tabs .tab');
  function show(name) {
    tabs.forEach(function (t) { var on = t.dataset.tab === name; t.classList.toggle('active', on); if (on) t.setAttribute('aria-current', 'page'); else t.removeAttribute('aria-current'); });
    document.querySelectorAll('.admin-pane').forEach(function (p) { p.hidden = p.id !== name; });
  }
  tabs.forEach(function (t) { t.addEventListener('click', function (ev) { ev.preventDefault(); history.replaceState(null, '', '#' + t.dataset.tab); show(t.dataset.tab); }); });
  var first = (location.hash || '#accounts').slice(1);
  show(['units', 'territories', 'routing', 'sla', 'calendar'].indexOf(first) >= 0 ? first : 'accounts');

  // ---- accounts ------------------------------------------------------------------------------------------------
  var table = $('#accounts-table'), search = $('#account-search'), form = $('#account-form');
  var unitSelect = $('#f-unit'), channelSelect = $('#f-channel');
  var rows = {};
  function where(a) {
    if (a.unit) return esc(HL.unitNames[a.unit] || optionText(unitSelect, a.unit));
    if (a.channel) return esc(optionText(channelSelect, a.channel));
    return '<span class="muted">—</span>';
  }
  function state(a) {
    var out = a.active ? '<span class="badge status-in_progress">启用</span>' : '<span class="badge muted-badge">已停用</span>';
    if (a.locked_seconds) out += ' <span class="badge step-overdue">登录受限 ' + a.locked_seconds + ' 秒</span>';
    if (a.must_change_password) out += ' <span class="badge">待改密码</span>';
    return out;
  }
  function rowHTML(a) {
    var u = esc(a.username), mine = a.username === self;
    return '<tr data-username="' + u + '"><td class="nowrap"><code>' + u + '</code></td><td>' + esc(a.display_name) +
      '</td><td>' + esc(ROLE[a.role] || a.role) + '</td><td>' + where(a) + '</td><td>' + state(a) + '</td><td class="acts">' +
      '<button type="button" class="ghost" data-act="edit">编辑</button>' +
      (mine ? '' : a.active ? '<button type="button" class="danger" data-act="deactivate">停用</button>'
                            : '<button type="button" data-act="activate">启用</button>') +
      '<button type="button" class="ghost" data-act="reset">重置密码</button>' +
      (a.locked_seconds ? '<button type="button" data-act="unlock">解除限制</button>' : '') + '</td></tr>';
  }
  function loadAccounts() {
    var q = new URLSearchParams();
    if (search.elements.q.value.trim()) q.set('q', search.elements.q.value.trim());
    if (search.elements.role.value) q.set('role', search.elements.role.value);
    if (search.elements.active.value) q.set('active', search.elements.active.value);
    return HL.api('GET', '/api/admin/accounts?' + q.toString()).then(function (res) {
      var body = table.tBodies[0];
      if (!res.ok) { body.innerHTML = '<tr class="empty"><td colspan="6">' + esc(HL.problemMessage(res)) + '</td></tr>'; return; }
      rows = {};
      res.data.items.forEach(function (a) { rows[a.username] = a; });
      body.innerHTML = res.data.items.length ? res.data.items.map(rowHTML).join('')
        : '<tr class="empty"><td colspan="6">没有符合条件的账号</td></tr>';
      table.dataset.loaded = '1';
    });
  }
  function loadChanges() {
    return HL.api('GET', '/api/admin/events?what=account.&limit=8').then(function (res) {
      var list = $('#changes');
      if (!res.ok) { list.innerHTML = '<li class="muted">' + esc(HL.problemMessage(res)) + '</li>'; return; }
      list.innerHTML = res.data.items.length ? res.data.items.map(function (e) {
        var detail = '';
        if (e.what === 'account.change' && e.before && e.after) {
          detail = Object.keys(e.after).filter(function (k) { return JSON.stringify(e.before[k]) !== JSON.stringify(e.after[k]); })
            .map(function (k) {
              var v = function (x) { return k === 'active' ? (x ? '启用' : '停用') : k === 'role' ? (ROLE[x] || x) : (x == null ? '无' : x); };
              return (FIELD[k] || k) + '：' + v(e.before[k]) + ' → ' + v(e.after[k]);
            }).join('；');
        }
        return '<li><span class="t">' + esc(HL.time(e.at)) + '</span> ' + esc(e.actor) + ' ' + esc(WHAT[e.what] || e.what) +
          ' <code>' + esc(e.subject) + '</code>' + (detail ? '<br><small class="muted">' + esc(detail) + '</small>' : '') + '</li>';
      }).join('') : '<li class="muted">暂无变更</li>';
    });
  }
  function refresh() { return Promise.all([loadAccounts(), loadChanges()]); }
  search.addEventListener('submit', function (ev) { ev.preventDefault(); loadAccounts(); });
  document.addEventListener('hl:choices', function () { if (table.dataset.loaded) loadAccounts(); });
  search.elements.role.addEventListener('change', loadAccounts);
  search.elements.active.addEventListener('change', loadAccounts);

  function roleFields() {
    var role = form.elements.role.value;
    $('#f-unit-field').hidden = role !== 'handler';
    $('#f-channel-field').hidden = role !== 'integration';
  }
  form.elements.role.addEventListener('change', roleFields);
  function resetForm() {
    form.reset(); form.elements.editing.value = ''; HL.clearErrors(form);
    unitSelect.querySelectorAll('option[data-stale]').forEach(function (o) { o.remove(); });
    form.elements.username.readOnly = false;
    $('#account-form-h').textContent = '新建账号'; $('#account-save').textContent = '创建账号';
    $('#account-cancel').hidden = true; roleFields();
  }
  $('#account-cancel').addEventListener('click', resetForm);
  function edit(a) {
    resetForm();
    form.elements.editing.value = a.username;
    form.elements.username.value = a.username; form.elements.username.readOnly = true;
    form.elements.display_name.value = a.display_name; form.elements.role.value = a.role;
    if (a.unit && !unitSelect.querySelector('option[value="' + (window.CSS && CSS.escape ? CSS.escape(a.unit) : a.unit) + '"]')) {
      // A unit since deactivated: the account keeps it (it can still be renamed or deactivated), no new one gets it.
      unitSelect.insertAdjacentHTML('beforeend', '<option value="' + esc(a.unit) + '" data-stale>' +
        esc((HL.unitNames[a.unit] || a.unit) + '（已停用）') + '</option>');
    }
    unitSelect.value = a.unit || ''; channelSelect.value = a.channel || '';
    $('#account-form-h').textContent = '编辑账号 ' + a.username; $('#account-save').textContent = '保存修改';
    $('#account-cancel').hidden = false; roleFields();
    form.elements.display_name.focus();
  }
  function showSecret(username, password) {
    $('#secret-user').textContent = username; $('#secret-password').textContent = password;
    $('#secret').hidden = false; $('#secret-close').focus();
  }
  $('#secret-close').addEventListener('click', function () { $('#secret').hidden = true; $('#secret-password').textContent = ''; });

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(form);
    if (!HL.validate(form)) return;
    var role = form.elements.role.value, editing = form.elements.editing.value;
    var payload = {display_name: form.elements.display_name.value.trim(), role: role,
                   unit: role === 'handler' ? (unitSelect.value || null) : null,
                   channel: role === 'integration' ? (channelSelect.value || null) : null};
    if (role === 'handler' && !payload.unit) { HL.fieldError(form, 'unit', '承办单位账号须选择单位'); return; }
    if (role === 'integration' && !payload.channel) { HL.fieldError(form, 'channel', '接口账号须选择渠道'); return; }
    var call;
    if (editing) call = HL.api('PATCH', '/api/admin/accounts/' + encodeURIComponent(editing), payload);
    else {
      payload.username = form.elements.username.value.trim();
      if (!payload.unit) delete payload.unit;
      if (!payload.channel) delete payload.channel;
      call = HL.api('POST', '/api/admin/accounts', payload);
    }
    call.then(function (res) {
      if (!res.ok) { showErrors(form, res); return; }
      HL.toast(editing ? '已保存账号 ' + editing : '已创建账号 ' + res.data.username);
      if (!editing && res.data.password) showSecret(res.data.username, res.data.password);
      resetForm(); refresh();
    });
  });

  table.addEventListener('click', function (ev) {
    var button = ev.target.closest('button[data-act]');
    if (!button) return;
    var username = button.closest('tr').dataset.username, a = rows[username], act = button.dataset.act;
    var path = '/api/admin/accounts/' + encodeURIComponent(username), call;
    if (act === 'edit') { edit(a); return; }
    if (act === 'deactivate') {
      if (!window.confirm('停用账号 ' + username + '？其已登录的页面将立即退出。')) return;
      call = HL.api('PATCH', path, {active: false});
    } else if (act === 'activate') call = HL.api('PATCH', path, {active: true});
    else if (act === 'reset') {
      if (!window.confirm('为 ' + username + ' 重置密码？原密码将失效。')) return;
      call = HL.api('POST', path + '/reset-password');
    } else if (act === 'unlock') call = HL.api('POST', path + '/unlock');
    button.disabled = true;
    call.then(function (res) {
      button.disabled = false;
      if (!res.ok) {
        var fields = (res.data && res.data.fields) || {}, f = Object.keys(fields)[0];
        HL.toast(f ? reasonText(f, fields[f]) : HL.problemMessage(res), true); return;
      }
      if (act === 'reset') showSecret(username, res.data.password);
      HL.toast({deactivate: '已停用 ', activate: '已启用 ', reset: '已重置密码：', unlock: '已解除登录限制：'}[act] + username);
      refresh();
    });
  });

  // ---- routing -------------------------------------------------------------------------------------------------
  var test = $('#route-test');
  test.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(test);
    if (!HL.validate(test)) return;
    var q = new URLSearchParams({category: test.elements.category.value});
    if (test.elements.territory.value) q.set('territory', test.elements.territory.value);
    HL.api('GET', '/api/admin/routing-test?' + q.toString()).then(function (res) {
      if (!res.ok) { showErrors(test, res); return; }
      var d = res.data;
      $('#route-unit').textContent = d.unit ? (d.unit_name || d.unit) : '不自动派单，转人工派单';
      $('#route-rule').textContent = d.rule ? '规则 #' + d.rule.id + '（' + optionText(test.elements.category, d.rule.category) + '，' +
        (d.rule.territory === '*' ? '任意属地' : optionText(test.elements.territory, d.rule.territory)) + '）' : '没有匹配的规则';
      document.querySelectorAll('#rules-table tr.current').forEach(function (r) { r.classList.remove('current'); });
      var hit = d.rule && document.querySelector('#rules-table tr[data-rule="' + d.rule.id + '"]');
      if (hit) { hit.classList.add('current'); }
      $('#route-result').hidden = false;
      $('#route-result').dataset.rule = d.rule ? d.rule.id : '';
    });
  });

  // The live feed ends when this account is deactivated or changed: the page then goes to sign-in.
  HL.live(function () {}, null);
  refresh().then(HL.ready);
})();

/* SLA policies: the version in force as a table whose limits can be edited, a preview (the diff and how many
 * running clocks would move) before saving as a new version with a reason, and the past versions. */
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };
  var esc = HL.esc, pane = $('#sla');
  if (!pane) return;
  var names = JSON.parse(pane.dataset.names), table = $('#sla-table'), form = $('#sla-form');
  var current = null, previewed = null;
  function name(kind, code) { return code === '*' ? '全部' : (names[kind][code] || code); }
  function urgent(v) { return v === '*' ? '全部' : v ? '紧急' : '非紧急'; }
  function limitText(r) { return r.limit + (names.unit[r.unit] || r.unit); }
  function draw(doc) {
    table.tBodies[0].innerHTML = doc.policy.map(function (r, i) {
      var units = Object.keys(names.unit).map(function (u) {
        return '<option value="' + u + '"' + (u === r.unit ? ' selected' : '') + '>' + esc(names.unit[u]) + '</option>';
      }).join('');
      return '<tr data-id="' + esc(r.id) + '" data-i="' + i + '"><td><code>' + esc(r.id) + '</code></td><td>' + esc(name('clock', r.clock)) +
        '</td><td>' + esc(name('channel', r.channel)) + '</td><td>' + esc(name('kind', r.kind)) + '</td><td>' + urgent(r.urgent) +
        '</td><td><input type="number" class="sla-limit" min="0" step="any" value="' + esc(r.limit) + '" aria-label="' + esc(r.id) + ' 时限"></td>' +
        '<td><select class="sla-unit" aria-label="' + esc(r.id) + ' 单位">' + units + '</select></td></tr>';
    }).join('');
  }
  function edited() {
    var rows = current.policy.map(function (r, i) {
      var tr = table.querySelector('tr[data-i="' + i + '"]');
      var limit = parseFloat(tr.querySelector('.sla-limit').value);
      return Object.assign({}, r, {limit: isNaN(limit) ? tr.querySelector('.sla-limit').value : limit, unit: tr.querySelector('.sla-unit').value});
    });
    return {defaults: current.defaults, policy: rows};
  }
  function load() {
    return Promise.all([HL.api('GET', '/api/admin/sla-policies'), HL.api('GET', '/api/admin/sla-policies/versions')]).then(function (res) {
      if (!res[0].ok) { table.tBodies[0].innerHTML = '<tr class="empty"><td colspan="7">' + esc(HL.problemMessage(res[0])) + '</td></tr>'; return; }
      current = res[0].data;
      $('#sla-version').textContent = 'v' + current.version;
      $('#sla-made').textContent = current.created_by ? current.created_by + ' 于 ' + HL.time(current.created_at) + (current.reason ? '：' + current.reason : '') : '初始配置';
      draw(current);
      if (res[1].ok) $('#sla-versions').innerHTML = res[1].data.items.map(function (v) {
        var state = v.recompute_requested ? (v.recompute_done_at ? '，已重算在办时限' : '，正在重算在办时限') : '';
        return '<li data-version="' + v.version + '"><b>v' + v.version + '</b> <span class="t">' + esc(v.created_by || '初始配置') + ' ' + esc(HL.time(v.created_at)) +
          esc(state) + '</span>' + (v.reason ? '<br><small class="muted">' + esc(v.reason) + '</small>' : '') + '</li>';
      }).join('');
      table.dataset.version = current.version;
    });
  }
  function invalidate() { previewed = null; $('#sla-save').disabled = true; }
  table.addEventListener('input', invalidate);
  table.addEventListener('change', invalidate);
  function problem(res) {
    var fields = (res.data && res.data.fields) || {};
    var rows = Object.keys(fields).filter(function (f) { return /^policy\[\d+\]$/.test(f); });
    rows.forEach(function (f) {
      var tr = table.querySelector('tr[data-i="' + f.match(/\d+/)[0] + '"]');
      if (tr) tr.querySelector('.sla-limit').setAttribute('aria-invalid', 'true');
    });
    if (fields.reason) HL.fieldError(form, 'reason', '修改理由过长（最多500字）');
    else if (rows.length || fields.policy) HL.fieldError(form, 'policy', '标红的规则时限不正确：须大于0，且不超出可计算的范围');
    else HL.formError(form, res.status === 409 ? '规则已被他人修改，页面已刷新，请重新修改。' : HL.problemMessage(res));
    if (res.status === 409) load();
  }
  function clearMarks() { table.querySelectorAll('[aria-invalid]').forEach(function (e) { e.removeAttribute('aria-invalid'); }); }
  $('#sla-preview').addEventListener('click', function () {
    HL.clearErrors(form); clearMarks();
    var doc = edited();
    HL.api('POST', '/api/admin/sla-policies/preview', doc).then(function (res) {
      if (!res.ok) { problem(res); return; }
      var d = res.data;
      $('#sla-diff').innerHTML = d.diff.length ? d.diff.map(function (c) {
        var text = c.change === 'changed' && c.before && c.after && c.id !== 'defaults' ? limitText(c.before) + ' → ' + limitText(c.after) : {added: '新增', removed: '删除', changed: '修改'}[c.change];
        return '<li data-id="' + esc(c.id) + '"><code>' + esc(c.id) + '</code> ' + esc(text) + '</li>';
      }).join('') : '<li class="muted">与当前版本相同，没有变更</li>';
      $('#sla-count').textContent = '在办计时 ' + d.open_clocks + ' 个，重新计算后 ' + d.would_move + ' 个时限将改变' + (d.would_skip ? '（' + d.would_skip + ' 个已挂起或恢复过的计时不重算）' : '') + '。';
      $('#sla-count').dataset.wouldMove = d.would_move;
      $('#sla-preview-result').hidden = false;
      previewed = d.diff.length ? doc : null;
      $('#sla-save').disabled = !previewed;
    });
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    HL.clearErrors(form);
    if (!previewed || !HL.validate(form)) return;
    var q = new URLSearchParams({expected_version: current.version, recompute_open: $('#sla-recompute').checked ? 'true' : 'false'});
    var body = Object.assign({}, previewed, {reason: form.elements.reason.value.trim()});
    HL.api('PUT', '/api/admin/sla-policies?' + q.toString(), body).then(function (res) {
      if (!res.ok) { problem(res); return; }
      HL.toast('已保存为新版本 v' + res.data.version + (res.data.recompute_open ? '，正在重算在办工单时限' : ''));
      form.reset(); $('#sla-recompute').checked = true; invalidate(); $('#sla-preview-result').hidden = true;
      load();
    });
  });
  load();
})();
