/**
 * haproxy as the stand-in for an ALB, in front of instance servers on 127.0.0.1.
 *
 * Runs in the foreground (`-db`, no daemon, no master) with its config in a temp dir, on a free
 * port, with an admin socket for runtime changes. What it does, and the ALB feature each line
 * stands for:
 *
 * | haproxy | ALB |
 * | --- | --- |
 * | `balance roundrobin` | round robin routing |
 * | `option httpchk GET /healthz`, `fall 3 rise 2`, `inter 600ms`, `timeout check 200ms` | the target group's health check: path and thresholds from INSTANCE_HEALTH_CHECK (lib/compute/health-check.ts), its interval and timeout scaled down together (15 s / 5 s there) |
 * | `retries 2` + `option redispatch 1` (retry-on: the default, connection failures only) | the ALB sends a new connection to a healthy target; neither retries a request that reached a target |
 * | `cookie AWSALB insert indirect nocache` + `server sN … cookie sN` | duration-based stickiness (`lb_cookie`, AWSALB) |
 * | `stick-table type string` + `stick on req.cook(<app cookie>)` + `stick store-response res.cook(<app cookie>)` | application-based stickiness (`app_cookie`): the pin is keyed on the app's own session cookie |
 * | `set server … state maint` / `ready` over the admin socket | deregister / register a target (a drained target gets no new requests) |
 *
 * The app-cookie mode differs from the ALB in one way: the ALB keeps the pin in its own
 * AWSALBAPP-* cookie (encrypted target id), haproxy in a stick table keyed on the app's cookie
 * value. Either way the pin follows the application's session cookie, and a new session id
 * (login regenerates it) is pinned to whichever instance issued it.
 *
 * Scale-out without a reload: the backend is declared with `slots` servers; the ones without an
 * instance yet start in maintenance at a placeholder address, and {@link Haproxy.setServer}
 * points one at a real port and makes it ready (`set server … addr`, `state ready`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTANCE_HEALTH_CHECK } from '../../lib/compute/health-check';
import { freePort, waitForPort } from './ports';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** How the balancer pins a client to an instance. */
export type Stickiness =
  /** No pinning: every request is balanced (centralized stores, JWT). */
  | { readonly kind: 'none' }
  /** Duration-based, the ALB's `lb_cookie`: haproxy inserts AWSALB=<server>. */
  | { readonly kind: 'lb-cookie'; readonly cookieName?: string }
  /** Application-based, the ALB's `app_cookie`: the pin is keyed on the app's own cookie. */
  | { readonly kind: 'app-cookie'; readonly appCookieName: string };

export interface HaproxyOptions {
  /** Ports of the instances to start with; server `s1` is the first. */
  readonly backends: readonly number[];
  /** Server slots in the backend (the ones beyond `backends` start in maintenance). @default backends.length */
  readonly slots?: number;
  /** @default { kind: 'none' } */
  readonly stickiness?: Stickiness;
  /** Health check interval, ms; the check's timeout scales with it (see {@link labHealthCheck}). @default 600 */
  readonly checkIntervalMs?: number;
  /** haproxy's `timeout server`, ms. @default 10000 */
  readonly serverTimeoutMs?: number;
}

/** The lab's health-check interval, ms: the target group's 15 s, scaled down so a test sees a verdict in seconds. */
export const LAB_CHECK_INTERVAL_MS = 600;

/** haproxy's health check, as the target group's ({@link INSTANCE_HEALTH_CHECK}) scaled in time only. */
export interface LabHealthCheck {
  readonly path: string;
  readonly intervalMs: number;
  /** The check's timeout: the target group's timeout/interval ratio (5 s of 15 s) applied to {@link intervalMs}. */
  readonly timeoutMs: number;
  /** Consecutive failures before a server is DOWN (`fall`): the target group's unhealthy threshold. */
  readonly fall: number;
  /** Consecutive passes before a server is UP again (`rise`): the target group's healthy threshold. */
  readonly rise: number;
  /** `fall × interval`: how long checks must fail before haproxy takes a server out, ms. */
  readonly unhealthyAfterMs: number;
}

/** The target group's health check at `intervalMs` instead of its 15 s: same path, thresholds and timeout ratio. */
export function labHealthCheck(intervalMs = LAB_CHECK_INTERVAL_MS): LabHealthCheck {
  const hc = INSTANCE_HEALTH_CHECK;
  const scale = intervalMs / (hc.intervalSeconds * 1000);
  return {
    path: hc.path,
    intervalMs,
    timeoutMs: Math.max(1, Math.round(hc.timeoutSeconds * 1000 * scale)),
    fall: hc.unhealthyThresholdCount,
    rise: hc.healthyThresholdCount,
    unhealthyAfterMs: intervalMs * hc.unhealthyThresholdCount,
  };
}

/** `s1`, `s2`, … for slot 0, 1, … */
export const serverName = (slot: number) => `s${slot + 1}`;

export function haproxyConfig(opts: HaproxyOptions, port: number, socket: string): string {
  const slots = opts.slots ?? opts.backends.length;
  if (slots < opts.backends.length) throw new Error('slots must be at least the number of backends');
  const st = opts.stickiness ?? { kind: 'none' };
  const hc = labHealthCheck(opts.checkIntervalMs);
  const inter = hc.intervalMs;
  const lines = [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  option httplog',
    '  timeout connect 1s',
    '  timeout client 30s',
    `  timeout server ${opts.serverTimeoutMs ?? 10_000}ms`,
    '  timeout http-keep-alive 10s',
    '  retries 2',
    '  option redispatch 1',
    'frontend web',
    `  bind 127.0.0.1:${port}`,
    '  default_backend app',
    'backend app',
    '  balance roundrobin',
    `  option httpchk GET ${hc.path}`,
    '  http-check expect status 200',
    `  timeout check ${hc.timeoutMs}ms`,
    `  default-server inter ${inter}ms fastinter ${inter}ms downinter ${inter}ms fall ${hc.fall} rise ${hc.rise}`,
  ];
  if (st.kind === 'lb-cookie') lines.push(`  cookie ${st.cookieName ?? 'AWSALB'} insert indirect nocache`);
  if (st.kind === 'app-cookie') {
    lines.push('  stick-table type string len 128 size 100k expire 30m');
    lines.push(`  stick on req.cook(${st.appCookieName})`);
    lines.push(`  stick store-response res.cook(${st.appCookieName})`);
  }
  for (let i = 0; i < slots; i++) {
    const name = serverName(i);
    const addr = i < opts.backends.length ? `127.0.0.1:${opts.backends[i]}` : '127.0.0.1:9';
    const cookie = st.kind === 'lb-cookie' ? ` cookie ${name}` : '';
    const state = i < opts.backends.length ? '' : ' disabled';
    lines.push(`  server ${name} ${addr} check${cookie}${state}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One server's line of haproxy's `show stat`. */
export interface ServerStats {
  /** UP, DOWN, MAINT, or a transition such as `UP 1/3` (one failed check of the 3 that take it DOWN). */
  readonly status: string;
  /** Failed health checks since haproxy started (`chkfail`). */
  readonly checksFailed: number;
  /** UP → DOWN transitions since haproxy started (`chkdown`). */
  readonly timesDown: number;
}

/** One haproxy process on 127.0.0.1:<port>. */
export class Haproxy {
  static async start(opts: HaproxyOptions): Promise<Haproxy> {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-haproxy-'));
    const port = await freePort();
    const socket = join(dir, 'admin.sock');
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(opts, port, socket));
    const proc = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    const h = new Haproxy(port, dir, socket, proc);
    try {
      const exited = new Promise<never>((_, reject) =>
        proc.once('exit', (code, signal) => reject(new Error(`haproxy exited (code ${code}, signal ${signal}):\n${h.output()}`))),
      );
      exited.catch(() => undefined);
      await Promise.race([waitForPort(port, 10_000), exited]);
      await h.waitForSocket();
      // Servers start UP with haproxy; wait for the first checks to settle anyway.
      await h.waitUntil((s) => opts.backends.every((_, i) => s.get(serverName(i)) === 'UP'), 10_000);
      return h;
    } catch (err) {
      await h.stop();
      throw err;
    }
  }

  private out = '';
  private readonly exited: Promise<void>;

  private constructor(
    /** Where clients connect. */
    readonly port: number,
    private readonly dir: string,
    private readonly socket: string,
    private readonly proc: ChildProcess,
  ) {
    const keep = (b: Buffer) => {
      this.out = (this.out + b.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((r) =>
      proc.once('exit', () => {
        live.delete(proc);
        r();
      }),
    );
  }

  /** What haproxy wrote (warnings, alerts). */
  output(): string {
    return this.out;
  }

  /** One admin-socket command; resolves with its answer. */
  command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socket);
      let text = '';
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`haproxy admin socket: no answer to "${cmd}"`));
      }, 5000);
      s.on('data', (b) => (text += b.toString()));
      s.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      s.on('end', () => {
        clearTimeout(timer);
        resolve(text);
      });
      s.write(`${cmd}\n`);
    });
  }

  /** Server name → status (UP, DOWN, MAINT, …) from `show stat`. */
  async serverStates(): Promise<Map<string, string>> {
    return new Map([...(await this.serverStats())].map(([name, s]) => [name, s.status]));
  }

  /** Server name → its status and health-check counters, from `show stat` (columns found by the CSV header's names). */
  async serverStats(): Promise<Map<string, ServerStats>> {
    const lines = (await this.command('show stat')).split('\n');
    const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
    const col = (name: string) => {
      const i = header.indexOf(name);
      if (i < 0) throw new Error(`haproxy "show stat" has no column ${name}: ${lines[0]}`);
      return i;
    };
    const [sv, status, chkfail, chkdown] = [col('svname'), col('status'), col('chkfail'), col('chkdown')];
    const stats = new Map<string, ServerStats>();
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      if (f[0] === 'app' && f[sv] !== 'BACKEND' && f[sv] !== 'FRONTEND' && f[sv] !== undefined) {
        stats.set(f[sv], { status: f[status], checksFailed: Number(f[chkfail] || 0), timesDown: Number(f[chkdown] || 0) });
      }
    }
    return stats;
  }

  /** Polls {@link serverStates} until `ok` holds. */
  async waitUntil(ok: (states: Map<string, string>) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.serverStates();
      if (ok(s)) return;
      if (Date.now() > deadline) throw new Error(`haproxy servers not as expected after ${timeoutMs} ms: ${JSON.stringify([...s])}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Register a target: point slot `slot` at 127.0.0.1:`port` and make it ready (health checks decide UP). */
  async setServer(slot: number, port: number): Promise<void> {
    const name = serverName(slot);
    await this.expectOk(`set server app/${name} addr 127.0.0.1 port ${port}`);
    await this.expectOk(`set server app/${name} state ready`);
  }

  /** Deregister a target: no new requests (requests in flight finish), like ALB deregistration. */
  async drain(slot: number): Promise<void> {
    await this.expectOk(`set server app/${serverName(slot)} state maint`);
  }

  /** Undo {@link drain}. */
  async ready(slot: number): Promise<void> {
    await this.expectOk(`set server app/${serverName(slot)} state ready`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async expectOk(cmd: string): Promise<void> {
    const answer = (await this.command(cmd)).trim();
    // "set server addr" answers with a description of the change; errors name themselves.
    if (/no such|unknown|error|require|invalid|not found/i.test(answer)) throw new Error(`haproxy: "${cmd}" → ${answer}`);
  }

  private async waitForSocket(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await this.command('show info');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 30));
      }
    }
  }
}
