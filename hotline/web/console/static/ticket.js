/* The ticket page: the same panel as the queues, full width, re-drawn when the live feed reports a change to it.
 * 打印办理单 prints it as one A4 page (print.css): the facts, deadlines, reply and timeline, without forms or buttons. */
(function () {
  'use strict';
  var holder = document.getElementById('panel');
  var number = holder.dataset.number;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function stamp() {
    var d = new Date(), at = document.getElementById('printed-at');
    if (at) at.textContent = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  stamp();
  window.addEventListener('beforeprint', stamp);
  document.getElementById('print-ticket').addEventListener('click', function () { stamp(); window.print(); });
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
