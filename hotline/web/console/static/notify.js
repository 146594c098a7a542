/* The bell in the header (站内通知): the unread count, the list of the user's notifications (GET /api/notifications),
 * mark-read, live notices for what concerns this user (a new dispatch, an urge, an extension or return decision, an
 * escalation step), and optional desktop notifications (the browser's Notification API, asked once). */
(function () {
  'use strict';
  var bell = document.getElementById('bell');
  if (!bell) return;
  var count = document.getElementById('bell-count'), panel = document.getElementById('bell-panel');
  var list = document.getElementById('bell-list'), desktopBtn = document.getElementById('bell-desktop');
  var body = document.body, role = body.dataset.role, unit = body.dataset.unit || null;
  var ASKED = 'hotline:desktop-notifications-asked';

  function setUnread(n) {
    bell.dataset.unread = String(n);
    count.textContent = n > 99 ? '99+' : String(n);
    count.hidden = n === 0;
    bell.setAttribute('aria-label', n ? '通知（' + n + '条未读）' : '通知');
  }
  function item(n) {
    var esc = HL.esc;
    return '<li data-id="' + n.id + '" class="' + (n.read ? 'read' : 'unread') + '"><a href="' +
      (n.ticket ? '/tickets/' + encodeURIComponent(n.ticket) : '#') + '">' + esc(n.title) + '<small>' +
      esc(HL.time(n.created_at)) + (n.read ? '' : ' · 未读') + '</small></a></li>';
  }
  function load() {
    return HL.api('GET', '/api/notifications?limit=30').then(function (res) {
      if (!res.ok) return;
      setUnread(res.data.unread);
      var items = res.data.items || [];
      list.innerHTML = items.length ? items.map(item).join('') : '<li class="muted">暂无通知</li>';
      panel.dataset.loaded = '1';
    });
  }
  var loadSoon = HL.debounce(load, 500);

  function toggle(open) {
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) { load(); showDesktopButton(); }
  }
  bell.addEventListener('click', function (ev) { ev.stopPropagation(); toggle(panel.hidden); });
  document.addEventListener('click', function (ev) {
    if (!panel.hidden && !panel.contains(ev.target)) toggle(false);
  });
  document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && !panel.hidden) toggle(false); });
  list.addEventListener('click', function (ev) {
    var li = ev.target.closest('li[data-id]');
    if (!li) return;
    var link = li.querySelector('a'), href = link ? link.getAttribute('href') : '#';
    ev.preventDefault();
    HL.api('POST', '/api/notifications/' + li.dataset.id + '/read').then(function () {
      if (href && href !== '#') location.assign(href); else load();
    });
  });
  document.getElementById('bell-read-all').addEventListener('click', function () {
    HL.api('POST', '/api/notifications/read', {all: true}).then(function (res) {
      if (res.ok) { setUnread(res.data.unread); load(); }
    });
  });

  // ---- desktop notifications: offered once, on the user's click (browsers ask only on a gesture) -------------
  function canAsk() {
    return 'Notification' in window && Notification.permission === 'default' && !localStorage.getItem(ASKED);
  }
  function showDesktopButton() { desktopBtn.hidden = !canAsk(); }
  desktopBtn.addEventListener('click', function () {
    localStorage.setItem(ASKED, '1');
    desktopBtn.hidden = true;
    Notification.requestPermission();
  });
  function desktop(text, number) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      var n = new Notification('交通运输服务热线', {body: text, tag: number ? 'ticket-' + number : undefined});
      n.onclick = function () { window.focus(); if (number) location.assign('/tickets/' + encodeURIComponent(number)); };
    } catch (e) { /* some browsers allow them only from a service worker */ }
  }

  // ---- live notices ------------------------------------------------------------------------------------------
  var stack = document.getElementById('notices');
  function notice(text, number, level) {
    var el = document.createElement('div');
    el.className = 'notice' + (level ? ' ' + level : '');
    el.textContent = text;
    if (number) el.dataset.number = number;
    el.addEventListener('click', function () {
      if (number) location.assign('/tickets/' + encodeURIComponent(number)); else el.remove();
    });
    stack.appendChild(el);
    while (stack.children.length > 4) stack.removeChild(stack.firstChild);
    setTimeout(function () { el.remove(); }, 10000);
    desktop(text, number);
  }
  var CLOCK = {sign: '签收', reply: '办结', callback: '回访', dispatch: '派单'};
  var STEP = {warning: ['预警', '时限即将届满', 'warn'], overdue: ['超期', '已超过时限', 'alert'],
    supervision: ['督办', '超期未办，已转入督办', 'alert']};
  // What a ticket message means to this user, or null: handlers hear of their unit's tickets, dispatchers of
  // what waits for their decision.
  function ticketText(d) {
    var n = '工单 ' + d.number;
    if (role === 'handler' && unit) {
      var mine = d.unit === unit;
      if (d.action === 'decide-return' && d.returned_by === unit) {
        return d.accept ? ['退单已同意：' + n + ' 已改派', 'info'] : ['退单未同意：' + n + ' 退回本单位继续办理', 'warn'];
      }
      if (mine && d.status === 'dispatched' && (d.action === 'create' || d.action === 'dispatch' || d.action === 'decide-return')) {
        return ['新派单：' + n + ' 已派至本单位，请及时签收', 'info'];
      }
      if (mine && d.action === 'urge') return ['催办：' + n + ' 被催办，请加快办理', 'alert'];
      if (mine && d.action === 'decide-extension') {
        return d.approve ? ['延期申请已批准：' + n, 'info'] : ['延期申请未批准：' + n + '，请按原时限办结', 'warn'];
      }
      return null;
    }
    if (role === 'dispatcher') {
      if (d.action === 'create' && d.status === 'pending_dispatch') return ['新工单待派单：' + n, 'info'];
      if (d.action === 'return') return ['退单待审：' + n, 'warn'];
      if (d.action === 'request-extension') return ['延期待审批：' + n, 'warn'];
    }
    return null;
  }
  HL.liveListeners.push(function (type, d) {
    if (type === 'ticket') {
      var t = ticketText(d);
      if (t) notice(t[0], d.number, t[1] === 'info' ? '' : t[1]);
      if (t && role === 'handler') loadSoon();  // a handler's notices are stored too (the bell's list)
    } else if (type === 'escalation' || type === 'notification') {
      var told = d.notify || [];
      if (told.indexOf(role) < 0 || (role === 'handler' && d.unit !== unit)) return;
      var s = STEP[d.step];
      if (s) notice(s[0] + '：工单 ' + d.number + ' ' + (CLOCK[d.clock] || '') + s[1], d.number, s[2]);
      loadSoon();
    }
  });
  load();
  setInterval(function () { if (!document.hidden) load(); }, 60000);
})();
