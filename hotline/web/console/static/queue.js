/* Work queues with a ticket panel: the handler's unit queue and the dispatcher's lists.
 * The lists are server-rendered; the live feed tells us when to re-draw them, and a minute's refresh keeps the
 * working-time countdowns measured by the server.
 * Keyboard (listed behind ?, _shortcuts.html): j/↓ and k/↑ open the next and previous ticket of the list shown,
 * s signs the open ticket, r puts the cursor in its reply; none of them while typing in a field. */
(function () {
  'use strict';
  var panel = document.getElementById('panel');
  var lists = ['handler-list', 'dispatcher-list'].map(function (id) { return document.getElementById(id); }).filter(Boolean);
  var p = HL.panel(panel, lists);
  // The dispatcher's four lists share one column: one tab shown at a time, kept across live re-draws.
  var shownGroup = 'pending-group';
  function showGroup(id) {
    var root = document.getElementById('dispatcher-list');
    if (!root) return;
    shownGroup = id || shownGroup;
    root.querySelectorAll('.group').forEach(function (g) { g.hidden = g.id !== shownGroup; });
    root.querySelectorAll('.group-tabs [data-group]').forEach(function (b) {
      var on = b.dataset.group === shownGroup;
      b.classList.toggle('active', on); b.setAttribute('aria-selected', on);
    });
  }
  lists.forEach(function (l) {
    l.addEventListener('click', function (ev) {
      var tab = ev.target.closest('.group-tabs [data-group]');
      if (tab) showGroup(tab.dataset.group);
    });
    l.addEventListener('hl:refreshed', function () { showGroup(); });
  });
  showGroup();
  var refreshSoon = HL.debounce(function (data) { p.onTicketEvent(data); }, 250);
  var CLOCK = {sign: '签收', reply: '办结', callback: '回访'}, STEP = {warning: '即将到期（预警）', overdue: '已超期', supervision: '已列入督办'};
  HL.live(function (type, data) {
    if (type === 'ticket' || type === 'escalation') refreshSoon(data);
    if (type === 'escalation' && data.number && STEP[data.step]) {
      HL.toast('工单 ' + data.number + ' ' + (CLOCK[data.clock] || '') + '时限' + STEP[data.step], data.step !== 'warning');
    }
  }, p.refreshAll);
  setInterval(p.refreshAll, 60000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) p.refreshAll(); });
  if (location.hash.length > 1) p.load(decodeURIComponent(location.hash.slice(1)));
  shortcuts(p);
  HL.ready();

  function shortcuts(p) {
    var help = document.getElementById('shortcut-help');
    if (!help) return;
    var before = null;
    function toggleHelp(show) {
      if (show === undefined) show = help.hidden;
      if (show) { before = document.activeElement; help.hidden = false; document.getElementById('shortcut-close').focus(); }
      else { help.hidden = true; if (before && before.focus) before.focus({preventScroll: true}); }
    }
    document.getElementById('shortcut-close').addEventListener('click', function () { toggleHelp(false); });
    help.addEventListener('click', function (ev) { if (ev.target === help) toggleHelp(false); });
    document.querySelectorAll('[data-shortcuts]').forEach(function (b) {
      b.addEventListener('click', function () { toggleHelp(true); });
    });
    // The rows a user can see: the handler's queue, or the dispatcher's list whose tab is open.
    function rows() {
      return Array.prototype.filter.call(document.querySelectorAll('.list-col .row[data-number]'), function (r) {
        return r.offsetParent !== null;
      });
    }
    function move(step) {
      var all = rows();
      if (!all.length) { HL.toast('列表中没有工单'); return; }
      var at = all.findIndex(function (r) { return r.dataset.number === p.current(); });
      var next = all[at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step))];
      next.scrollIntoView({block: 'nearest'});
      if (next.dataset.number !== p.current()) p.load(next.dataset.number);
    }
    function inPanel(selector, missing) {
      var el = panel.querySelector('article.ticket') && panel.getAttribute('aria-busy') !== 'true' && panel.querySelector(selector);
      if (!el) { HL.toast(p.current() ? missing : '请先选择工单（j/k 切换）'); return null; }
      return el;
    }
    var KEYS = {
      j: function () { move(1); }, ArrowDown: function () { move(1); },
      k: function () { move(-1); }, ArrowUp: function () { move(-1); },
      s: function () {
        var button = inPanel('form[data-action=sign] button[type=submit]', '该工单当前不能签收');
        if (button) button.click();
      },
      r: function () {
        var box = inPanel('form[data-action=reply] textarea[name=content]', '该工单当前不能答复');
        if (box) { box.scrollIntoView({block: 'center'}); box.focus(); }
      }
    };
    document.addEventListener('keydown', function (ev) {
      if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
      var t = ev.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (ev.key === 'Escape') {
        if (!help.hidden) { ev.preventDefault(); toggleHelp(false); } else if (typing) t.blur();
        return;
      }
      if (typing) return;
      if (ev.key === '?') { ev.preventDefault(); toggleHelp(); return; }
      if (!help.hidden || ev.shiftKey || !KEYS[ev.key]) return;
      ev.preventDefault();
      KEYS[ev.key]();
    });
  }
})();
