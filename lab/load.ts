/**
 * Simulated users for the lab: each has a cookie jar (test/support/app-client's Client), logs in,
 * adds cart lines with unique SKUs and reads its session back, and keeps score of what the
 * system promised it (every 200 to an append is a line that must be in the cart from then on).
 *
 * Every request is measured on the wire: latency, and the bytes its socket wrote and read for
 * it (request line + headers incl. Cookie + body, status line + headers incl. Set-Cookie + body)
 * between the client and the load balancer.
 */
import { Agent, request as httpRequest } from 'node:http';
import { Client, type Reply, type Send } from '../test/support/app-client';
import { quantile } from '../bench/stats';

/** Everything measured about requests, shared by the users of one run. */
export class Recorder {
  readonly latenciesMs: number[] = [];
  readonly bytes: number[] = [];
  readonly statuses = new Map<number, number>();
  /** When each request started (performance.now()), in the order of {@link latenciesMs} and {@link statusList}. */
  readonly startedAt: number[] = [];
  /** Each request's status (0: no answer), in the order of {@link latenciesMs}. */
  readonly statusList: number[] = [];
  requests = 0;
  /** 503s that haproxy answered itself ("No server is available": every instance was DOWN), not the app. */
  balancer503 = 0;

  /** A request that ended now, after `ms`. */
  record(status: number, ms: number, bytes: number | undefined, fromBalancer = false): void {
    this.requests++;
    if (fromBalancer) this.balancer503++;
    this.startedAt.push(performance.now() - ms);
    this.statusList.push(status);
    this.latenciesMs.push(ms);
    if (bytes !== undefined) this.bytes.push(bytes);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  /** The requests that started at or after `from` and ended by `to` (performance.now() times). */
  within(from: number, to: number): Array<{ status: number; ms: number }> {
    const out: Array<{ status: number; ms: number }> = [];
    for (let i = 0; i < this.startedAt.length; i++) {
      if (this.startedAt[i] >= from && this.startedAt[i] + this.latenciesMs[i] <= to) out.push({ status: this.statusList[i], ms: this.latenciesMs[i] });
    }
    return out;
  }

  count(pred: (status: number) => boolean): number {
    let n = 0;
    for (const [s, c] of this.statuses) if (pred(s)) n += c;
    return n;
  }

  percentile(p: number): number {
    if (this.latenciesMs.length === 0) return NaN;
    return quantile([...this.latenciesMs].sort((a, b) => a - b), p / 100);
  }

  meanBytes(): number {
    return this.bytes.length === 0 ? NaN : this.bytes.reduce((a, b) => a + b, 0) / this.bytes.length;
  }
}

/**
 * A Send over real HTTP to 127.0.0.1:`port` that records into `rec`. A network error or a
 * timeout becomes status 0 (the user sees a failed request, the run goes on).
 */
export function measuredSend(port: number, rec: Recorder, agent: Agent, timeoutMs = 15_000): Send {
  const send = (r: Parameters<Send>[0]) =>
    new Promise<Reply>((resolve) => {
      const t0 = performance.now();
      const headers: Record<string, string> = { ...r.headers };
      if (r.cookies.length > 0) headers.cookie = r.cookies.join('; ');
      if (r.body !== undefined) headers['content-length'] = String(r.body.length);
      let w0 = 0;
      let r0 = 0;
      let sock: import('node:net').Socket | undefined;
      let done = false;
      const finish = (status: number, reply: Reply, bytes?: number) => {
        if (done) return;
        done = true;
        rec.record(status, performance.now() - t0, bytes, status === 503 && /No server is available/.test(reply.text));
        resolve(reply);
      };
      const failed = (text: string): Reply => ({ status: 0, headers: {}, setCookies: [], text, json: undefined });
      const req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = sock ? sock.bytesWritten - w0 + (sock.bytesRead - r0) : undefined;
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (k !== 'set-cookie' && v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          finish(res.statusCode ?? 0, { status: res.statusCode ?? 0, headers: h, setCookies: res.headers['set-cookie'] ?? [], text, json }, bytes);
        });
        res.on('error', (e) => finish(0, failed(e.message)));
      });
      req.on('socket', (s) => {
        sock = s;
        w0 = s.bytesWritten;
        r0 = s.bytesRead;
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => finish(0, failed(e.message)));
      req.end(r.body);
    });
  // The balancer passes Host through: a page it served has this origin (the Client sends it on writes).
  return Object.assign(send, { origin: `http://127.0.0.1:${port}` });
}

/** What one user saw go wrong, by the system's promises. */
export interface UserScore {
  /** Times a logged-in session answered 401 (the session was gone). */
  sessionsLost: number;
  /** Lines acknowledged with a 200 that a later read did not show (or that went with a lost session). */
  linesLost: number;
  /** Lines acknowledged with a 200. */
  linesAcked: number;
  /** Requests answered 5xx or not at all (409 counted apart). */
  failed: number;
  /** 409 conflict after the manager's retries. */
  conflicts: number;
  /** Sessions this user started (logins that succeeded). */
  sessions: number;
}

let userSeq = 0;

export class SimUser {
  readonly name: string;
  readonly client: Client;
  readonly agent: Agent;
  /** SKUs acknowledged in the current session and not yet seen missing. */
  readonly expected = new Set<string>();
  /** SKUs whose append failed (5xx/network): they may or may not have landed. */
  readonly ambiguous = new Set<string>();
  /** `servedBy` of every successful read, in order. */
  readonly servedBy: string[] = [];
  readonly score: UserScore = { sessionsLost: 0, linesLost: 0, linesAcked: 0, failed: 0, conflicts: 0, sessions: 0 };
  /** SKUs of the cart in the last 200 read. */
  lastCart: string[] = [];
  loggedIn = false;
  private seq = 0;

  constructor(port: number, rec: Recorder, prefix = 'u') {
    this.name = `${prefix}${++userSeq}`;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
    this.client = new Client(measuredSend(port, rec, this.agent));
  }

  private classify(r: Reply): void {
    if (r.status === 401 && this.loggedIn) {
      this.score.sessionsLost++;
      this.score.linesLost += this.expected.size;
      this.expected.clear();
      this.loggedIn = false;
    } else if (r.status === 409) this.score.conflicts++;
    else if (r.status === 0 || r.status >= 500) this.score.failed++;
  }

  async login(): Promise<Reply> {
    const r = await this.client.post('/login', { user: this.name });
    if (r.status === 200) {
      this.loggedIn = true;
      this.score.sessions++;
      this.expected.clear();
    } else this.classify(r);
    return r;
  }

  async append(): Promise<Reply> {
    const sku = `${this.name}-${++this.seq}`;
    const r = await this.client.post('/cart/items', { sku, qty: 1 });
    if (r.status === 200) {
      this.expected.add(sku);
      this.score.linesAcked++;
    } else {
      if (r.status === 0 || r.status >= 500) this.ambiguous.add(sku);
      this.classify(r);
    }
    return r;
  }

  /** GET /session; checks that every acknowledged line is in the cart. */
  async read(): Promise<Reply> {
    const r = await this.client.get('/session');
    if (r.status === 200) {
      this.lastCart = SimUser.cartOf(r) ?? [];
      const cart = new Set(this.lastCart);
      for (const sku of [...this.expected]) {
        if (!cart.has(sku)) {
          this.score.linesLost++;
          this.expected.delete(sku);
        }
      }
      if (typeof r.json?.servedBy === 'string') this.servedBy.push(r.json.servedBy);
    } else this.classify(r);
    return r;
  }

  /** The cart SKUs of a 200 read, or undefined. */
  static cartOf(r: Reply): string[] | undefined {
    return r.status === 200 ? ((r.json?.cart ?? []) as Array<{ sku: string }>).map((l) => l.sku) : undefined;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadOptions {
  /** Stop starting requests after this long, ms (a hard bound). */
  readonly durationMs: number;
  /** Stop early once this is true (checked before each request). */
  readonly stop?: { readonly stopped: boolean };
  /** Upper bound on requests per user (the loop is bounded in count and time). @default 10000 */
  readonly maxRequestsPerUser?: number;
  /** Pause between a user's requests, ms. @default 10 */
  readonly thinkMs?: number;
}

/**
 * Every user in a loop until the time is up: log in when not logged in, else append then read.
 * Resolves when every user's last request has finished.
 */
export async function runLoad(users: readonly SimUser[], opts: LoadOptions): Promise<void> {
  const deadline = Date.now() + opts.durationMs;
  const max = opts.maxRequestsPerUser ?? 10_000;
  const think = opts.thinkMs ?? 10;
  await Promise.all(
    users.map(async (u, i) => {
      await sleep((i * 7) % 50); // spread the starts
      for (let n = 0; n < max && Date.now() < deadline && !opts.stop?.stopped; n++) {
        if (!u.loggedIn) await u.login();
        else if (n % 2 === 0) await u.append();
        else await u.read();
        if (think > 0) await sleep(think);
      }
    }),
  );
}

/** A final read by every user (after the system recovered), retried while the answer is 5xx/none. */
export async function finalCheck(users: readonly SimUser[], retryForMs = 5000): Promise<void> {
  await Promise.all(
    users.map(async (u) => {
      if (!u.loggedIn) return;
      const deadline = Date.now() + retryForMs;
      for (;;) {
        const r = await u.read();
        if ((r.status !== 0 && r.status < 500) || Date.now() > deadline) return;
        await sleep(100);
      }
    }),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sum of every user's score. */
export function totalScore(users: readonly SimUser[]): UserScore {
  const t: UserScore = { sessionsLost: 0, linesLost: 0, linesAcked: 0, failed: 0, conflicts: 0, sessions: 0 };
  for (const u of users) for (const k of Object.keys(t) as Array<keyof UserScore>) t[k] += u.score[k];
  return t;
}
