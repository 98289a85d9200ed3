/**
 * The session page (GET /) in Debian's chromium, driven by playwright-core, through haproxy in
 * front of 3 instance server processes (the lab's setup, lab/cluster.ts), on three topologies:
 * sticky memory (haproxy's AWSALB cookie), Redis, and JWT. Chromium's cookie engine is the client
 * our cookies must satisfy; these tests are the only ones that use it.
 *
 * The instances run with SESSION_COOKIE_SECURE=true, what a deployed stack sends over HTTPS:
 * Chromium counts http://localhost as a secure origin, so it keeps a `__Host-` Secure cookie
 * there, and the tests assert exactly the attributes promised for production.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cluster } from '../../lab/cluster';
import { TOPOLOGIES, type StoreHandle } from '../../lab/topologies';
import { DEFAULTS } from '../../lambda/session/env';
import { removeInstanceBundle } from '../support/app-instance';
import { launchChromium } from '../support/chromium';
import { SessionPage, slotOf, startPageCluster } from './session-page';

/** Inside page.evaluate callbacks (the project compiles without the DOM lib). */
declare const document: any;
declare const window: any;

jest.setTimeout(90_000);
afterAll(() => removeInstanceBundle());

const COOKIE = '__Host-sid';

/** A fresh browser (own profile) for one test, closed after it. */
async function withPage(url: string, fn: (p: SessionPage) => Promise<void>): Promise<void> {
  const browser = await launchChromium();
  try {
    await fn(new SessionPage(await browser.newPage(), url));
  } finally {
    await browser.close();
  }
}

const sessionCookie = async (p: SessionPage) => (await p.page.context().cookies(p.url)).find((c) => c.name === COOKIE);

describe.each([
  { name: 'sticky-memory (AWSALB)', sticky: true },
  { name: 'redis', sticky: false },
  { name: 'jwt (no denylist)', sticky: false },
])('$name', ({ name, sticky }) => {
  const topology = TOPOLOGIES.find((t) => t.name === name)!;
  let store: StoreHandle;
  let cluster: Cluster;
  let url: string;

  beforeAll(async () => {
    store = await topology.start();
    cluster = await startPageCluster(topology, store);
    url = `http://localhost:${cluster.port}/`;
  });
  afterAll(async () => {
    await cluster?.stop();
    await store?.stop();
  });

  /** The cookie's lifetime: the JWT's time to live, or the session's absolute timeout. */
  const lifetimeSeconds = () => (store.env.SESSION_STORE === 'jwt' ? Number(store.env.SESSION_JWT_TTL) : DEFAULTS.absoluteTimeoutSeconds);

  test('log in, add two lines, reload: the same session and cart come back, and Chromium keeps __Host-sid HttpOnly, Secure, SameSite=Lax, Path=/, host-only, with Max-Age', async () => {
    await withPage(url, async (p) => {
      const first = await p.open();
      expect(first.state).toBe('logged-out');
      expect(first.storeKind).toBe(store.env.SESSION_STORE);
      expect((await p.login('ann')).user).toBe('ann');
      await p.addLine('apple-1', 2);
      const before = await p.addLine('pear-9', 1);
      expect(before.cart).toEqual([
        { sku: 'apple-1', qty: '2' },
        { sku: 'pear-9', qty: '1' },
      ]);
      const cookie = await sessionCookie(p);
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/', domain: 'localhost' }); // domain without a dot: host-only, as __Host- requires
      const lifetime = cookie!.expires - Date.now() / 1000;
      expect(lifetime).toBeGreaterThan(lifetimeSeconds() - 300); // persistent, until the session's own end
      expect(lifetime).toBeLessThanOrEqual(lifetimeSeconds() + 5);
      expect((await p.page.context().cookies(p.url)).map((c) => c.name).sort()).toEqual(sticky ? ['AWSALB', COOKIE] : [COOKIE]);
      expect(await p.page.evaluate(() => document.cookie)).not.toContain(COOKIE); // HttpOnly: the page's script never sees it
      if (sticky) expect((await p.page.context().cookies(p.url)).find((c) => c.name === 'AWSALB')?.value).toBe(before.servedBy);

      const after = await p.reload();
      expect(after.state).toBe('session');
      expect(after.user).toBe('ann');
      expect(after.cart).toEqual(before.cart);
      expect((await sessionCookie(p))?.value).toBe(cookie!.value); // a read does not reissue the cookie
      if (sticky) expect(after.servedBy).toBe(before.servedBy);
    });
  });

  test('the page and its assets carry the CSP and security headers, and the CSP holds in the browser: no HTML from a string (Trusted Types)', async () => {
    await withPage(url, async (p) => {
      const responses: Array<{ url: string; headers: Record<string, string> }> = [];
      p.page.on('response', (r) => {
        if (r.url() === url || r.url().includes('/assets/')) responses.push({ url: r.url(), headers: r.headers() });
      });
      await p.open();
      expect(responses.map((r) => r.url.replace(/\.[0-9a-f]{16}\./, '.<hash>.')).sort()).toEqual([url, `${url}assets/page.<hash>.css`, `${url}assets/page.<hash>.js`]);
      for (const r of responses) {
        const csp = r.headers['content-security-policy'];
        expect(csp).toContain("default-src 'none'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("connect-src 'self'");
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).not.toContain('unsafe');
        expect(r.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
      }
      const sink = await p.page.evaluate(() => {
        try {
          document.body.innerHTML = '<b>from a string</b>';
          return 'written';
        } catch (err) {
          return (err as Error).name;
        }
      });
      expect(sink).toBe('TypeError'); // require-trusted-types-for 'script' with no policy: innerHTML throws
    });
  });

  test('an XSS probe in the user name, a SKU and a pref renders as text and never runs: no flag set, no dialog, no element injected', async () => {
    await withPage(url, async (p) => {
      const dialogs: string[] = [];
      p.page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const probe = (n: number) => `<img src=x onerror="window.__xss=${n};alert(${n})"><script>window.__xss=${n}</script>`;
      await p.open();
      const logged = await p.login(probe(1));
      expect(logged.state).toBe('session');
      expect(logged.user).toBe(probe(1)); // shown as the literal text it is
      const refused = await p.addLine(probe(2), 1);
      expect(refused.notice).toMatch(/^Adding to the cart failed: bad_request: "sku" must be/); // the server refuses it; the message is shown as text
      expect(refused.cart).toEqual([]);
      const put = await p.page.evaluate(
        async (body) => (await fetch('prefs', { method: 'PUT', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body })).status,
        JSON.stringify({ note: probe(3), theme: probe(4) }),
      );
      expect(put).toBe(200);
      const shown = await p.reload();
      expect(shown.prefs).toEqual([`note = ${probe(3)}`, `theme = ${probe(4)}`]);
      expect(shown.theme).toBe('light'); // an unknown theme value is never used as a class name
      const injected = await p.page.evaluate(() => ({ flag: window.__xss, imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script').length }));
      expect(injected).toEqual({ flag: undefined, imgs: 0, scripts: 1 }); // the page's own script tag only
      expect(dialogs).toEqual([]);
    });
  });

  test('a cross-site form post to /logout does not log the user out: same-site other port (cookie sent, Origin refused, 403) and cross-site (cookie withheld by SameSite=Lax, 403)', async () => {
    const attacker = await startAttacker(`${url}logout`);
    try {
      await withPage(url, async (p) => {
        await p.open();
        await p.login('carol');
        const before = await p.addLine('apple-1', 3);
        const cookie = await sessionCookie(p);
        for (const [host, site, cookieSent] of [
          ['localhost', 'same-site', true],
          ['127.0.0.1', 'cross-site', false],
        ] as const) {
          const forged = p.page.waitForResponse((r) => r.url() === `${url}logout`);
          await p.page.goto(`http://${host}:${attacker.port}/`);
          const r = await forged;
          const sent = await r.request().allHeaders();
          expect({ site, status: r.status(), origin: sent.origin, cookie: (sent.cookie ?? '').includes(COOKIE) }).toEqual({
            site,
            status: 403,
            origin: `http://${host}:${attacker.port}`,
            cookie: cookieSent,
          });
          expect(JSON.parse(await r.text()).error.code).toBe('cross_site_request');
          const back = await p.open();
          expect({ site, state: back.state, user: back.user, cart: back.cart }).toEqual({ site, state: 'session', user: 'carol', cart: before.cart });
          expect((await sessionCookie(p))?.value).toBe(cookie!.value);
        }
        // The page's own logout (same origin, JSON) does end the session: the refusals above were not a broken route.
        const out = await p.logout();
        expect(out.state).toBe('logged-out');
        expect(out.notice).toMatch(/^Logged out/);
        expect(await sessionCookie(p)).toBeUndefined();
        expect((await p.reload()).state).toBe('logged-out');
      });
    } finally {
      await new Promise((r) => attacker.server.close(r));
    }
  });

  test(
    sticky
      ? 'kill the instance that served the page, reload: the session is gone and the page says so plainly'
      : 'kill the instance that served the page, reload: the cart is intact, served by another instance',
    async () => {
      await withPage(url, async (p) => {
        await p.open();
        await p.login('dave');
        await p.addLine('apple-1', 2);
        const before = await p.addLine('pear-9', 1);
        const tally = await p.send20();
        if (sticky) expect(tally.counts).toEqual({ [before.servedBy]: 20 }); // pinned: one server answers everything
        else expect(Object.keys(tally.counts).sort()).toEqual([0, 1, 2].map((i) => cluster.servedBy(i))); // round robin over all 3
        expect(tally.summary).toContain('Every answer held the same cart.');

        await cluster.kill(slotOf(cluster, before.servedBy));
        const after = await p.reload();
        if (sticky) {
          expect(after.state).toBe('gone');
          expect(after.user).toBe('');
          expect(after.notice).toMatch(new RegExp(`^Your session is gone\\. You were logged in as "dave", last served by ${before.servedBy}; now s\\d answered`));
          expect(after.notice).toContain('With sticky sessions a session lives only in the memory of its server');
          expect(await sessionCookie(p)).toBeUndefined(); // the 401 cleared the cookie that named no session
          const lb = (await p.page.context().cookies(p.url)).find((c) => c.name === 'AWSALB')?.value;
          expect(lb).not.toBe(before.servedBy); // haproxy re-pinned the browser to a survivor
          expect((await p.login('dave')).cart).toEqual([]); // a new session, empty
        } else {
          expect(after.state).toBe('session');
          expect(after.user).toBe('dave');
          expect(after.cart).toEqual(before.cart);
          expect(after.servedBy).not.toBe(before.servedBy);
          const survivors = await p.send20();
          expect(Object.keys(survivors.counts)).not.toContain(before.servedBy);
          expect(Object.values(survivors.counts).reduce((a, b) => a + b, 0)).toBe(20);
          expect(survivors.summary).toContain('Every answer held the same cart.');
        }
      });
    },
  );
});

/** A page on another port that posts a form to `target` as soon as it loads (text/plain, the classic JSON CSRF shape). */
async function startAttacker(target: string): Promise<{ server: Server; port: number }> {
  const html = `<!doctype html><title>evil</title>
<form method="post" action="${target}" enctype="text/plain"><input name='{"x":"' value='"}'></form>
<script>document.forms[0].submit()</script>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

