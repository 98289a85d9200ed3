/**
 * The session page's HTML (GET /). Static: nothing in it comes from the request or the session,
 * so nothing in it needs escaping; the script fills it in through `textContent` only. Its URLs
 * are relative, so the page also works under an API Gateway stage path.
 */

/** Where the page finds its script and stylesheet, with their Subresource Integrity hashes. */
export interface PageAssetRefs {
  readonly scriptPath: string;
  readonly scriptIntegrity: string;
  readonly stylePath: string;
  readonly styleIntegrity: string;
}

/** The HTML of the page, referring to `refs` (paths start with "/"; the page links them relatively). */
export function pageHtml(refs: PageAssetRefs): string {
  const rel = (p: string) => p.replace(/^\//, '');
  return `<!doctype html>
<html lang="en" class="theme-light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cdk-sessions: session page</title>
<link rel="stylesheet" href="${rel(refs.stylePath)}" integrity="${refs.styleIntegrity}">
<script src="${rel(refs.scriptPath)}" integrity="${refs.scriptIntegrity}" defer></script>
</head>
<body data-state="loading">
<header>
  <h1>cdk-sessions</h1>
  <p>Session store: <strong id="store-kind">…</strong>. <span id="store-note"></span></p>
</header>
<main>
  <p id="notice" class="notice" role="status" hidden></p>
  <noscript><p class="notice warn">This page needs JavaScript: its own script, nothing from another site.</p></noscript>

  <section id="login-box" hidden>
    <h2>Log in</h2>
    <form id="login-form" method="post" action="login">
      <label>User <input id="login-user" name="user" autocomplete="username" required maxlength="128"></label>
      <label>Password <input id="login-password" name="password" type="password" autocomplete="current-password" maxlength="256"></label>
      <button type="submit">Log in</button>
    </form>
    <p class="hint">Deployed stacks check the password against their Cognito user pool (stack outputs UserPoolId and ClientId). Local runs with SESSION_AUTH=open take any user name and no password.</p>
  </section>

  <section id="session-box" hidden>
    <h2>Your session</h2>
    <dl>
      <dt>User</dt><dd id="user"></dd>
      <dt>Answered by</dt><dd id="served-by"></dd>
      <dt>Theme</dt><dd id="theme"></dd>
    </dl>
    <h3>Cart</h3>
    <table>
      <thead><tr><th>SKU</th><th>Qty</th></tr></thead>
      <tbody id="cart"></tbody>
    </table>
    <p id="cart-empty" class="hint">The cart is empty.</p>
    <form id="cart-form" method="post" action="cart/items">
      <label>SKU <input id="cart-sku" name="sku" value="apple-1" required maxlength="64"></label>
      <label>Qty <input id="cart-qty" name="qty" type="number" min="1" max="999" value="1" required></label>
      <button type="submit">Add to cart</button>
    </form>
    <h3>Prefs</h3>
    <ul id="prefs"></ul>
    <p class="actions">
      <button id="theme-toggle" type="button">Switch theme</button>
      <button id="logout" type="button">Log out</button>
      <button id="logout-everywhere" type="button" hidden>Log out everywhere</button>
    </p>
  </section>

  <section id="servers-box">
    <h2>Which servers answer?</h2>
    <p><button id="send-20" type="button">Send 20 requests</button></p>
    <p id="servers-summary" class="hint">Sends GET /session (or GET /healthz when logged out) 20 times, one after another, and counts who answered.</p>
    <ul id="servers"></ul>
    <p id="servers-sequence" class="sequence"></p>
  </section>

  <section>
    <h2>Requests</h2>
    <p class="hint">Cookies this script can read: <code id="cookies">(none)</code>. The session cookie is HttpOnly, so it is never listed here.</p>
    <table>
      <thead><tr><th>Time</th><th>Request</th><th>Status</th><th>Served by</th></tr></thead>
      <tbody id="log"></tbody>
    </table>
  </section>
</main>
</body>
</html>
`;
}
