/**
 * The lab's failure scenarios. Each starts its own instances and haproxy on a running store,
 * puts simulated users (lab/load.ts) on it, injects one failure while the load runs, lets the
 * system recover, has every user read its session a last time, and returns what was lost.
 *
 * | scenario | what happens under load |
 * | --- | --- |
 * | kill | SIGKILL one of 3 instances (haproxy finds out by its health checks) |
 * | rolling | every instance replaced in turn: deregister (haproxy maint), SIGTERM (graceful drain), new instance, register |
 * | outage | the store goes away for `outageMs` (how: the topology's `outage`), then comes back |
 * | outage-long | the store hangs (SIGSTOP) longer than the health check's unhealthy threshold: every instance stays UP, requests get 503s within the store timeout, all recovers without a restart |
 * | concurrent | rounds of `wide` concurrent cart appends per user, then a read |
 * | scaleout | 2 instances → 4 (two more started and registered while the load runs) |
 * | promote | Redis only: a replica promoted (REPLICAOF NO ONE), the old primary killed, clients moved (lab/tcp-proxy.ts) |
 * | nodeloss | Memcached only: one of 2 nodes SIGKILLed, down `nodeDownMs`, restarted empty on the same port (an ElastiCache node replacement) |
 */
import { Agent } from 'node:http';
import { DEFAULTS } from '../lambda/session/env';
import { INSTANCE_HEALTH_CHECK } from '../lib/compute/health-check';
import { baseEnv } from '../test/support/app-backends';
import { Client, httpSend } from '../test/support/app-client';
import { labHealthCheck, type ServerStats } from '../test/support/haproxy';
import { emfLines, metricCurve, phaseTotal, type CurvePoint } from '../test/support/emf';
import { RedisServer } from '../test/support/redis-server';
import { Cluster } from './cluster';
import { finalCheck, Recorder, runLoad, SimUser, sleep, totalScore } from './load';
import { TcpProxy } from './tcp-proxy';
import type { StoreHandle, Topology } from './topologies';

export const SCENARIO_NAMES = ['kill', 'rolling', 'outage', 'outage-long', 'concurrent', 'scaleout', 'promote', 'nodeloss'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface LabSizes {
  /** Simulated users per scenario. */
  readonly users: number;
  /** Load duration per scenario, ms (longer when the injected event takes longer). */
  readonly durationMs: number;
  /** Concurrent appends per user in `concurrent`. */
  readonly wide: number;
  /** How long the store stays away in `outage`, ms; `outage-long` hangs it at least this long, and at least twice haproxy's unhealthy threshold. */
  readonly outageMs: number;
  /** Pause between a user's requests, ms. */
  readonly thinkMs: number;
  /** How long the lost memcached node stays down in `nodeloss` before its empty replacement starts, ms. @default 1500 */
  readonly nodeDownMs?: number;
}

export const DEFAULT_SIZES: LabSizes = { users: 24, durationMs: 6000, wide: 10, outageMs: 5000, thinkMs: 10, nodeDownMs: 1500 };

/** What `nodeloss` measured beyond the common columns. */
export interface NodeLossDetail {
  /** SIGKILL → the replacement accepts connections, ms. */
  readonly downMs: number;
  /** SIGKILL → every instance UP in haproxy again, ms: the window the `window*` counts cover. */
  readonly windowMs: number;
  /** Users logged in when the node was killed. */
  readonly sessionsAtKill: number;
  /** Users whose session the runtime's hashing (MemcachedStore.serverOf) put on the killed node. */
  readonly onLostNode: readonly string[];
  /** Users who got a 401 (had to log in again), whichever node their session was on. */
  readonly lostUsers: readonly string[];
  /** Sessions not found (raw `get` on every node just before the kill) on exactly the node serverOf names. */
  readonly placementMismatches: number;
  /** Acknowledged lines lost by users whose session was on a surviving node. */
  readonly linesLostOnSurvivors: number;
  /** Appends answered 200 for sessions on the killed node between the kill (+50 ms) and its restart. */
  readonly ackedWhileDown: number;
  /** Requests answered 5xx/none within the window, and how many of them were 503. */
  readonly windowFailed: number;
  readonly window503: number;
  /** Of those 503s, the ones haproxy answered itself (every instance DOWN). */
  readonly window503ByBalancer: number;
  /** Of {@link windowFailed}, the requests of users whose session was on a surviving node. */
  readonly windowFailedOnSurvivors: number;
  /** Most instances DOWN in haproxy at once during the window. */
  readonly maxInstancesDown: number;
}

/** What `outage-long` measured beyond the common columns. */
export interface OutageLongDetail {
  /** How long the store was hung, ms (SIGSTOP confirmed → SIGCONT). */
  readonly hungMs: number;
  /** haproxy's `fall × inter`: checks failing this long would have taken an instance out, ms. */
  readonly unhealthyAfterMs: number;
  /** The instances' SESSION_STORE_TIMEOUT_MS. */
  readonly storeTimeoutMs: number;
  /** Requests that started after the store hung and were answered before it resumed. */
  readonly hungRequests: number;
  /** Of those, the ones answered 503. */
  readonly hung503: number;
  /** The slowest of those, ms at the client (through haproxy). */
  readonly hungSlowestMs: number;
  /** Most instances not UP in haproxy at once, sampled every 50 ms from the hang until recovery. */
  readonly maxInstancesDown: number;
  /** UP → DOWN transitions of any instance in haproxy's counters (`chkdown`) over the scenario. */
  readonly timesDown: number;
  /** Failed health checks over the scenario (`chkfail`). */
  readonly checksFailed: number;
  /** Each instance asked directly once the hang was past the unhealthy threshold: /healthz status, /readyz status and ms. */
  readonly probes: ReadonlyArray<{ readonly healthz: number; readonly readyz: number; readonly readyzMs: number }>;
  /** Instances whose process exited or was replaced during the scenario (pid compared). */
  readonly restarted: number;
  /** SIGCONT → every instance's /readyz answers 200, ms. */
  readonly recoveredMs: number;
}

/**
 * What the instances' own metrics said about an outage: SESSION_METRICS=on with 1 s flushes, the
 * EMF lines from every instance's stdout summed per second around the outage (test/support/emf.ts).
 * CloudWatch would show the same curve, per minute.
 */
export interface StoreErrorCurve {
  /** How the store went away (the topology's `outage`). */
  readonly how: string;
  /** From the store going away to it being back, ms. */
  readonly outageMs: number;
  readonly instances: number;
  readonly points: CurvePoint[];
}

export interface ScenarioResult {
  readonly topology: string;
  readonly scenario: ScenarioName;
  /** Why it did not run (not applicable, or failed to run). */
  readonly skipped?: string;
  readonly users: number;
  /** Sessions started (successful logins). */
  readonly sessions: number;
  readonly sessionsLost: number;
  readonly linesAcked: number;
  readonly linesLost: number;
  readonly requests: number;
  /** 5xx or no answer. */
  readonly failed: number;
  readonly status503: number;
  readonly conflicts: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bytesPerRequest: number;
  /** Logout → the old cookie refused everywhere, ms; a string when it was not refused in the window. */
  readonly revocation?: number | string;
  /** `nodeloss` only. */
  readonly nodeLoss?: NodeLossDetail;
  /** `outage-long` only. */
  readonly outageLong?: OutageLongDetail;
  /** `outage` only: the runtime's own metrics, per second, read from the EMF lines the instances wrote. */
  readonly storeErrorCurve?: StoreErrorCurve;
  readonly notes: string[];
}

export interface ScenarioContext {
  readonly topology: Topology;
  readonly store: StoreHandle;
  readonly sizes: LabSizes;
  /** Progress lines. @default - none */
  readonly log?: (line: string) => void;
}

type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;

function skipped(ctx: ScenarioContext, scenario: ScenarioName, why: string): ScenarioResult {
  return {
    topology: ctx.topology.name,
    scenario,
    skipped: why,
    users: 0,
    sessions: 0,
    sessionsLost: 0,
    linesAcked: 0,
    linesLost: 0,
    requests: 0,
    failed: 0,
    status503: 0,
    conflicts: 0,
    p50Ms: NaN,
    p99Ms: NaN,
    bytesPerRequest: NaN,
    notes: [],
  };
}

function result(ctx: ScenarioContext, scenario: ScenarioName, users: SimUser[], rec: Recorder, notes: string[], revocation?: number | string, nodeLoss?: NodeLossDetail, outageLong?: OutageLongDetail): ScenarioResult {
  const t = totalScore(users);
  for (const u of users) u.close();
  return {
    topology: ctx.topology.name,
    scenario,
    users: users.length,
    sessions: t.sessions,
    sessionsLost: t.sessionsLost,
    linesAcked: t.linesAcked,
    linesLost: t.linesLost,
    requests: rec.requests,
    failed: t.failed,
    status503: rec.statuses.get(503) ?? 0,
    conflicts: t.conflicts,
    p50Ms: rec.percentile(50),
    p99Ms: rec.percentile(99),
    bytesPerRequest: rec.meanBytes(),
    revocation,
    nodeLoss,
    outageLong,
    notes,
  };
}

/** Appends that failed (5xx/none) but whose line is in the final cart: the write landed, the client was told it did not. */
function landedAnyway(users: SimUser[]): number {
  let n = 0;
  for (const u of users) for (const sku of u.ambiguous) if (u.lastCart.includes(sku)) n++;
  return n;
}

/**
 * Runs the load on `cluster` while `event` happens `durationMs/3` in; the load goes on until
 * `durationMs` has passed and at least `tailMs` after the event, then every user reads once more.
 */
async function underLoad(
  ctx: ScenarioContext,
  cluster: Cluster,
  event: () => Promise<void>,
  tailMs = 1000,
  onUsers?: (users: SimUser[], rec: Recorder) => void,
): Promise<{ users: SimUser[]; rec: Recorder }> {
  const rec = new Recorder();
  const users = Array.from({ length: ctx.sizes.users }, () => new SimUser(cluster.port, rec));
  onUsers?.(users, rec);
  const stop = { stopped: false };
  const started = Date.now();
  const load = runLoad(users, { durationMs: ctx.sizes.durationMs + 60_000, stop, thinkMs: ctx.sizes.thinkMs });
  try {
    await sleep(ctx.sizes.durationMs / 3);
    await event();
    await sleep(Math.max(tailMs, ctx.sizes.durationMs - (Date.now() - started)));
  } finally {
    stop.stopped = true;
    await load;
  }
  await finalCheck(users);
  return { users, rec };
}

async function withCluster<T>(ctx: ScenarioContext, opts: { instances?: number; slots?: number; env?: Record<string, string> }, fn: (c: Cluster) => Promise<T>): Promise<T> {
  const cluster = await Cluster.start({ env: opts.env ?? ctx.store.env, stickiness: ctx.topology.stickiness, instances: opts.instances, slots: opts.slots });
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

/**
 * Use the cookie on every instance, log out, then replay the old cookie through the load balancer until it is refused
 * `2 × instances` times in a row (every instance saw it), within `windowMs`.
 * Returns ms from the logout's answer to the last time the old cookie was still accepted (0 when never).
 */
export async function revocationDelay(port: number, windowMs = 2000, instances = 3): Promise<number | string> {
  const rec = new Recorder();
  const u = new SimUser(port, rec, 'revoke');
  try {
    if ((await u.login()).status !== 200) return 'login failed';
    const oldCookie = u.client.cookieHeader;
    // The worst case: every instance has just accepted the cookie (and may have cached that it
    // was not revoked: SESSION_REVOCATION_CACHE_MS), then the user logs out through one of them.
    for (let i = 0; i < 2 * instances; i++) await u.client.get('/session', { cookie: oldCookie });
    const out = await u.client.post('/logout');
    if (out.status !== 204) return `logout answered ${out.status}`;
    const t0 = performance.now();
    let lastAccepted = 0;
    let refusedInARow = 0;
    while (performance.now() - t0 < windowMs) {
      const r = await u.client.get('/session', { cookie: oldCookie });
      if (r.status === 200) {
        lastAccepted = performance.now() - t0;
        refusedInARow = 0;
      } else if (r.status === 401 && ++refusedInARow >= 2 * instances) return lastAccepted;
      await sleep(20);
    }
    return `not revoked in ${windowMs} ms (valid until exp)`;
  } finally {
    u.close();
  }
}

const kill: Scenario = (ctx) =>
  withCluster(ctx, {}, async (c) => {
    const notes: string[] = [];
    let killedAt = 0;
    const { users, rec } = await underLoad(ctx, c, async () => {
      killedAt = Date.now();
      await c.kill(0);
      await c.lb.waitUntil((s) => s.get('s1') !== 'UP', 10_000);
      notes.push(`s1 SIGKILLed; haproxy marked it DOWN after ${Date.now() - killedAt} ms`);
    });
    const revocation = await revocationDelay(c.port);
    return result(ctx, 'kill', users, rec, notes, revocation);
  });

const rolling: Scenario = (ctx) =>
  withCluster(ctx, {}, async (c) => {
    const t0 = Date.now();
    const { users, rec } = await underLoad(ctx, c, async () => {
      for (let i = 0; i < 3; i++) await c.replace(i);
    });
    return result(ctx, 'rolling', users, rec, [`3 instances replaced one by one (deregister, SIGTERM, start, register) in ${((Date.now() - t0) / 1000).toFixed(1)} s`]);
  });

/** SESSION_METRICS_INTERVAL_SECONDS in `outage`: one EMF line per instance per second. */
const OUTAGE_METRICS_FLUSH_SECONDS = 1;

const outage: Scenario = async (ctx) => {
  const { down, up } = ctx.store;
  if (!down || !up) return skipped(ctx, 'outage', 'no server-side store to take away (memory: the sessions live in the instances; JWT without a denylist: nothing server-side)');
  // The instances write their runtime metrics (EMF on stdout, as CloudWatch Logs would get them).
  const env = { ...ctx.store.env, SESSION_METRICS: 'on', SESSION_METRICS_INTERVAL_SECONDS: String(OUTAGE_METRICS_FLUSH_SECONDS), POWERTOOLS_SERVICE_NAME: 'lab' };
  return withCluster(ctx, { env }, async (c) => {
    const how = ctx.store.outage ?? 'store down';
    const notes: string[] = [how];
    let downAt = 0;
    let upAt = 0;
    const { users, rec } = await underLoad(
      ctx,
      c,
      async () => {
        downAt = Date.now();
        await down();
        await sleep(ctx.sizes.outageMs);
        await up();
        upAt = Date.now();
        const t = Date.now();
        await c.waitAllUp();
        notes.push(`all instances healthy again ${Date.now() - t} ms after the store came back`);
      },
      3000, // load goes on 3 s after: the metric curve gets seconds wholly after the outage
    );
    notes.push(`${landedAnyway(users)} appends answered 5xx/none landed anyway`);
    // One more flush, so the last second of load is in the lines too.
    await sleep(OUTAGE_METRICS_FLUSH_SECONDS * 1000 + 500);
    const running = c.slots.filter((s) => s !== undefined);
    const points = metricCurve(
      running.flatMap((s) => emfLines(s.output())),
      downAt,
      upAt,
      OUTAGE_METRICS_FLUSH_SECONDS * 1000,
    );
    const errors = (phase: CurvePoint['phase']) => phaseTotal(points, phase, 'storeErrors');
    notes.push(`StoreErrors in the instances' EMF lines: ${errors('before')} before, ${errors('outage')} during, ${errors('after')} after the outage`);
    return { ...result(ctx, 'outage', users, rec, notes), storeErrorCurve: { how, outageMs: upAt - downAt, instances: running.length, points } };
  });
};

/** GET `path` on one instance directly (not through haproxy): status (0: no answer) and ms. */
async function probe(port: number, path: string): Promise<{ status: number; ms: number }> {
  const agent = new Agent({ keepAlive: false });
  const t0 = performance.now();
  try {
    const r = await new Client(httpSend(port, agent)).get(path).catch(() => ({ status: 0 }));
    return { status: r.status, ms: performance.now() - t0 };
  } finally {
    agent.destroy();
  }
}

const sum = (stats: Map<string, ServerStats>, f: (s: ServerStats) => number) => [...stats.values()].reduce((n, s) => n + f(s), 0);

/**
 * The store hangs (SIGSTOP: connections open, nothing answers) for longer than haproxy's
 * `fall × inter`, which the target group's health check (INSTANCE_HEALTH_CHECK) scales to. The
 * load balancer's check is the instances' liveness (/healthz), so every instance stays UP:
 * requests reach them and get the app's 503 within the store timeout, /readyz says 503, and
 * once the store resumes everything is served again by the same processes.
 */
const outageLong: Scenario = async (ctx) => {
  const { freeze, thaw } = ctx.store;
  if (!freeze || !thaw) return skipped(ctx, 'outage-long', 'the store cannot be hung here (SIGSTOP needs it in a process of its own: Redis, Memcached)');
  const check = labHealthCheck();
  const storeTimeoutMs = Number(ctx.store.env.SESSION_STORE_TIMEOUT_MS ?? DEFAULTS.storeTimeoutMs);
  const hangFor = Math.max(ctx.sizes.outageMs, 2 * check.unhealthyAfterMs);
  return withCluster(ctx, {}, async (c) => {
    const pids = c.slots.map((s) => s?.proc.pid);
    const before = await c.lb.serverStats();
    let recorder: Recorder | undefined;
    let hungFrom = 0;
    let hungTo = 0;
    let recoveredMs = 0;
    let maxDown = 0;
    let probes: OutageLongDetail['probes'] = [];
    const { users, rec } = await underLoad(
      ctx,
      c,
      async () => {
        await freeze();
        hungFrom = performance.now();
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const st = await c.lb.serverStates();
            maxDown = Math.max(maxDown, [...st.values()].filter((v) => !v.startsWith('UP')).length);
            await sleep(50);
          }
        })();
        try {
          // Once past the threshold (plus a check's interval and timeout), ask each instance itself.
          await sleep(check.unhealthyAfterMs + check.intervalMs + check.timeoutMs);
          probes = await Promise.all(
            c.slots.map(async (inst) => {
              const [h, r] = await Promise.all([probe(inst!.port, check.path), probe(inst!.port, '/readyz')]);
              return { healthz: h.status, readyz: r.status, readyzMs: r.ms };
            }),
          );
          await sleep(Math.max(0, hangFor - (performance.now() - hungFrom)));
          hungTo = performance.now();
          await thaw();
          for (const deadline = Date.now() + 15_000; ; ) {
            const ready = await Promise.all(c.slots.map((inst) => probe(inst!.port, '/readyz')));
            if (ready.every((r) => r.status === 200)) break;
            if (Date.now() > deadline) throw new Error(`/readyz not 200 on every instance 15 s after the store resumed: ${ready.map((r) => r.status).join(', ')}`);
            await sleep(50);
          }
          recoveredMs = performance.now() - hungTo;
          await c.waitAllUp();
        } finally {
          sampling = false;
          await sampler;
        }
      },
      1500,
      (_u, r) => (recorder = r),
    );
    const after = await c.lb.serverStats();
    const restarted = c.slots.filter((inst, i) => inst === undefined || inst.proc.pid !== pids[i] || inst.proc.exitCode !== null || inst.proc.signalCode !== null).length;
    const hung = recorder!.within(hungFrom, hungTo);
    const detail: OutageLongDetail = {
      hungMs: hungTo - hungFrom,
      unhealthyAfterMs: check.unhealthyAfterMs,
      storeTimeoutMs,
      hungRequests: hung.length,
      hung503: hung.filter((r) => r.status === 503).length,
      hungSlowestMs: hung.reduce((m, r) => Math.max(m, r.ms), 0),
      maxInstancesDown: maxDown,
      timesDown: sum(after, (s) => s.timesDown) - sum(before, (s) => s.timesDown),
      checksFailed: sum(after, (s) => s.checksFailed) - sum(before, (s) => s.checksFailed),
      probes,
      restarted,
      recoveredMs,
    };
    const notes = [
      `${ctx.topology.name} hung ${(detail.hungMs / 1000).toFixed(1)} s, past haproxy's unhealthy threshold (fall ${check.fall} × ${check.intervalMs} ms = ${(check.unhealthyAfterMs / 1000).toFixed(1)} s, the target group's ${INSTANCE_HEALTH_CHECK.unhealthyThresholdCount} × ${INSTANCE_HEALTH_CHECK.intervalSeconds} s scaled)`,
      `instances DOWN at most ${maxDown} at once, ${detail.timesDown} UP→DOWN transitions, ${detail.checksFailed} failed checks; /healthz ${probes.map((p) => p.healthz).join('/')} and /readyz ${probes.map((p) => p.readyz).join('/')} during the hang`,
      `${detail.hung503} of ${detail.hungRequests} requests during the hang answered 503, the slowest in ${detail.hungSlowestMs.toFixed(0)} ms (store timeout ${storeTimeoutMs} ms)`,
      `every /readyz 200 ${recoveredMs.toFixed(0)} ms after SIGCONT; ${restarted} instances restarted`,
    ];
    return result(ctx, 'outage-long', users, rec, notes, undefined, undefined, detail);
  });
};

const concurrent: Scenario = (ctx) =>
  withCluster(ctx, {}, async (c) => {
    const rec = new Recorder();
    const users = Array.from({ length: ctx.sizes.users }, () => new SimUser(c.port, rec));
    const deadline = Date.now() + ctx.sizes.durationMs;
    let rounds = 0;
    await Promise.all(
      users.map(async (u) => {
        for (let round = 0; round < 50 && Date.now() < deadline; round++) {
          if (!u.loggedIn && (await u.login()).status !== 200) continue;
          await Promise.all(Array.from({ length: ctx.sizes.wide }, () => u.append()));
          await u.read();
          rounds++;
        }
      }),
    );
    await finalCheck(users);
    return result(ctx, 'concurrent', users, rec, [`${rounds} rounds of ${ctx.sizes.wide} concurrent appends (user × round)`]);
  });

const scaleout: Scenario = (ctx) =>
  withCluster(ctx, { instances: 2, slots: 4 }, async (c) => {
    // Reads each user had made when the new instances were registered.
    let before = new Map<SimUser, number>();
    let registeredIn = 0;
    let current: SimUser[] = [];
    const { users, rec } = await underLoad(
      ctx,
      c,
      async () => {
        const t = Date.now();
        await Promise.all([c.add(2), c.add(3)]);
        registeredIn = Date.now() - t;
        before = new Map(current.map((u) => [u, u.servedBy.length]));
      },
      1000,
      (u) => (current = u),
    );
    let after = 0;
    let onNew = 0;
    for (const u of users) {
      const tail = u.servedBy.slice(before.get(u) ?? 0);
      after += tail.length;
      onNew += tail.filter((s) => s.startsWith('s3') || s.startsWith('s4')).length;
    }
    const share = after === 0 ? 0 : (100 * onNew) / after;
    return result(ctx, 'scaleout', users, rec, [`2 → 4 instances (started and healthy in ${registeredIn} ms); the new ones answered ${share.toFixed(0)} % of the reads after that`]);
  });

const promote: Scenario = async (ctx) => {
  if (ctx.topology.name !== 'redis') return skipped(ctx, 'promote', 'Redis only');
  const primary = await RedisServer.start();
  const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const proxy = await TcpProxy.start(primary.port);
  try {
    const deadline = Date.now() + 10_000;
    while (!/master_link_status:up/.test(await replica.cli('INFO', 'replication'))) {
      if (Date.now() > deadline) throw new Error('replica never caught up');
      await sleep(50);
    }
    const env = baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    return await withCluster(ctx, { env }, async (c) => {
      const notes: string[] = [];
      const { users, rec } = await underLoad(ctx, c, async () => {
        const [pi, ri] = await Promise.all([primary.cli('INFO', 'replication'), replica.cli('INFO', 'replication')]);
        const offset = (info: string) => Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
        const lag = Math.max(0, offset(pi) - offset(ri));
        const t = performance.now();
        await replica.cli('REPLICAOF', 'NO', 'ONE');
        await primary.kill();
        proxy.switchTo(replica.port);
        notes.push(`promoted with the replica ≈${lag} bytes behind (INFO read in parallel); promote + kill + endpoint switch took ${(performance.now() - t).toFixed(0)} ms`);
      });
      notes.push('clients follow through a TCP proxy standing in for the primary endpoint DNS flip (simulated); ioredis reconnects (real)');
      return result(ctx, 'promote', users, rec, notes);
    });
  } finally {
    await proxy.close();
    await replica.dispose();
    await primary.dispose();
  }
};

/** The session id in a user's `sid` cookie (`<id>.<signature>`), or undefined when it has none. */
function sessionIdOf(u: SimUser): string | undefined {
  const v = u.client.jar.get('sid');
  const dot = v?.lastIndexOf('.') ?? -1;
  return v && dot > 0 ? v.slice(0, dot) : undefined;
}

const nodeloss: Scenario = async (ctx) => {
  const nodes = ctx.store.memcached;
  if (!nodes || nodes.length < 2) return skipped(ctx, 'nodeloss', 'Memcached only (a node-based cluster: 2 nodes, no replication)');
  const victim = nodes[0];
  const downFor = ctx.sizes.nodeDownMs ?? DEFAULT_SIZES.nodeDownMs!;
  // The runtime's own placement: the same server list the instances got, only for serverOf/keyOf (no connection is made).
  const { MemcachedStore } = require('../lambda/session/stores/memcached') as typeof import('../lambda/session/stores/memcached');
  const placement = new MemcachedStore({ servers: nodes.map((n) => n.address) });
  try {
    return await withCluster(ctx, {}, async (c) => {
      let current: SimUser[] = [];
      const onLost = new Set<SimUser>();
      let atKill = 0;
      let mismatches = 0;
      let downMs = 0;
      let windowMs = 0;
      let maxDown = 0;
      const statusesAt = (rec: Recorder) => ({ failed: rec.count((s) => s === 0 || s >= 500), s503: rec.statuses.get(503) ?? 0, lb503: rec.balancer503 });
      let w0 = { failed: 0, s503: 0, lb503: 0 };
      let w1 = w0;
      let recorder: Recorder | undefined;
      const ackedAt = new Map<SimUser, number>();
      let ackedWhileDown = 0;
      const failedAt = new Map<SimUser, number>();
      let failedOnSurvivors = 0;
      const { users, rec } = await underLoad(
        ctx,
        c,
        async () => {
          // Where every logged-in user's session is: by the runtime's hashing, and by asking each node.
          await Promise.all(
            current.map(async (u) => {
              const id = sessionIdOf(u);
              if (!u.loggedIn || id === undefined) return;
              atKill++;
              const key = placement.keyOf(id);
              const holders = (await Promise.all(nodes.map(async (n) => ((await n.raw(`get ${key}`)).startsWith('VALUE') ? n.address : undefined)))).filter((a) => a !== undefined);
              const hashed = placement.serverOf(id);
              if (holders.length !== 1 || holders[0] !== hashed) mismatches++;
              if (hashed === victim.address) onLost.add(u);
            }),
          );
          // Samples haproxy's view of the instances until the window ends.
          let sampling = true;
          const sampler = (async () => {
            while (sampling) {
              const st = await c.lb.serverStates();
              maxDown = Math.max(maxDown, [...st.values()].filter((v) => v.startsWith('DOWN')).length);
              await sleep(50);
            }
          })();
          w0 = statusesAt(recorder!);
          for (const u of current) failedAt.set(u, u.score.failed);
          const t0 = performance.now();
          await victim.kill();
          await sleep(50); // a reply already on its way for a write the node took before it died
          for (const u of onLost) ackedAt.set(u, u.score.linesAcked);
          await sleep(Math.max(0, downFor - (performance.now() - t0)));
          for (const u of onLost) ackedWhileDown += u.score.linesAcked - (ackedAt.get(u) ?? u.score.linesAcked);
          await victim.restart(); // the replacement: same endpoint, empty
          downMs = performance.now() - t0;
          await c.waitAllUp();
          windowMs = performance.now() - t0;
          w1 = statusesAt(recorder!);
          for (const u of current) if (!onLost.has(u)) failedOnSurvivors += u.score.failed - (failedAt.get(u) ?? 0);
          sampling = false;
          await sampler;
        },
        1500,
        (u, r) => {
          current = u;
          recorder = r;
        },
      );
      const lost = users.filter((u) => u.score.sessionsLost > 0);
      const survivorsLinesLost = users.filter((u) => !onLost.has(u)).reduce((n, u) => n + u.score.linesLost, 0);
      const detail: NodeLossDetail = {
        downMs,
        windowMs,
        sessionsAtKill: atKill,
        onLostNode: [...onLost].map((u) => u.name),
        lostUsers: lost.map((u) => u.name),
        placementMismatches: mismatches,
        linesLostOnSurvivors: survivorsLinesLost,
        ackedWhileDown,
        windowFailed: w1.failed - w0.failed,
        window503: w1.s503 - w0.s503,
        window503ByBalancer: w1.lb503 - w0.lb503,
        windowFailedOnSurvivors: failedOnSurvivors,
        maxInstancesDown: maxDown,
      };
      const lostElsewhere = lost.filter((u) => !onLost.has(u)).length;
      const linesOnLost = users.filter((u) => onLost.has(u)).reduce((n, u) => n + u.score.linesLost, 0);
      const notes = [
        `1 of 2 nodes SIGKILLed, replaced empty on the same port after ${(downMs / 1000).toFixed(1)} s; every instance UP again ${(windowMs / 1000).toFixed(1)} s after the kill`,
        `${onLost.size} of ${atKill} sessions (${atKill === 0 ? 0 : ((100 * onLost.size) / atKill).toFixed(0)} %) lived on the lost node (MemcachedStore.serverOf; ${mismatches === 0 ? 'every key found on that node and no other' : `${mismatches} keys not where serverOf says`})`,
        `lost: ${lost.length - lostElsewhere} of those, ${lostElsewhere} elsewhere; lines lost ${linesOnLost} on the lost node, ${survivorsLinesLost} on the survivor`,
        `${detail.windowFailed} failed in the window, ${detail.window503} of them 503, ${failedOnSurvivors} of them for sessions on the surviving node (${detail.window503ByBalancer} answered by haproxy itself: up to ${maxDown} of 3 instances DOWN); ${ackedWhileDown} appends answered 200 for a session on the dead node`,
      ];
      return result(ctx, 'nodeloss', users, rec, notes, undefined, detail);
    });
  } finally {
    await placement.close();
  }
};

export const SCENARIOS: Record<ScenarioName, Scenario> = { kill, rolling, outage, 'outage-long': outageLong, concurrent, scaleout, promote, nodeloss };

/** Runs one scenario; a scenario that throws becomes a row saying so (the lab goes on). */
export async function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<ScenarioResult> {
  try {
    return await SCENARIOS[name](ctx);
  } catch (err) {
    return skipped(ctx, name, `failed to run: ${(err as Error).message.split('\n')[0]}`);
  }
}
