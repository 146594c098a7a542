"use strict";
// Say what is missing before the round trip; the server checks again.
document.getElementById('login-form').addEventListener('submit', function (ev) {
  var ok = true;
  [['username', '请输入用户名'], ['password', '请输入密码']].forEach(function (f) {
    var input = document.getElementById(f[0]), err = document.getElementById(f[0] + '-error');
    if (!input.value.trim()) { err.textContent = f[1]; input.setAttribute('aria-invalid', 'true'); if (ok) input.focus(); ok = false; }
    else { err.textContent = ''; input.removeAttribute('aria-invalid'); }
  });
  if (!ok) ev.preventDefault();
});

// Demo installations list their logins (the page shows them only then): a click or a unit picked fills the form.
(function () {
  var demo = document.getElementById('demo-logins');
  if (!demo) return;
  function fill(username) {
    if (!username) return;
    document.getElementById('username').value = username;
    document.getElementById('password').value = demo.getAttribute('data-password');
    document.querySelector('#login-form button[type=submit]').focus();
  }
  demo.querySelectorAll('.demo-login').forEach(function (b) {
    b.addEventListener('click', function () { fill(b.getAttribute('data-username')); });
  });
  document.getElementById('demo-unit').addEventListener('change', function (ev) { fill(ev.target.value); });
})();
