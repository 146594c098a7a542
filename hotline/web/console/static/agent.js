/* The agent's page: intake during a live call, and the callback queue (回访).
 *
 * Intake is keyboard-first: the phone number comes first and, as it is typed, the caller's earlier tickets and
 * likely duplicates appear beside the form; category and territory are filterable pickers; Ctrl+Enter submits.
 */
(function () {
  'use strict';
  var form = document.getElementById('intake-form');
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var phone = $('#f-phone'), title = $('#f-title'), content = $('#f-content'), urgent = $('#f-urgent');
  var answerField = $('#answer-field'), answerClose = $('#answer-close'), result = $('#result');
  var earlierList = $('#earlier'), dupList = $('#duplicates');
  var PHONE_RE = /^\+?[0-9][0-9\- ]*$/;  // the characters only; the server checks the numbering plan
  var idemKey = newKey();
  var cat = HL.picker($('.picker[data-name=category]', form), function () { routePreview(); hintsSoon(); });
  var ter = HL.picker($('.picker[data-name=territory]', form), function () { routePreview(); slaPreview(); hintsSoon(); });

  function newKey() { return 'console-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10); }
  var esc = HL.esc;
  function kind() { var k = form.querySelector('[name=kind]:checked'); return k ? k.value : ''; }
  function digits() { return phone.value.replace(/[\s-]/g, ''); }

  // ---- tabs -------------------------------------------------------------------------------------------------
  var tabs = document.querySelectorAll('.tab');
  function showTab(name) {
    tabs.forEach(function (t) { var on = t.dataset.tab === name; t.classList.toggle('active', on); t.setAttribute('aria-selected', on); });
    $('#pane-intake').hidden = name !== 'intake';
    $('#pane-callback').hidden = name !== 'callback';
    if (name === 'intake') phone.focus();
    else { var first = $('#callback-list a.row-link'); if (first) first.focus(); }
  }
  tabs.forEach(function (t) { t.addEventListener('click', function () { showTab(t.dataset.tab); }); });

  // ---- keyboard ---------------------------------------------------------------------------------------------
  var lastEsc = 0;
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'F2') { ev.preventDefault(); showTab('intake'); return; }
    if (ev.key === 'F3') { ev.preventDefault(); showTab('callback'); return; }
    if ($('#pane-intake').hidden) return;
    if (ev.altKey && !ev.ctrlKey) {
      var k = ev.key.toLowerCase();
      if (k === 'p') { ev.preventDefault(); phone.focus(); phone.select(); }
      else if (k === 'c') { ev.preventDefault(); cat.input.focus(); }
      else if (k === 't') { ev.preventDefault(); ter.input.focus(); }
      else if (k === 'u') { ev.preventDefault(); urgent.checked = !urgent.checked; slaPreview(); }
      return;
    }
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (ev.shiftKey && !answerClose.hidden) submit(true); else submit(false);
      return;
    }
    if (ev.key === 'Escape') {
      var now = Date.now();
      if (now - lastEsc < 600) { resetForm(); lastEsc = 0; } else lastEsc = now;
    }
  });
  // Digits 1-6 pick the kind while the kind group has focus.
  $('#f-kind').addEventListener('keydown', function (ev) {
    var radio = form.querySelector('[name=kind][data-key="' + ev.key + '"]');
    if (radio) { ev.preventDefault(); radio.checked = true; radio.focus(); radio.dispatchEvent(new Event('change', {bubbles: true})); }
  });
  form.addEventListener('change', function (ev) {
    if (ev.target.name === 'kind') {
      var consult = kind() === 'consultation';
      answerField.hidden = !consult; answerClose.hidden = !consult;
      $('.err[data-for=kind]', form).textContent = '';
      slaPreview(); hintsSoon();
    }
    if (ev.target === urgent) slaPreview();
  });

  // ---- previews ---------------------------------------------------------------------------------------------
  function routePreview() {
    var el = $('#route-preview');
    if (!cat.value()) { el.textContent = '选择业务类别和属地后显示承办单位及派单依据。'; el.className = 'muted'; return; }
    var q = '?category=' + encodeURIComponent(cat.value()) + '&territory=' + encodeURIComponent(ter.value());
    HL.api('GET', '/console/route-preview' + q).then(function (res) {
      if (!res.ok) return;
      el.className = res.data.unit ? '' : 'form-error';
      el.innerHTML = (res.data.unit ? '将派至 <b>' + esc(res.data.unit_name) + '</b>。' : '') + esc(res.data.text);
    });
  }
  function slaPreview() {
    var el = $('#sla-preview');
    if (!kind()) return;
    var q = '?channel=' + encodeURIComponent($('#f-channel').value) + '&kind=' + kind() + '&urgent=' + urgent.checked +
      (ter.value() ? '&territory=' + encodeURIComponent(ter.value()) : '');  // a territory's own typhoon day counts
    HL.api('GET', '/api/sla/deadlines' + q).then(function (res) {
      if (!res.ok) { el.textContent = '时限预览暂不可用。'; return; }
      el.className = '';
      el.innerHTML = '签收时限 <b>' + HL.time(res.data.sign) + '</b>；办结时限 <b>' + HL.time(res.data.reply) + '</b>' +
        (res.data.provisional ? '（暂定）' : '') + (urgent.checked ? ' <span class="badge urgent">紧急</span>' : '');
    });
  }

  // ---- earlier tickets and duplicates ------------------------------------------------------------------------
  var hintSeq = 0;
  var REASONS = {same_phone: '同一号码', same_plate: '同一车牌', similar_text: '内容相似'};
  function renderTickets(list, items, withMerge) {
    if (!items.length) { list.innerHTML = '<li class="muted">' + (withMerge ? '未发现疑似重复工单' : '该号码没有以往工单') + '</li>'; return; }
    list.innerHTML = items.map(function (t) {
      var open = t.status !== 'closed';
      var why = (t.reasons || []).map(function (r) { return REASONS[r] || r; }).join('、');
      var sim = t.similarity != null ? '<span class="sim" title="相似度' + Math.round(t.similarity * 100) + '%">' +
        esc(why || '相似度' + Math.round(t.similarity * 100) + '%') + '</span>' : '';
      var merge = withMerge ? '<button type="button" class="merge-btn" data-into="' + esc(t.number) + '"' +
        (open ? '' : ' disabled title="已办结的工单不能并入"') + '>合并到此单</button>' : '';
      return '<li data-number="' + esc(t.number) + '"><a class="num" href="/tickets/' + encodeURIComponent(t.number) +
        '" target="_blank" rel="noopener">' + esc(t.number) + '</a><span class="badge status status-' + esc(t.status) + '">' +
        esc(HL.STATUS[t.status] || t.status) + '</span>' + sim + '<span class="t" title="' + esc(t.title) + '">' + esc(t.title) +
        '</span><small>' + esc(HL.time(t.received_at || t.created_at)) + ' ' + esc(t.unit_name || '') + '</small>' + merge + '</li>';
    }).join('');
  }
  function hints() {
    var p = digits();
    var text = (title.value + ' ' + content.value).trim();
    if (p.length < 7 && !(cat.value() && text.length >= 4)) {
      $('#earlier-count').textContent = '0'; $('#dup-count').textContent = '0';
      return;
    }
    var seq = ++hintSeq;
    var q = '?phone=' + encodeURIComponent(p.length >= 7 ? p : '') + '&category=' + encodeURIComponent(cat.value()) +
            '&territory=' + encodeURIComponent(ter.value()) + '&text=' + encodeURIComponent(text.slice(0, 200));
    HL.api('GET', '/api/tickets/hints' + q).then(function (res) {
      if (seq !== hintSeq) return;
      if (res.ok) {
        var earlier = res.data.earlier || [], dups = res.data.duplicates || [];
        renderTickets(earlierList, earlier, false); renderTickets(dupList, dups, true);
        $('#earlier-count').textContent = earlier.length; $('#dup-count').textContent = dups.length;
      } else if (res.status === 404 && p.length >= 7) {
        // Without the hints service, the caller's history still comes from the ticket list.
        HL.api('GET', '/api/tickets?limit=10&phone=' + encodeURIComponent(p)).then(function (r2) {
          if (seq !== hintSeq || !r2.ok) return;
          renderTickets(earlierList, r2.data.items || [], false);
          $('#earlier-count').textContent = (r2.data.items || []).length;
        });
      }
    });
  }
  var hintsSoon = HL.debounce(hints, 250);
  phone.addEventListener('input', hintsSoon);
  title.addEventListener('input', HL.debounce(hints, 600));
  content.addEventListener('input', HL.debounce(hints, 600));
  $('#f-channel').addEventListener('change', slaPreview);

  // ---- submit -----------------------------------------------------------------------------------------------
  function titleFrom(text) {
    var first = text.split(/[。！？!?\n；;]/)[0].trim();
    return (first || text).slice(0, 30);
  }
  function check(requireAnswer) {
    HL.clearErrors(form);
    var ok = true, first = null;
    function bad(field, message, el) { HL.fieldError(form, field, message); ok = false; first = first || el; }
    var p = phone.value.trim();
    if (!p) bad('caller.phone', '请填写来电号码（回访需要）', phone);
    else if (!PHONE_RE.test(p)) bad('caller.phone', '来电号码格式不正确，只能包含数字、空格和“-”', phone);
    if (!kind()) bad('kind', '请选择诉求类型', form.querySelector('[name=kind]'));
    if (!cat.value()) bad('category', cat.input.value.trim() ? '没有匹配的业务类别，请从列表中选择' : '请选择业务类别', cat.input);
    if (ter.input.value.trim() && !ter.value()) bad('territory', '没有匹配的属地，请从列表中选择', ter.input);
    if (!content.value.trim()) bad('content', '请填写诉求内容', content);
    if (requireAnswer && !$('#f-answer').value.trim()) bad('answer', '请填写直接答复的内容', $('#f-answer'));
    if (first) first.focus();
    return ok;
  }
  function payload() {
    var text = content.value.trim();
    var body = {channel: $('#f-channel').value, kind: kind(), category: cat.value() || null,
                territory: ter.value() || null, title: title.value.trim() || titleFrom(text), content: text,
                caller: {phone: phone.value.trim(), name: $('#f-name').value.trim() || null}, urgent: urgent.checked};
    var addr = $('#f-address').value.trim();
    if (addr) body.address = addr;
    return body;
  }
  var busy = false;
  function showResult(html, isError) {
    result.hidden = false;
    result.className = 'card' + (isError ? ' error' : '');
    result.innerHTML = html;
  }
  function created(t, extra) {
    var dl = t.deadlines || {};
    return '<h3>已受理 <a class="num" id="created-number" href="/tickets/' + encodeURIComponent(t.number) + '" target="_blank" rel="noopener">' +
      esc(t.number) + '</a></h3><p>' + esc(HL.STATUS[t.status] || t.status) +
      (t.unit_name ? '，派至 <b>' + esc(t.unit_name) + '</b>' : '') + '。' +
      (dl.sign ? '签收时限 ' + esc(HL.time(dl.sign)) + '；' : '') + (dl.reply ? '办结时限 ' + esc(HL.time(dl.reply)) + '。' : '') +
      (extra || '') + '</p>';
  }
  function createTicket(body) {
    return HL.api('POST', '/api/tickets', body, {'Idempotency-Key': idemKey});
  }
  function submit(directAnswer) {
    if (busy) return;
    if (!check(directAnswer)) return;
    busy = true;
    var buttons = form.querySelectorAll('button'); buttons.forEach(function (b) { b.disabled = true; });
    var done = function () { busy = false; buttons.forEach(function (b) { b.disabled = false; }); };
    createTicket(payload()).then(function (res) {
      if (!res.ok) { done(); if (res.status !== 401) HL.showProblem(form, res); return; }
      var t = res.data;
      if (!directAnswer) { showResult(created(t)); resetForm(); done(); return; }
      HL.api('POST', '/api/tickets/' + encodeURIComponent(t.number) + '/close',
             {answer: $('#f-answer').value.trim(), expected_version: t.version}).then(function (r2) {
        done();
        if (r2.ok) { showResult(created(r2.data, '已直接答复办结。')); resetForm(); }
        else { showResult(created(t, '<br>直接答复未能办结：' + esc(HL.problemMessage(r2)) + ' 可在工单页面继续处理。'), true); resetForm(); }
      });
    });
  }
  form.addEventListener('submit', function (ev) { ev.preventDefault(); submit(false); });
  answerClose.addEventListener('click', function () { submit(true); });

  // One click: log this call and merge it into the open ticket it repeats (重复件), keeping the record.
  dupList.addEventListener('click', function (ev) {
    var btn = ev.target.closest('.merge-btn');
    if (!btn || busy) return;
    var into = btn.dataset.into;
    HL.clearErrors(form);
    var p = phone.value.trim();
    if (!p || !PHONE_RE.test(p)) { HL.fieldError(form, 'caller.phone', '请先填写正确的来电号码'); phone.focus(); return; }
    var row = btn.closest('li'), dupTitle = row.querySelector('.t').textContent;
    var body = payload();
    body.kind = body.kind || 'complaint';
    body.title = title.value.trim() || ('重复来电：' + dupTitle).slice(0, 200);
    body.content = content.value.trim() || ('来电人反映的问题与工单' + into + '相同。');
    busy = true; btn.disabled = true;
    createTicket(body).then(function (res) {
      if (!res.ok) { busy = false; btn.disabled = false; HL.showProblem(form, res); return; }
      var t = res.data;
      HL.api('POST', '/api/tickets/' + encodeURIComponent(t.number) + '/merge', {into: into, expected_version: t.version}).then(function (r2) {
        busy = false;
        if (r2.ok) { showResult('<h3>已合并</h3><p>本次来电登记为 <a class="num" id="created-number" href="/tickets/' + encodeURIComponent(t.number) + '">' + esc(t.number) +
          '</a>，作为重复件并入 <a class="num" href="/tickets/' + encodeURIComponent(into) + '">' + esc(into) + '</a>。</p>'); resetForm(); }
        else { showResult(created(t, '<br>合并未完成：' + esc(HL.problemMessage(r2))), true); btn.disabled = false; }
      });
    });
  });

  function resetForm() {
    form.reset();
    cat.set(''); ter.set('');
    answerField.hidden = true; answerClose.hidden = true;
    HL.clearErrors(form);
    idemKey = newKey();
    earlierList.innerHTML = '<li class="muted">输入来电号码后显示该号码以往工单。</li>';
    dupList.innerHTML = '<li class="muted">根据号码、类别、属地和内容查找相似的在办工单。</li>';
    $('#earlier-count').textContent = '0'; $('#dup-count').textContent = '0';
    $('#route-preview').textContent = '选择业务类别和属地后显示承办单位及派单依据。'; $('#route-preview').className = 'muted';
    $('#sla-preview').textContent = '选择诉求类型后显示签收、办结时限。'; $('#sla-preview').className = 'muted';
    phone.focus();
  }
  form.addEventListener('reset', function () { setTimeout(function () { cat.set(''); ter.set(''); }, 0); });

  // ---- callback queue ---------------------------------------------------------------------------------------
  var cbList = $('#callback-list');
  var cb = HL.panel($('#panel'), [cbList], {focus: true});
  function cbCount() { var q = $('#callback-queue'); $('#callback-count').textContent = q ? q.dataset.count : '0'; }
  cbList.addEventListener('hl:refreshed', cbCount);
  var refreshCallbacks = HL.debounce(function (data) { cb.onTicketEvent(data); }, 250);
  HL.live(function (type, data) {
    if (type === 'ticket') refreshCallbacks(data);
  }, cb.refreshAll);
  setInterval(cb.refreshAll, 60000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) cb.refreshAll(); });
  if (location.hash === '#callback') showTab('callback');
  HL.ready();
})();
