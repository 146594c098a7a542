/* Work queues with a ticket panel: the handler's unit queue and the dispatcher's lists.
 * The lists are server-rendered; the live feed tells us when to re-draw them, and a minute's refresh keeps the
 * working-time countdowns measured by the server. */
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
  HL.ready();
})();
