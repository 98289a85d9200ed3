/**
 * The session page's script, served as an external file (the CSP allows no inline script). A TS
 * string module, so every bundle (esbuild for Lambda, the instance server) carries it without a
 * loader. Plain browser JavaScript, no framework, no dependency.
 *
 * Rules it keeps: every DOM write of data goes through `textContent` (never innerHTML; the CSP's
 * Trusted Types would refuse it anyway), so a user name or a pref such as `<img onerror=…>` shows
 * as text. Every request is a same-origin `fetch` with a JSON body on writes: what the CSRF policy
 * of the state-changing routes (lambda/app/csrf.ts) lets through.
 *
 * The session cookie is HttpOnly, so the script cannot see it; it remembers in localStorage only
 * who was logged in and which server answered last, to say plainly that a session is gone when
 * GET /session answers 401 afterwards.
 */
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var MARK = 'cdk-sessions:last-session';
  var CENTRAL_NOTE = 'A centralized store: every server reads and writes the same store, so any of them can answer for your session.';
  var STORE_NOTES = {
    memory: 'Sticky sessions: your session lives in the memory of the server that created it, and the load balancer keeps sending you there. If that server goes, your session goes with it.',
    jwt: 'Stateless sessions: your session travels in a signed token in your cookie. Any server verifies it; none stores it.'
  };
  var state = { store: '', user: null, busy: false };

  function el(id) { return document.getElementById(id); }
  function setText(node, value) { node.textContent = value === undefined || value === null ? '' : String(value); }
  function show(node, on) { node.hidden = !on; }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function cell(tag, value) { var c = document.createElement(tag); setText(c, value); return c; }
  function setState(s) { document.body.setAttribute('data-state', s); }

  function notice(message, kind) {
    var n = el('notice');
    setText(n, message);
    n.className = 'notice ' + (kind || 'info');
    show(n, Boolean(message));
  }

  function remember(user, servedBy) {
    try { localStorage.setItem(MARK, JSON.stringify({ user: user, servedBy: servedBy })); } catch (e) { /* storage off: no "gone" notice */ }
  }
  function recall() {
    try {
      var v = JSON.parse(localStorage.getItem(MARK) || 'null');
      return v && typeof v.user === 'string' ? v : null;
    } catch (e) { return null; }
  }
  function forget() {
    try { localStorage.removeItem(MARK); } catch (e) { /* nothing kept */ }
  }

  function logRequest(method, path, status, servedBy) {
    var tr = document.createElement('tr');
    tr.appendChild(cell('td', new Date().toLocaleTimeString()));
    tr.appendChild(cell('td', method + ' /' + path));
    tr.appendChild(cell('td', status));
    tr.appendChild(cell('td', servedBy));
    var body = el('log');
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 30) body.removeChild(body.lastChild);
    setText(el('cookies'), document.cookie || '(none)');
  }

  function errorText(r) {
    var e = r.json && r.json.error;
    return e && typeof e.code === 'string' ? e.code + ': ' + e.message : 'HTTP ' + r.status;
  }

  /** One request to the app; resolves with status, parsed JSON and the X-Served-By header. */
  async function call(method, path, body, quiet) {
    var init = { method: method, credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var res;
    for (var attempt = 1; ; attempt++) {
      try {
        res = await fetch(path, init);
        break;
      } catch (err) {
        // A GET may be sent again: the first can meet a connection the balancer kept to a server that just died.
        if (method !== 'GET' || attempt >= 2) {
          if (!quiet) logRequest(method, path, 'network error', '-');
          throw err;
        }
      }
    }
    var servedBy = res.headers.get('x-served-by') || '?';
    var json = null;
    if (res.status !== 204) {
      try { json = await res.json(); } catch (e) { json = null; }
    }
    if (!quiet) logRequest(method, path, res.status, servedBy);
    return { status: res.status, json: json, servedBy: servedBy };
  }

  function applyTheme(value) {
    var theme = value === 'dark' ? 'dark' : 'light';
    document.documentElement.className = 'theme-' + theme;
    setText(el('theme'), theme);
    setText(el('theme-toggle'), theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme');
    return theme;
  }

  function render(s, servedBy) {
    state.user = s.user;
    show(el('login-box'), false);
    show(el('session-box'), true);
    setText(el('user'), s.user);
    setText(el('served-by'), servedBy);
    var cart = Array.isArray(s.cart) ? s.cart : [];
    var rows = el('cart');
    clear(rows);
    cart.forEach(function (line) {
      var tr = document.createElement('tr');
      tr.appendChild(cell('td', line.sku));
      tr.appendChild(cell('td', line.qty));
      rows.appendChild(tr);
    });
    show(el('cart-empty'), cart.length === 0);
    var prefs = s.prefs && typeof s.prefs === 'object' ? s.prefs : {};
    var list = el('prefs');
    clear(list);
    Object.keys(prefs).forEach(function (k) { list.appendChild(cell('li', k + ' = ' + prefs[k])); });
    if (list.children.length === 0) list.appendChild(cell('li', '(none)'));
    applyTheme(prefs.theme);
    remember(s.user, servedBy);
    setState('session');
  }

  function loggedOut() {
    state.user = null;
    show(el('session-box'), false);
    show(el('login-box'), true);
    applyTheme('light');
    setState('logged-out');
  }

  function gone(was, servedBy) {
    loggedOut();
    forget();
    var message = 'Your session is gone. You were logged in as "' + was.user + '", last served by ' + was.servedBy +
      '; now ' + servedBy + ' answered, and it has no such session.';
    if (state.store === 'memory' && servedBy !== was.servedBy) {
      message += ' With sticky sessions a session lives only in the memory of its server: that server is gone, and your session and cart went with it. Log in again.';
    } else {
      message += ' It expired or was ended. Log in again.';
    }
    notice(message, 'warn');
    setState('gone');
  }

  async function refresh(first) {
    var r = await call('GET', 'session');
    if (r.status === 200 && r.json) {
      var was = first ? recall() : null;
      render(r.json, r.servedBy);
      if (was && was.user === r.json.user && was.servedBy !== r.servedBy && state.store !== 'memory') {
        notice('Still logged in: ' + was.servedBy + ' answered last time, ' + r.servedBy + ' answered now, with the same session. ' +
          (state.store === 'jwt' ? 'It travels in your cookie, not in a server.' : 'It lives in the ' + state.store + ' store, not in a server.'), 'info');
      }
      return;
    }
    if (r.status === 401) {
      var was = recall();
      if (was) gone(was, r.servedBy);
      else loggedOut();
      return;
    }
    notice('GET /session failed: ' + errorText(r), 'error');
  }

  /** A state-changing request, then the session as it is now (a 401 turns into the "gone" notice). */
  async function write(method, path, body, what) {
    var r = await call(method, path, body);
    if (r.status >= 200 && r.status < 300) {
      notice('');
      await refresh();
      return r;
    }
    if (r.status === 401) {
      await refresh();
      return r;
    }
    notice(what + ' failed: ' + errorText(r), 'error');
    return r;
  }

  function action(fn) {
    return async function (ev) {
      if (ev) ev.preventDefault();
      if (state.busy) return;
      state.busy = true;
      document.body.setAttribute('aria-busy', 'true');
      try {
        await fn();
      } catch (err) {
        notice('The request did not complete: ' + (err && err.message ? err.message : String(err)), 'error');
      } finally {
        state.busy = false;
        document.body.removeAttribute('aria-busy');
      }
    };
  }

  async function login() {
    var body = { user: el('login-user').value };
    var password = el('login-password').value;
    if (password !== '') body.password = password;
    var r = await call('POST', 'login', body);
    el('login-password').value = '';
    if (r.status === 200) {
      notice('');
      await refresh();
    } else {
      notice('Login failed: ' + errorText(r), 'error');
    }
  }

  async function addLine() {
    var qty = Number(el('cart-qty').value);
    await write('POST', 'cart/items', { sku: el('cart-sku').value, qty: qty }, 'Adding to the cart');
  }

  async function toggleTheme() {
    var next = el('theme').textContent === 'dark' ? 'light' : 'dark';
    await write('PUT', 'prefs', { theme: next }, 'Changing the theme');
  }

  async function logout(path, what) {
    var r = await call('POST', path, {});
    if (r.status === 204) {
      forget();
      loggedOut();
      notice(what, 'info');
    } else if (r.status === 401) {
      await refresh();
    } else {
      notice('Logging out failed: ' + errorText(r), 'error');
    }
  }

  async function send20() {
    var path = state.user ? 'session' : 'healthz';
    var counts = Object.create(null);
    var order = [];
    var sequence = [];
    var carts = Object.create(null);
    var refused = 0;
    for (var i = 0; i < 20; i++) {
      var r;
      try {
        r = await call('GET', path, undefined, true);
      } catch (err) {
        sequence.push('(no answer)');
        refused++;
        continue;
      }
      if (r.status !== 200) {
        sequence.push(r.servedBy + ' (' + r.status + ')');
        refused++;
        continue;
      }
      if (!(r.servedBy in counts)) { counts[r.servedBy] = 0; order.push(r.servedBy); }
      counts[r.servedBy]++;
      sequence.push(r.servedBy);
      if (path === 'session' && r.json) carts[JSON.stringify(r.json.cart)] = true;
    }
    logRequest('GET', path + ' ×20', refused === 0 ? 200 : refused + ' not 200', order.join(', ') || '-');
    var list = el('servers');
    clear(list);
    order.sort().forEach(function (name) { list.appendChild(cell('li', name + ': ' + counts[name])); });
    var summary = 'GET /' + path + ' ×20: ' + order.length + (order.length === 1 ? ' server answered ' : ' servers answered ') + (20 - refused) + ' of them.';
    if (path === 'session' && order.length > 0) {
      summary += Object.keys(carts).length === 1 ? ' Every answer held the same cart.' : ' The answers held different carts!';
    }
    if (refused > 0) summary += ' ' + refused + ' got no session or no answer.';
    setText(el('servers-summary'), summary);
    setText(el('servers-sequence'), sequence.join(' → '));
    if (refused > 0 && path === 'session') await refresh();
  }

  async function init() {
    el('login-form').addEventListener('submit', action(login));
    el('cart-form').addEventListener('submit', action(addLine));
    el('theme-toggle').addEventListener('click', action(toggleTheme));
    el('logout').addEventListener('click', action(function () {
      return logout('logout', state.store === 'jwt'
        ? 'Logged out: the session was revoked (every token of it is refused) and the cookie cleared.'
        : 'Logged out: the session was deleted in the store and the cookie cleared.');
    }));
    el('logout-everywhere').addEventListener('click', action(function () {
      return logout('logout/everywhere', 'Logged out everywhere: every session of this user started until now is revoked.');
    }));
    el('send-20').addEventListener('click', action(send20));
    try {
      var h = await call('GET', 'healthz');
      state.store = h.json && typeof h.json.store === 'string' ? h.json.store : '?';
    } catch (err) {
      state.store = '?';
    }
    setText(el('store-kind'), state.store);
    setText(el('store-note'), Object.prototype.hasOwnProperty.call(STORE_NOTES, state.store) ? STORE_NOTES[state.store] : CENTRAL_NOTE);
    show(el('logout-everywhere'), state.store === 'jwt');
    try {
      await refresh(true);
    } catch (err) {
      notice('The app did not answer: ' + (err && err.message ? err.message : String(err)), 'error');
      setState('error');
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { action(init)(); });
  else action(init)();
})();
`;
