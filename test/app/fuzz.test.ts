/**
 * Seeded fuzzing of the reference app: thousands of malformed requests — broken JSON, wrong
 * types, bodies over the cap, oversized headers, garbage and tampered cookies, odd methods,
 * paths and raw request lines, unicode — over real TCP to the instance server and through both
 * Lambda adapters, against every real store (memory, redis-server, dynalite, s3rver, memcached,
 * PostgreSQL). Every answer must be a 4xx, the server must stay up, and a session that exists
 * throughout must be byte-for-byte unchanged (same version).
 * A failure prints the seed and the request, so it replays.
 */
import { connect } from 'node:net';
import type { App } from '../../lambda/app/app';
import type { SessionRuntime } from '../../lambda/session/from-env';
import { BACKENDS, type BackendKind } from '../support/app-backends';
import { startAppOnStore, type AppOnStore } from '../support/app-on-store';
import { albSend, Client, httpApiSend, httpSend } from '../support/app-client';

const SEED = Number(process.env.FUZZ_SEED ?? 0xc0ffee);
const RAW_REQUESTS = 2500;
const ADAPTER_REQUESTS = 1500;

/** mulberry32: small, fast, seeded. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

interface FuzzRequest {
  readonly category: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  /** Raw bytes to send instead (request-line and framing garbage); TCP only. */
  readonly raw?: Buffer;
}

const ROUTES: Record<string, string> = { '/login': 'POST', '/session': 'GET', '/cart/items': 'POST', '/prefs': 'PUT', '/logout': 'POST', '/healthz': 'GET' };
const WRITES = ['/login', '/cart/items', '/prefs'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const UNICODE = ['é', 'ß', '漢字', '🚀', '\u202e', '\u0000', '\ufeff', '\ud83d', 'Ω', '\u2028'];

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD; encodeURIComponent would throw). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function randomString(r: Rng, max: number): string {
  const n = r.int(max + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += r.next() < 0.2 ? r.pick(UNICODE) : String.fromCharCode(32 + r.int(95));
  return s;
}

/** A JSON-ish body that is always invalid for `path`. */
function invalidBody(r: Rng, path: string): string {
  const broken = ['{', '{"user":', '{"sku":"a","qty":1', '[', 'nul', '{"a":"b",}', "{'user':'x'}", '{"user":"a"}}', '', ' ', '\u0000', '{"user":"\ud800"', 'NaN', '1e309'];
  const nonObjects = ['[]', '[{"user":"a"}]', '"string"', '42', 'true', 'null', '[1,2,3]'];
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const wrong: Record<string, string[]> = {
    '/login': ['{}', '{"user":""}', '{"user":null}', '{"user":1}', '{"user":["a"]}', '{"user":{"a":1}}', JSON.stringify({ user: 'u'.repeat(129 + r.int(500)) }), '{"user":"a","x":1}', '{"__proto__":{"user":"a"}}', '{"user":"\\u0007"}', '{"User":"a"}', '{"user":"a\\u0000"}', '{"user":"\\ud800"}', '{"user":"\\udc00a"}'],
    '/cart/items': ['{}', '{"sku":"a"}', '{"qty":1}', '{"sku":"a","qty":0}', '{"sku":"a","qty":-1}', '{"sku":"a","qty":1000}', '{"sku":"a","qty":1.5}', '{"sku":"a","qty":"1"}', '{"sku":"a","qty":1e3}', '{"sku":"","qty":1}', '{"sku":"a b","qty":1}', '{"sku":"ü","qty":1}', '{"sku":1,"qty":1}', '{"sku":"a","qty":1,"extra":2}', '{"sku":"a","qty":null}', '{"sku":"a","qty":true}', '{"sku":"a\\u0000","qty":1}', '{"sku":"\\ud83d","qty":1}'],
    '/prefs': ['{}', '{"__proto__":"x"}', '{"constructor":"x"}', '{"prototype":"x"}', '{"a":1}', '{"a":null}', '{"a":["x"]}', '{"a":{"b":"c"}}', '{"":"x"}', '{"a b":"x"}', '{"theme":"a\\u0000b"}', '{"theme":"\\ud800"}', '{"theme":"x\\udfff"}', '{"\\u0000":"x"}', '{"a":"ok","b":"\\ude00\\ud83d"}', JSON.stringify({ a: 'v'.repeat(257 + r.int(100)) }), JSON.stringify(Object.fromEntries(Array.from({ length: 33 + r.int(20) }, (_, i) => [`k${i}`, 'v'])))],
  };
  const k = r.int(10);
  if (k < 3) return r.pick(broken) + (r.next() < 0.3 ? randomString(r, 20) : '');
  if (k < 5) return r.pick(nonObjects);
  if (k < 6) return deep;
  return r.pick(wrong[path]);
}

function badCookie(r: Rng, valid: string): string {
  const [name, value] = [valid.slice(0, valid.indexOf('=')), valid.slice(valid.indexOf('=') + 1)];
  const tamper = () => {
    // Never the last character: its low bits are base64 padding, which decoding ignores.
    const i = r.int(value.length - 1);
    const c = value[i] === 'A' ? 'B' : 'A';
    return value.slice(0, i) + c + value.slice(i + 1);
  };
  const opts = [
    () => `${name}=${tamper()}`,
    () => `${name}=${tamper()}; other=1`,
    () => `${name}=${value.split('.')[0]}`,
    () => `${name}=${value.split('.')[0]}.`,
    () => `${name}=.${value.split('.')[1]}`,
    () => `${name}=${pct(randomString(r, 60))}`,
    () => `${name}=${'A'.repeat(32)}.${'B'.repeat(43)}`,
    () => `${name}=%E0%A4%A`,
    () => `${name}="${tamper()}"`,
    () => `${name}=${'x'.repeat(600 + r.int(3000))}`,
    () => `=${value}`,
    () => `${name}`,
    () => `${name}=${tamper()}; ${name}=${tamper()}`,
    () => randomString(r, 100).replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, ''),
  ];
  return r.pick(opts)();
}

function generate(r: Rng, validCookie: string): FuzzRequest {
  const category = r.pick(['unknown-path', 'wrong-method', 'content-type', 'bad-body', 'too-large', 'bad-cookie', 'big-header', 'cross-site', 'raw']);
  const headers: Record<string, string> = {};
  const maybeCookie = () => {
    if (r.next() < 0.6) headers.cookie = badCookie(r, validCookie);
  };
  switch (category) {
    case 'unknown-path': {
      const paths = ['/index.html', '/nope', '/session/', '/Login', '/cart', '/cart/items/1', '/prefs/x', '/%2e%2e/session', '/login/../session', '//session', '/session%00', '/constructor', '/__proto__', '/hasOwnProperty', `/${pct(randomString(r, 40))}`, `/${'a'.repeat(2000 + r.int(4000))}`];
      maybeCookie();
      return { category, method: r.pick(METHODS), path: r.pick(paths) + (r.next() < 0.2 ? `?q=${pct(randomString(r, 10))}` : ''), headers };
    }
    case 'wrong-method': {
      const path = r.pick(Object.keys(ROUTES));
      const method = r.pick(METHODS.filter((m) => m !== ROUTES[path]));
      maybeCookie();
      if (r.next() < 0.5) headers['content-type'] = 'application/json';
      return { category, method, path, headers, body: r.next() < 0.5 ? Buffer.from(invalidBody(r, '/login')) : undefined };
    }
    case 'content-type': {
      const path = r.pick(WRITES);
      const ct = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'json', 'application/json-patch+json', '', 'text/json', randomString(r, 20).replace(/[^\x20-\x7e]/g, '')]);
      if (ct !== '') headers['content-type'] = ct;
      maybeCookie();
      return { category, method: ROUTES[path], path, headers, body: Buffer.from(r.next() < 0.5 ? '{"user":"ok","sku":"a","qty":1}' : invalidBody(r, path)) };
    }
    case 'bad-body': {
      const path = r.pick(WRITES);
      headers['content-type'] = r.pick(['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON']);
      maybeCookie();
      const body = r.next() < 0.1 ? Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x7d]) : Buffer.from(invalidBody(r, path));
      return { category, method: ROUTES[path], path, headers, body };
    }
    case 'too-large': {
      const path = r.pick(WRITES);
      headers['content-type'] = 'application/json';
      maybeCookie();
      const size = 16 * 1024 + 1 + r.int(200 * 1024);
      const body = Buffer.from(JSON.stringify({ user: 'a', sku: 'a', qty: 1, pad: 'p'.repeat(size) }));
      return { category, method: ROUTES[path], path, headers, body };
    }
    case 'bad-cookie': {
      // Well-formed requests that need a session; only the cookie is wrong (never the valid one).
      const path = r.pick(['/session', '/cart/items', '/prefs']);
      headers.cookie = badCookie(r, validCookie);
      if (path === '/session') return { category, method: 'GET', path, headers };
      headers['content-type'] = 'application/json';
      const body = path === '/cart/items' ? '{"sku":"evil","qty":1}' : '{"theme":"evil"}';
      return { category, method: ROUTES[path], path, headers, body: Buffer.from(body) };
    }
    case 'cross-site': {
      // A write from another site, often with the victim's valid cookie and a valid body: a 403 whatever the rest says.
      const path = r.pick([...WRITES, '/logout']);
      headers.origin = r.pick(['https://evil.example', 'null', 'http://127.0.0.1.evil.example', 'http://127.0.0.1:1', 'https://127.0.0.1', `https://${pct(randomString(r, 12))}.example`, 'file://', 'https://evil.example/path']);
      const site = r.pick(['cross-site', 'same-site', 'same-origin', 'none', undefined]);
      if (site !== undefined) headers['sec-fetch-site'] = site;
      const ct = r.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]);
      if (ct !== undefined) headers['content-type'] = ct;
      headers.cookie = r.next() < 0.7 ? validCookie : badCookie(r, validCookie);
      const valid: Record<string, string> = { '/login': '{"user":"mallory"}', '/cart/items': '{"sku":"evil","qty":1}', '/prefs': '{"theme":"evil"}', '/logout': '{}' };
      const body = r.next() < 0.7 ? valid[path] : r.next() < 0.5 ? 'user=mallory&sku=evil&qty=1' : invalidBody(r, path === '/logout' ? '/login' : path);
      return { category, method: ROUTES[path], path, headers, body: Buffer.from(body) };
    }
    case 'big-header': {
      const path = r.pick(Object.keys(ROUTES));
      headers[`x-${r.int(1000)}`] = 'h'.repeat(17 * 1024 + r.int(50 * 1024));
      if (r.next() < 0.5) headers.cookie = `sid=${'c'.repeat(20 * 1024)}`;
      return { category, method: ROUTES[path], path, headers };
    }
    default: {
      const garbage = [
        'GARBAGE\r\n\r\n',
        'GET\r\n\r\n',
        'GET / HTTP/9.9\r\n\r\n',
        'POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
        'POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'GET /session HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
        'GET /session HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n',
        `BREW /${randomString(r, 10)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        `GET /s\u00e9ssion HTTP/1.1\r\nHost: x\r\n\r\n`,
        // Non-empty on purpose: empty lines before a request line are legal and just wait for the request.
        `X${randomString(r, 30)}\r\n\r\n`,
      ];
      return { category: 'raw', method: '', path: '', headers, raw: Buffer.from(r.pick(garbage), 'utf8') };
    }
  }
}

/** One request over a fresh TCP connection (Connection: close); resolves with the status (0 = closed without an answer). */
function sendRaw(port: number, fr: FuzzRequest): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const m = /^HTTP\/1\.[01] (-1|\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
      sock.destroy();
    };
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (/\r\n\r\n/.test(data)) done();
    });
    // A request the server is still waiting on after this long is a hang: reported as status -1.
    sock.setTimeout(5000, () => {
      data = 'HTTP/1.1 -1';
      done();
    });
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => {
      if (fr.raw) {
        sock.write(fr.raw);
        return;
      }
      let head = `${fr.method} ${fr.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
      for (const [k, v] of Object.entries(fr.headers)) head += `${k}: ${v}\r\n`;
      if (fr.body !== undefined) head += `Content-Length: ${fr.body.length}\r\n`;
      sock.write(Buffer.concat([Buffer.from(head + '\r\n', 'utf8'), fr.body ?? Buffer.alloc(0)]));
    });
  });
}

describe.each(BACKENDS.map((b) => [b] as [BackendKind]))('store %s', (kind) => {
  let started: AppOnStore | undefined;
  let runtime: SessionRuntime;
  let app: App;
  let port: number;
  let victim: Client;

  beforeAll(async () => {
    started = await startAppOnStore(kind, { servedBy: 'fuzz' });
    ({ runtime, app, port } = started);
    victim = new Client(httpSend(port));
    await victim.post('/login', { user: 'victim' });
    await victim.post('/cart/items', { sku: 'keep-me', qty: 3 });
    await victim.put('/prefs', { theme: 'dark' });
  });
  afterAll(async () => {
    await started?.stop();
  });

  async function victimState() {
    const r = await victim.get('/session');
    const id = runtime.manager.idFromCookies(victim.cookieHeader)!;
    const stored = await runtime.store.load(id, { now: Date.now(), idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 });
    return { status: r.status, body: r.json, version: stored?.version, data: stored?.data };
  }

  test(`${RAW_REQUESTS} malformed requests over TCP (seed ${SEED}) get only 4xx, the server stays up, an existing session is unchanged`, async () => {
    const before = await victimState();
    expect(before.status).toBe(200);
    const r = prng(SEED);
    const cookie = victim.cookieHeader;
    const outcomes = new Map<string, Map<number, number>>();
    const failures: string[] = [];
    const reqs = Array.from({ length: RAW_REQUESTS }, () => generate(r, cookie));
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < reqs.length; i = next++) {
        const fr = reqs[i];
        const status = await sendRaw(port, fr);
        const byStatus = outcomes.get(fr.category) ?? new Map<number, number>();
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        outcomes.set(fr.category, byStatus);
        if (status < 400 || status > 499) {
          failures.push(`#${i} ${fr.category} ${fr.method} ${fr.path.slice(0, 80)} → ${status} ${JSON.stringify(fr.headers).slice(0, 200)} ${fr.body?.toString('utf8').slice(0, 120) ?? ''}${fr.raw ? JSON.stringify(fr.raw.toString()) : ''}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures.slice(0, 10)).toEqual([]);
    // Every category was exercised and answered.
    expect([...outcomes.keys()].sort()).toEqual(['bad-body', 'bad-cookie', 'big-header', 'content-type', 'cross-site', 'raw', 'too-large', 'unknown-path', 'wrong-method']);
    // …each with the status its defect calls for.
    const statuses = (c: string) => [...outcomes.get(c)!.keys()].sort();
    expect(statuses('unknown-path')).toEqual([404]);
    expect(statuses('wrong-method')).toEqual([405]);
    expect(statuses('content-type')).toEqual([415]);
    expect(statuses('bad-body')).toEqual([400]);
    expect(statuses('too-large')).toEqual([413]);
    expect(statuses('bad-cookie')).toEqual([401]);
    expect(statuses('cross-site')).toEqual([403]);
    expect(statuses('big-header')).toEqual([431]);
    expect(statuses('raw')).toEqual([400]);
    expect((await new Client(httpSend(port)).get('/healthz')).status).toBe(200);
    expect(await victimState()).toEqual(before);
  });

  test(`${ADAPTER_REQUESTS} malformed requests through each Lambda adapter (seed ${SEED + 1}) get only 4xx and change no session`, async () => {
    const before = await victimState();
    const r = prng(SEED + 1);
    const cookie = victim.cookieHeader;
    for (const [name, send] of [['http-api', httpApiSend(app)], ['alb', albSend(app)]] as const) {
      const failures: string[] = [];
      for (let i = 0; i < ADAPTER_REQUESTS; i++) {
        const fr = generate(r, cookie);
        // Request-line garbage and oversized headers never reach a Lambda: API Gateway / ALB reject them.
        if (fr.raw || fr.category === 'big-header') continue;
        const { cookie: c, ...headers } = fr.headers;
        const res = await send({ method: fr.method, path: fr.path.split('?')[0], headers, body: fr.body, cookies: c !== undefined ? [c] : [] });
        if (res.status < 400 || res.status > 499) failures.push(`${name} #${i} ${fr.category} ${fr.method} ${fr.path.slice(0, 80)} → ${res.status} ${res.text.slice(0, 200)}`);
        if (typeof res.json?.error?.code !== 'string') failures.push(`${name} #${i}: no JSON error body: ${res.text.slice(0, 100)}`);
      }
      expect(failures.slice(0, 10)).toEqual([]);
    }
    expect(await victimState()).toEqual(before);
  });
});
