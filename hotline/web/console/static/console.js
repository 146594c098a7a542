/* Hotline console: shared helpers for every page (plain JS, no build step, no network beyond this server).
 *
 * HL.api        JSON calls to /api with the session cookie and the CSRF header; 401 sends the user to sign in.
 * HL.live       the live feed (server-sent events) with a status light and a polling fallback while it is down.
 * HL.refresh    re-draws a server-rendered fragment in place (the same template as the first render).
 * HL.bindForms  lifecycle action forms: client checks in Chinese, POST, errors next to the field.
 * HL.picker     keyboard-first filterable pickers (category, territory).
 * HL.ready      the page has its data: body[data-ready] for scripts, a User Timing mark for the browser tests.
 * countdowns    working-time countdowns that tick while office hours run.
 */
(function () {
  'use strict';
  var HL = window.HL = {};
  var CSRF = {'X-Requested-With': 'hotline-console'};
  var body = document.body;
  HL.daySeconds = parseInt(body.dataset.daySeconds || '27000', 10);
  // The mark records the moment itself, so a test's figure is not the time its own round trips took to notice.
  HL.ready = function () {
    body.dataset.ready = '1';
    if (window.performance && performance.mark) performance.mark('hotline:ready');
  };

  // ---- words -------------------------------------------------------------------------------------------------
  HL.STATUS = {pending_dispatch: '待派单', dispatched: '待签收', in_progress: '办理中', return_requested: '退单待审',
               replied: '已答复待回访', closed: '已办结'};
  HL.ACTION_DONE = {sign: '已签收', reply: '已提交答复', note: '已保存办理记录', 'request-extension': '已提交延期申请',
                    'return': '已提交退单申请', dispatch: '已派单', 'decide-return': '已完成退单审核',
                    'decide-extension': '已完成延期审批', urge: '已催办', callback: '已提交回访结果', close: '已答复办结',
                    reject: '已不予受理', merge: '已合并'};
  var FIELD = {'caller.phone': '来电号码', 'caller.name': '来电人', title: '标题', content: '内容', category: '业务类别',
               territory: '属地', kind: '诉求类型', channel: '受理渠道', address: '地址', unit: '承办单位', reason: '理由',
               text: '记录内容', note: '意见', working_days: '延期工作日数', until: '延至日期', outcome: '办理结果',
               satisfaction: '满意度', resolved: '解决情况', contacted: '联系情况', answer: '答复内容', into: '目标工单',
               accept: '审核结果', approve: '审批结果', from: '起始日期', to: '截止日期', group_by: '分组'};
  var REASON = [
    [/required|missing required/i, '为必填项'],
    [/too short to be a phone/i, '位数太少，不是可回访的号码'],
    [/too long to be a phone/i, '位数太多，不是可回访的号码'],
    [/not a Chinese mobile/i, '不是有效的手机号、带区号的固定电话或服务号码'],
    [/pattern|phone/i, '格式不正确'],
    [/unknown channel/i, '不是有效的受理渠道'],
    [/unknown kind/i, '不是有效的诉求类型'],
    [/unknown category/i, '不是有效的业务类别'],
    [/unknown unit|not a known/i, '不是有效的承办单位'],
    [/must differ/i, '不能是申请退单的原单位'],
    [/already holds/i, '工单已在该单位办理'],
    [/after the current|not later than the current/i, '应晚于当前办结时限'],
    [/not a working day/i, '应为工作日（周末和法定节假日不能作为延至日期）'],
    [/suspended/i, '：工单已挂起，请先恢复办理'],
    [/exactly one of/i, '请填写延期工作日数或延至日期（二选一）'],
    [/blank/i, '不能为空'],
    [/length|characters/i, '长度超出限制'],
    [/unknown ticket/i, '编号不存在'],
    [/must be open/i, '目标工单已办结，只能并入在办工单'],
    [/another ticket/i, '不能并入本工单'],
    [/>=|<=|between/i, '超出允许范围'],
    [/not no_answer when contacted|no_answer when not contacted/i, '与联系情况不符'],
    [/phone channel/i, '坐席只能登记电话渠道'],
    [/offset|date|datetime/i, '日期格式不正确']
  ];
  HL.fieldMessage = function (field, reason) {
    var label = FIELD[field] || field;
    for (var i = 0; i < REASON.length; i++) if (REASON[i][0].test(reason || '')) return label + REASON[i][1];
    return label + '填写有误';
  };
  HL.problemMessage = function (res) {
    var d = res.data || {};
    if (res.status === 0) return '无法连接服务器，请检查网络后重试。';
    if (res.status === 403) return '无权进行此操作。';
    if (res.status === 404) return '工单不存在或不在您的办理范围内。';
    if (res.status === 409) {
      var allowed = (d.allowed_actions || []).map(function (a) { return HL.ACTION_LABEL[a] || a; });
      var now = d.ticket_status ? '当前状态：' + (HL.STATUS[d.ticket_status] || d.ticket_status) + '。' : '';
      if (/already waiting/.test(d.detail || '')) return '已有一项延期申请正在审批中。';
      if (/no pending extension/.test(d.detail || '')) return '该工单没有待审批的延期申请。';
      return '工单已被他人处理或状态已变化，操作未执行。' + now + (allowed.length ? '现在可以：' + allowed.join('、') + '。' : '') + '页面已刷新。';
    }
    if (res.status === 429) return '操作过于频繁，请稍后再试。';
    if (res.status >= 500) return '服务器出错，请稍后重试；如持续出现请联系系统管理员。';
    return '提交的内容有误，请按提示修改。';
  };
  HL.ACTION_LABEL = {sign: '签收', reply: '答复', note: '办理记录', 'request-extension': '申请延期', 'return': '退单',
                     dispatch: '派单', 'decide-return': '退单审核', 'decide-extension': '延期审批', urge: '催办',
                     callback: '回访', close: '直接答复', reject: '不予受理', merge: '合并'};

  // ---- time --------------------------------------------------------------------------------------------------
  var fmt = new Intl.DateTimeFormat('zh-CN', {timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit',
                                              hour: '2-digit', minute: '2-digit', hour12: false});
  HL.time = function (iso) { return iso ? fmt.format(new Date(iso)).replace(/\//g, '-') : ''; };
  HL.duration = function (seconds, working) {
    var s = Math.floor(Math.abs(seconds)), d, h, m;
    if (working && s >= HL.daySeconds) { d = Math.floor(s / HL.daySeconds); h = Math.floor((s % HL.daySeconds) / 3600); return d + '个工作日' + (h ? h + '小时' : ''); }
    if (!working && s >= 86400) { d = Math.floor(s / 86400); return d + '天' + Math.floor((s % 86400) / 3600) + '小时'; }
    h = Math.floor(s / 3600); m = Math.floor((s % 3600) / 60);
    if (h) return h + '小时' + m + '分';
    return m ? m + '分钟' : '不足1分钟';
  };
  HL.countdownText = function (seconds, working, pastDue) {
    if (pastDue && Math.abs(seconds) < 60) return '已超时';
    return (seconds < 0 || pastDue ? '已超时' : '剩余') + HL.duration(seconds, working);
  };
  // Countdowns: the server says how much working time is left and whether it is passing now (office hours).
  var lastTick = Date.now();
  setInterval(function () {
    var now = Date.now(), elapsed = (now - lastTick) / 1000;
    lastTick = now;
    document.querySelectorAll('.cd[data-ticking="1"]').forEach(function (el) {
      var before = parseFloat(el.dataset.remaining), after = before - elapsed;
      el.dataset.remaining = after;
      var text = el.querySelector('.cd-text');
      if (after < 0) el.dataset.pastDue = '1';
      if (text) text.textContent = HL.countdownText(after, el.dataset.working === '1', el.dataset.pastDue === '1');
      if (before >= 0 && after < 0) { el.classList.remove('step-ok', 'step-warning'); el.classList.add('step-overdue'); }
    });
  }, 5000);

  // ---- toast -------------------------------------------------------------------------------------------------
  var toastTimer;
  HL.toast = function (message, isError) {
    var el = document.getElementById('toast');
    if (!el) return;
    el.textContent = message;
    el.className = 'toast' + (isError ? ' error' : '');
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, isError ? 7000 : 3500);
  };

  // ---- API ---------------------------------------------------------------------------------------------------
  HL.toLogin = function () {
    if (HL.signingOut) return;  // the sign-out itself ends the live feed: its own redirect is the one to follow
    location.assign('/login?expired=1&next=' + encodeURIComponent(location.pathname));
  };
  HL.api = function (method, path, payload, headers) {
    var opts = {method: method, credentials: 'same-origin', headers: Object.assign({'Accept': 'application/json'}, headers || {})};
    if (method !== 'GET') Object.assign(opts.headers, CSRF);
    if (payload !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(payload); }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { HL.toLogin(); return {ok: false, status: 401, data: {}}; }
      var type = r.headers.get('content-type') || '';
      var parse = type.indexOf('json') >= 0 ? r.json() : r.text();
      return parse.then(function (data) { return {ok: r.ok, status: r.status, data: data}; });
    }, function () { return {ok: false, status: 0, data: {}}; });
  };
  // Text for innerHTML built from data: everything a user or peer system typed goes through this.
  HL.esc = function (s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  };
  HL.getHTML = function (path) {
    return fetch(path, {credentials: 'same-origin', headers: {'Accept': 'text/html'}}).then(function (r) {
      if (r.status === 401) { HL.toLogin(); return null; }
      return r.text().then(function (t) { return {ok: r.ok, status: r.status, html: t}; });
    }, function () { return null; });
  };

  // ---- fragments ---------------------------------------------------------------------------------------------
  // Re-draw a container from its data-src; keep the selected row and mark rows that were not there before.
  HL.refresh = function (el) {
    if (!el || !el.dataset.src) return Promise.resolve();
    if (el._loading) { el._again = true; return el._loading; }
    var before = {};
    el.querySelectorAll('[data-number]').forEach(function (r) { before[r.dataset.number] = true; });
    var hadRows = Object.keys(before).length > 0 || el.dataset.loaded;
    el._loading = HL.getHTML(el.dataset.src).then(function (res) {
      el._loading = null;
      if (res && res.ok) {
        var selected = el.querySelector('.row.selected');
        el.innerHTML = res.html;
        el.dataset.loaded = '1';
        if (selected) { var again = el.querySelector('.row[data-number="' + selected.dataset.number + '"]'); if (again) again.classList.add('selected'); }
        if (hadRows) el.querySelectorAll('.row[data-number]').forEach(function (r) { if (!before[r.dataset.number]) r.classList.add('fresh'); });
        el.dispatchEvent(new CustomEvent('hl:refreshed', {bubbles: true}));
      }
      if (el._again) { el._again = false; return HL.refresh(el); }
    });
    return el._loading;
  };
  HL.debounce = function (fn, ms) {
    var t;
    return function () { var args = arguments, self = this; clearTimeout(t); t = setTimeout(function () { fn.apply(self, args); }, ms); };
  };

  // ---- live feed ---------------------------------------------------------------------------------------------
  // Others on the page that follow the same feed (the bell: notify.js), without a second stream.
  HL.liveListeners = [];
  HL.live = function (onEvent, onPoll) {
    var status = document.getElementById('live-status');
    var pollTimer = null, source = null, retry = 2000;
    function set(state, text) { if (status) { status.dataset.state = state; status.textContent = '实时：' + text; } }
    function startPolling() {
      if (pollTimer || !onPoll) return;
      pollTimer = setInterval(onPoll, 15000);
    }
    function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }
    function connect() {
      source = new EventSource('/api/live');
      source.onopen = function () {
        retry = 2000; set('connected', '已连接'); stopPolling();
        body.dataset.live = 'connected';
        if (onPoll && source._dropped) onPoll();  // catch up on what happened while disconnected
      };
      source.onerror = function () {
        set('offline', '重连中（每15秒自动刷新）');
        body.dataset.live = 'offline';
        source._dropped = true;
        startPolling();
        if (source.readyState === EventSource.CLOSED) {
          // The server refused the stream (expired session, or no feed): check the session, then try again later.
          HL.api('GET', '/api/auth/me').then(function () {
            setTimeout(connect, retry); retry = Math.min(retry * 2, 60000);
          });
        }
      };
      ['ticket', 'escalation', 'notification'].forEach(function (type) {
        source.addEventListener(type, function (ev) {
          var data = {};
          try { data = JSON.parse(ev.data); } catch (e) { /* keep going */ }
          onEvent(type, data);
          HL.liveListeners.forEach(function (fn) { fn(type, data); });
        });
      });
      source.onmessage = function (ev) {
        var data = {};
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        if (data && data.type) onEvent(data.type, data);
      };
    }
    connect();
    window.addEventListener('beforeunload', function () { if (source) source.close(); });
  };

  // ---- forms -------------------------------------------------------------------------------------------------
  HL.clearErrors = function (form) {
    form.querySelectorAll('.err').forEach(function (e) { e.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(function (e) { e.removeAttribute('aria-invalid'); });
    var fe = form.querySelector('.form-error');
    if (fe) { fe.hidden = true; fe.textContent = ''; }
  };
  HL.fieldError = function (form, field, message) {
    var slot = form.querySelector('.err[data-for="' + field + '"]');
    var input = form.querySelector('[name="' + field + '"]:not([type=hidden])') ||
                (field.indexOf('.') > 0 ? form.querySelector('[name="' + field.split('.').pop() + '"]') : null);
    if (input) input.setAttribute('aria-invalid', 'true');
    if (slot) { slot.textContent = message; return true; }
    return false;
  };
  HL.formError = function (form, message) {
    var fe = form.querySelector('.form-error');
    if (fe) { fe.textContent = message; fe.hidden = false; } else HL.toast(message, true);
  };
  HL.showProblem = function (form, res) {
    var fields = (res.data && res.data.fields) || {};
    var placed = false;
    Object.keys(fields).forEach(function (f) {
      if (HL.fieldError(form, f, HL.fieldMessage(f, fields[f]))) placed = true;
    });
    if (!placed || res.status !== 422) HL.formError(form, HL.problemMessage(res));
  };
  function visible(el) { return !el.disabled && !el.closest('[hidden]'); }
  // Client checks: required fields and radio groups, with the Chinese message each field carries.
  HL.validate = function (form) {
    var ok = true, first = null, seen = {};
    form.querySelectorAll('[required]').forEach(function (el) {
      if (!visible(el) || seen[el.name]) return;
      seen[el.name] = true;
      var empty = el.type === 'radio' ? !form.querySelector('[name="' + el.name + '"]:checked') : !String(el.value).trim();
      if (empty) {
        var group = el.closest('[data-required-msg]');
        var msg = el.dataset.msg || (group && group.dataset.requiredMsg) || ((FIELD[el.name] || '此项') + '为必填项');
        HL.fieldError(form, el.name, msg);
        ok = false; first = first || el;
      }
    });
    var group = form.querySelectorAll('[data-group="ext"]');
    if (group.length) {
      var filled = Array.prototype.filter.call(group, function (el) { return el.value; }).length;
      if (filled !== 1) { HL.fieldError(form, 'working_days', '请填写延期工作日数或延至日期（二选一）'); ok = false; first = first || group[0]; }
    }
    if (first) first.focus();
    return ok;
  };
  HL.formJSON = function (form) {
    var out = {};
    form.querySelectorAll('[name]').forEach(function (el) {
      if (!visible(el)) return;
      var v;
      if (el.type === 'radio') { if (!el.checked) return; v = el.value; }
      else if (el.type === 'checkbox') v = el.checked;
      else { v = String(el.value).trim(); if (v === '') return; }
      if (el.dataset.type === 'bool' && typeof v === 'string') v = v === 'true';
      if (el.dataset.type === 'int') v = parseInt(v, 10);
      out[el.name] = v;
    });
    return out;
  };
  // Sections shown only for one answer of a radio group (data-show-if="name=value").
  HL.bindConditional = function (root) {
    root.querySelectorAll('form').forEach(function (form) {
      var parts = form.querySelectorAll('[data-show-if]');
      if (!parts.length) return;
      function apply() {
        parts.forEach(function (p) {
          var kv = p.dataset.showIf.split('='), checked = form.querySelector('[name="' + kv[0] + '"]:checked');
          var show = checked && checked.value === kv[1];
          p.hidden = !show;
          p.querySelectorAll('input,select,textarea').forEach(function (i) { i.disabled = !show; });
        });
      }
      form.addEventListener('change', apply);
      apply();
    });
  };
  // Lifecycle action forms (data-action): one POST per form, the ticket's version guards against a stale screen.
  HL.bindForms = function (root, onDone) {
    HL.bindConditional(root);
    root.querySelectorAll('form[data-action]').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        HL.clearErrors(form);
        if (!HL.validate(form)) return;
        var payload = HL.formJSON(form);
        payload.expected_version = parseInt(form.dataset.version, 10);
        var button = form.querySelector('button[type=submit]');
        if (button) button.disabled = true;
        var action = form.dataset.action, number = form.dataset.number;
        HL.api('POST', '/api/tickets/' + encodeURIComponent(number) + '/' + action, payload).then(function (res) {
          if (button) button.disabled = false;
          if (res.ok) {
            HL.toast((HL.ACTION_DONE[action] || '已完成') + '：' + number + '（' + (HL.STATUS[res.data.status] || '') + '）');
            if (onDone) onDone(number, action, res.data);
          } else if (res.status !== 401) {
            HL.showProblem(form, res);
            if (res.status === 409 && onDone) setTimeout(function () { onDone(number, action, null); }, 1800);
          }
        });
      });
    });
  };

  // ---- pickers -----------------------------------------------------------------------------------------------
  // A text box that filters a list by name or code; arrows move, Enter or Tab picks, Esc closes.
  HL.picker = function (root, onPick) {
    var input = root.querySelector('.picker-input'), hidden = root.querySelector('input[type=hidden]');
    var list = root.querySelector('.picker-list'), items = Array.prototype.slice.call(list.querySelectorAll('li'));
    var active = -1;
    function shown() { return items.filter(function (li) { return !li.hidden; }); }
    function highlight(i) {
      var s = shown();
      items.forEach(function (li) { li.classList.remove('active'); li.removeAttribute('aria-selected'); });
      if (!s.length) { active = -1; return; }
      active = Math.max(0, Math.min(i, s.length - 1));
      s[active].classList.add('active'); s[active].setAttribute('aria-selected', 'true');
      s[active].scrollIntoView({block: 'nearest'});
    }
    function open() { list.hidden = false; input.setAttribute('aria-expanded', 'true'); }
    function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); }
    function filter() {
      var q = input.value.trim().toLowerCase();
      items.forEach(function (li) { li.hidden = q !== '' && li.dataset.search.toLowerCase().indexOf(q) < 0; });
      highlight(0);
    }
    function pick(li) {
      hidden.value = li ? li.dataset.value : '';
      input.value = li ? li.firstChild.textContent : '';
      root.querySelector('.err').textContent = '';
      input.removeAttribute('aria-invalid');
      close();
      if (onPick) onPick(hidden.value);
    }
    function settle() {
      // Leaving the box: an exact or single match counts as picked; anything else is cleared.
      var q = input.value.trim();
      if (!q) { if (hidden.value) pick(null); return; }
      var exact = items.filter(function (li) { return li.firstChild.textContent === q || li.dataset.value === q; });
      var s = shown();
      if (exact.length) pick(exact[0]);
      else if (s.length === 1) pick(s[0]);
      else if (!items.some(function (li) { return li.dataset.value === hidden.value && li.firstChild.textContent === q; })) {
        hidden.value = '';
        root.querySelector('.err').textContent = '没有匹配的选项，请从列表中选择';
        input.setAttribute('aria-invalid', 'true');
        if (onPick) onPick('');
      }
    }
    input.addEventListener('focus', function () { filter(); open(); });
    input.addEventListener('input', function () { filter(); open(); });
    input.addEventListener('keydown', function (ev) {
      var s = shown();
      if (ev.ctrlKey || ev.metaKey || ev.altKey) { if (!list.hidden) { settle(); close(); } return; }  // page shortcuts
      if (ev.key === 'ArrowDown') { ev.preventDefault(); open(); highlight(active + 1); }
      else if (ev.key === 'ArrowUp') { ev.preventDefault(); highlight(active - 1); }
      else if (ev.key === 'Enter') { if (!list.hidden && s[active]) { ev.preventDefault(); pick(s[active]); } }
      else if (ev.key === 'Tab') { if (!list.hidden && input.value.trim() && s[active]) pick(s[active]); else { settle(); close(); } }
      else if (ev.key === 'Escape') { if (!list.hidden) { ev.preventDefault(); ev.stopPropagation(); close(); } }
    });
    input.addEventListener('blur', function () { setTimeout(function () { if (!list.hidden) { settle(); close(); } }, 120); });
    list.addEventListener('mousedown', function (ev) {
      var li = ev.target.closest('li');
      if (li) { ev.preventDefault(); pick(li); }
    });
    return {
      set: function (code) { pick(items.filter(function (li) { return li.dataset.value === code; })[0] || null); },
      value: function () { return hidden.value; },
      input: input
    };
  };

  // ---- list + panel pages (handler, dispatcher, agent callbacks) ---------------------------------------------
  HL.panel = function (panel, lists, options) {
    options = options || {};
    var current = null;
    function load(number) {
      current = number;
      lists.forEach(function (l) {
        l.querySelectorAll('.row').forEach(function (r) { r.classList.toggle('selected', r.dataset.number === number); });
      });
      // Until the chosen ticket is drawn, the old one cannot be acted on by mistake.
      panel.setAttribute('aria-busy', 'true');
      return HL.getHTML('/console/fragments/ticket/' + encodeURIComponent(number)).then(function (res) {
        if (!res || current !== number) return;
        panel.removeAttribute('aria-busy');
        if (!res.ok) {
          panel.innerHTML = '<p class="muted placeholder">' + (res.status === 404 ? '工单不存在或已不在您的办理范围内。' : '加载失败，请重试。') + '</p>';
          return;
        }
        panel.innerHTML = res.html;
        HL.bindForms(panel, function (n) { refreshAll(); if (current === n) load(n); });
        var first = panel.querySelector('form[data-action] button[type=submit], form[data-action] summary');
        if (first && options.focus !== false) first.focus({preventScroll: true});
      });
    }
    function refreshAll() { return Promise.all(lists.map(HL.refresh)); }
    lists.forEach(function (l) {
      l.addEventListener('click', function (ev) {
        var a = ev.target.closest('a.row-link');
        if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
        ev.preventDefault();
        load(a.closest('.row').dataset.number);
      });
      l.addEventListener('keydown', function (ev) {
        if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
        var links = Array.prototype.slice.call(document.querySelectorAll('.list-col a.row-link'));
        var i = links.indexOf(document.activeElement);
        if (i < 0) return;
        ev.preventDefault();
        var next = links[i + (ev.key === 'ArrowDown' ? 1 : -1)];
        if (next) next.focus();
      });
    });
    return {
      load: load,
      current: function () { return current; },
      refreshAll: refreshAll,
      onTicketEvent: function (data) {
        refreshAll();
        if (current && data && data.number === current) {
          var art = panel.querySelector('article.ticket');
          if (!art || String(art.dataset.version) !== String(data.version)) load(current);
        }
      }
    };
  };

  // A field's error goes away as soon as the user changes that field.
  function clearOwnError(ev) {
    var el = ev.target;
    if (!el || !el.closest) return;
    var field = el.closest('.field');
    if (!field || !(el.getAttribute('aria-invalid') || (field.querySelector('.err') || {}).textContent)) return;
    el.removeAttribute('aria-invalid');
    field.querySelectorAll('.err').forEach(function (e) { e.textContent = ''; });
  }
  document.addEventListener('input', clearOwnError);
  document.addEventListener('change', function (ev) {
    // Text boxes also fire 'change' on leaving them, after a picker may have just said what is wrong.
    var t = ev.target;
    if (t && (t.tagName === 'SELECT' || t.type === 'radio' || t.type === 'checkbox')) clearOwnError(ev);
  });

  // ---- session -----------------------------------------------------------------------------------------------
  var logout = document.getElementById('logout');
  if (logout) logout.addEventListener('click', function () {
    logout.disabled = true;
    HL.signingOut = true;
    HL.api('POST', '/api/auth/logout').then(function () { location.assign('/login'); });
  });
  var expires = parseInt(body.dataset.expires || '0', 10) * 1000;
  if (expires) {
    var wait = expires - Date.now();
    if (wait < 2147483000) setTimeout(HL.toLogin, Math.max(0, wait) + 500);
  }
})();
