/* The choices of every /admin tab kept current without a page reload: each <select data-choices="units"> (active
 * units) or data-choices="territories" is redrawn from /api/admin/units and /api/admin/territories, keeping its
 * options marked data-fixed and the value chosen. It runs when this page changed a unit or territory
 * ('hl:reference'), when another tab is opened, and when the window comes back into view (a change made in another
 * window); when a name or the active units changed, it tells the tables that show them ('hl:choices'). */
(function () {
  'use strict';
  var root = document.getElementById('admin');
  if (!root) return;
  var esc = HL.esc, pending = null, again = false, seen = null;
  function fill(select, items) {
    var value = select.value;
    select.querySelectorAll('option:not([data-fixed])').forEach(function (o) { o.remove(); });
    select.insertAdjacentHTML('beforeend', items.map(function (i) {
      return '<option value="' + esc(i.code) + '">' + esc(i.name) + '</option>';
    }).join(''));
    select.value = value;
    if (select.value !== value) select.value = '';  // the unit chosen was deactivated meanwhile
  }
  function byCode(a, b) { return a.code < b.code ? -1 : a.code > b.code ? 1 : 0; }
  function refresh() {
    if (pending) { again = true; return pending; }  // one at a time; a change meanwhile reads again after
    pending = Promise.all([HL.api('GET', '/api/admin/units'), HL.api('GET', '/api/admin/territories')]).then(function (res) {
      if (res[0].ok) {
        var active = res[0].data.items.filter(function (u) { return u.active; }).sort(byCode);
        document.querySelectorAll('select[data-choices="units"]').forEach(function (s) { fill(s, active); });
        HL.unitNames = {};
        res[0].data.items.forEach(function (u) { HL.unitNames[u.code] = u.name; });
      }
      if (res[1].ok) {
        var all = res[1].data.items.slice().sort(byCode);
        document.querySelectorAll('select[data-choices="territories"]').forEach(function (s) { fill(s, all); });
      }
      var now = JSON.stringify([res[0].data, res[1].data]), changed = seen !== null && now !== seen;
      seen = now;
      root.dataset.choices = String((parseInt(root.dataset.choices || '0', 10) || 0) + 1);
      if (changed) document.dispatchEvent(new CustomEvent('hl:choices'));
    }).then(function () {
      pending = null;
      if (again) { again = false; return refresh(); }
    }, function () { pending = null; });
    return pending;
  }
  HL.refreshChoices = refresh;
  document.addEventListener('hl:reference', refresh);
  document.querySelectorAll('.admin-tabs .tab').forEach(function (t) { t.addEventListener('click', refresh); });
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') refresh(); });
  window.addEventListener('focus', refresh);
  refresh();  // what the page was drawn with, to tell a later change by
})();
