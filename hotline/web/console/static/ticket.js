/* The ticket page: the same panel as the queues, full width, re-drawn when the live feed reports a change to it. */
(function () {
  'use strict';
  var holder = document.getElementById('panel');
  var number = holder.dataset.number;
  function reload() {
    return HL.getHTML('/console/fragments/ticket/' + encodeURIComponent(number) + '?full=true').then(function (res) {
      if (!res || !res.ok) return;
      holder.innerHTML = res.html;
      HL.bindForms(holder, function () { reload(); });
    });
  }
  HL.bindForms(holder, function () { reload(); });
  HL.live(function (type, data) {
    if (type === 'ticket' && data.number === number) {
      var art = holder.querySelector('article.ticket');
      if (!art || String(art.dataset.version) !== String(data.version)) reload();
    }
  }, reload);
  HL.ready();
})();
