"use strict";
// The citizen page: the web form and the progress check, both through the public JSON endpoints. Every message a
// citizen reads is Chinese; server field names are mapped to the fields on the page.
(function () {
  var MOBILE = /^1[3-9]\d{9}$/, LANDLINE = /^0\d{2,3}-?\d{7,8}$/;
  var location_ = null;

  function $(id) { return document.getElementById(id); }
  function digitsOf(phone) { return phone.replace(/[\s\-]/g, '').replace(/^\+86/, ''); }

  function setError(form, field, message) {
    var err = form.querySelector('.c-err[data-for="' + field + '"]');
    if (!err) return false;
    err.textContent = message || '';
    var group = err.closest('fieldset');
    var input = group ? null : err.closest('.c-field').querySelector('input, select, textarea');
    if (group) { if (message) group.setAttribute('aria-invalid', 'true'); else group.removeAttribute('aria-invalid'); }
    if (input) { if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid'); }
    return true;
  }

  function clearErrors(form, alertId) {
    form.querySelectorAll('.c-err').forEach(function (e) { setError(form, e.getAttribute('data-for'), ''); });
    $(alertId).hidden = true;
  }

  function focusFirstError(form) {
    var err = Array.prototype.find.call(form.querySelectorAll('.c-err'), function (e) { return e.textContent; });
    if (!err) return;
    var target = err.closest('.c-field').querySelector('input, select, textarea');
    if (target) target.focus();
  }

  function showAlert(id, text) { var el = $(id); el.textContent = text; el.hidden = false; }

  function waitText(body, response) {
    var seconds = (body && body.retry_after) || Number(response.headers.get('Retry-After')) || 60;
    return '请稍后再试（约 ' + seconds + ' 秒后）。';
  }

  function send(method, url, body) {
    var init = {method: method, headers: {'Accept': 'application/json'}};
    if (body) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) { return {r: r, data: data}; });
    });
  }

  // --- submitting a case ------------------------------------------------------------------------------------------
  var form = $('submit-form');
  var FIELD_TEXT = {kind: '请选择诉求类型', title: '请填写标题（200字以内）', content: '请填写具体内容（5000字以内）',
                    category: '请重新选择问题类别', territory: '请重新选择发生地', address: '地址请控制在300字以内',
                    'caller.phone': '请填写11位手机号码，或带区号的固定电话', 'caller.name': '称呼请控制在50字以内'};

  function checkForm() {
    var ok = true, kind = form.querySelector('input[name=kind]:checked');
    function need(field, bad) { if (bad) { setError(form, field, FIELD_TEXT[field]); ok = false; } }
    need('kind', !kind);
    need('title', !$('f-title').value.trim());
    need('content', !$('f-content').value.trim());
    var phone = digitsOf($('f-phone').value.trim());
    need('caller.phone', !(MOBILE.test(phone) || LANDLINE.test(phone)));
    return ok;
  }

  $('f-locate').addEventListener('click', function () {
    var status = $('f-location-status');
    if (!navigator.geolocation) { status.textContent = '此浏览器不支持定位，请填写详细地址。'; return; }
    status.textContent = '正在获取位置……';
    navigator.geolocation.getCurrentPosition(function (pos) {
      location_ = {lat: Math.round(pos.coords.latitude * 1e6) / 1e6, lng: Math.round(pos.coords.longitude * 1e6) / 1e6};
      status.textContent = '已附上位置（纬度 ' + location_.lat + '，经度 ' + location_.lng + '）。';
      $('f-unlocate').hidden = false;
    }, function () {
      location_ = null;
      status.textContent = '未能获取位置（未同意或定位不可用），请填写详细地址。';
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
  $('f-unlocate').addEventListener('click', function () {
    location_ = null;
    $('f-location-status').textContent = '未附上位置。';
    $('f-unlocate').hidden = true;
    $('f-locate').focus();
  });

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors(form, 'submit-error');
    if (!checkForm()) { focusFirstError(form); return; }
    var value = function (id) { return $(id).value.trim() || null; };
    var body = {kind: form.querySelector('input[name=kind]:checked').value, category: value('f-category'),
                territory: value('f-territory'), title: $('f-title').value.trim(), content: $('f-content').value.trim(),
                address: value('f-address'), caller: {phone: $('f-phone').value.trim(), name: value('f-name')}};
    var trap = form.querySelector('.c-hp input');
    if (trap.value) body[trap.name] = trap.value;
    if (location_) body.location = location_;
    var button = $('submit-button');
    button.disabled = true; button.textContent = '正在提交……';
    send('POST', '/public/tickets', body).then(function (res) {
      if (res.r.status === 201) {
        $('submit-number').textContent = res.data.number;
        $('submit-promise').textContent = res.data.promise ? res.data.promise + '。' : '工作人员将尽快派单办理并答复。';
        form.hidden = true;
        var result = $('submit-result');
        result.hidden = false;
        result.focus();
        return;
      }
      if (res.r.status === 429) { showAlert('submit-error', '提交过于频繁，' + waitText(res.data, res.r)); return; }
      var fields = (res.data && res.data.fields) || {}, named = false;
      Object.keys(fields).forEach(function (f) { named = setError(form, f, FIELD_TEXT[f] || '请检查此项') || named; });
      if (named) { showAlert('submit-error', '有填写项需要修改，请查看标红的提示。'); focusFirstError(form); }
      else showAlert('submit-error', '提交未成功，请稍后再试，或拨打 96196 反映。');
    }).catch(function () {
      showAlert('submit-error', '网络连接失败，内容还在，请稍后再点“提交”。');
    }).then(function () { button.disabled = false; button.textContent = '提交'; });
  });

  $('submit-check').addEventListener('click', function () {
    $('p-number').value = $('submit-number').textContent;
    var phone = digitsOf($('f-phone').value.trim());
    $('p-tail').value = phone.slice(-4);
    $('p-tail').focus();
    progressForm.requestSubmit ? progressForm.requestSubmit() : progressForm.dispatchEvent(new Event('submit'));
  });
  $('submit-again').addEventListener('click', function () {
    form.reset();
    location_ = null;
    $('f-location-status').textContent = '未附上位置。';
    $('f-unlocate').hidden = true;
    $('submit-result').hidden = true;
    form.hidden = false;
    form.querySelector('input[name=kind]').focus();
  });

  // --- checking progress -----------------------------------------------------------------------------------------
  var progressForm = $('progress-form');

  function renderProgress(t) {
    $('r-number').textContent = t.number;
    $('r-status').textContent = t.status === 'closed' && t.closure_text ? t.status_text + '（' + t.closure_text + '）' : t.status_text;
    $('r-unit').textContent = t.unit_name || '待派单';
    var due = $('r-due');
    due.textContent = t.reply_due_text ? t.reply_due_text + ' 前答复' : '—';
    if (t.overdue) {
      var badge = document.createElement('span');
      badge.className = 'c-badge c-overdue';
      badge.textContent = t.replied_at ? '超期答复' : '已超期';
      due.appendChild(document.createTextNode(' '));
      due.appendChild(badge);
    }
    var list = $('r-timeline');
    list.textContent = '';
    (t.timeline || []).forEach(function (s) {
      var li = document.createElement('li');
      li.className = 'c-step c-' + s.state;
      li.setAttribute('data-step', s.step);
      if (s.state === 'current') li.setAttribute('aria-current', 'step');
      var name = document.createElement('span');
      name.className = 'c-step-name';
      name.textContent = s.label;
      var when = document.createElement('span');
      when.className = 'c-step-at';
      when.textContent = s.at_text || {done: '已完成', current: '进行中', todo: '未开始', skipped: '无需此环节'}[s.state];
      if (s.state === 'current' && s.at_text) when.textContent = s.at_text + ' 起，进行中';
      li.appendChild(name);
      li.appendChild(when);
      list.appendChild(li);
    });
    var reply = $('r-reply');
    reply.hidden = !t.reply;
    $('r-reply-text').textContent = t.reply || '';
    $('r-checked').textContent = '查询时间：' + t.checked_at_text;
    var result = $('progress-result');
    result.hidden = false;
    result.focus();
  }

  progressForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors(progressForm, 'progress-error');
    var number = $('p-number').value.trim(), tail = $('p-tail').value.trim(), ok = true;
    if (!number) { setError(progressForm, 'number', '请填写受理编号'); ok = false; }
    if (!/^\d{4}$/.test(tail)) { setError(progressForm, 'phone_tail', '请填写手机号码的后四位数字'); ok = false; }
    if (!ok) { focusFirstError(progressForm); return; }
    $('progress-result').hidden = true;
    var button = $('progress-button');
    button.disabled = true;
    send('GET', '/public/tickets/' + encodeURIComponent(number) + '?phone_tail=' + encodeURIComponent(tail)).then(function (res) {
      if (res.r.status === 200) { renderProgress(res.data); return; }
      if (res.r.status === 429) { showAlert('progress-error', '查询过于频繁，' + waitText(res.data, res.r)); return; }
      // One message for an unknown number and a wrong tail: it tells a guesser nothing.
      if (res.r.status === 404 || res.r.status === 422) {
        showAlert('progress-error', '未查到相符的工单，请核对受理编号和手机号后四位。');
        return;
      }
      showAlert('progress-error', '查询未成功，请稍后再试，或拨打 96196 查询。');
    }).catch(function () {
      showAlert('progress-error', '网络连接失败，请稍后再试。');
    }).then(function () { button.disabled = false; });
  });
})();
