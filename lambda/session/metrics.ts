/**
 * The runtime's own metrics, written as CloudWatch Embedded Metric Format (EMF) lines on stdout
 * through Powertools Metrics: CloudWatch Logs turns them into metrics (Lambda: its log group;
 * instances: the CloudWatch agent shipping stdout). One process-wide recorder, like a logger:
 * the hot path only adds to a number (and samples a store latency), nothing is formatted or
 * written per request. {@link startRuntimeMetrics} turns it on and writes what was counted:
 * every `intervalSeconds` (instances, 60 s) and on shutdown, or per invocation (Lambda: call
 * `flush()` at the end of each). Off (SESSION_METRICS=off, or never started), recording is a
 * branch on a boolean and the store is not wrapped.
 *
 * The metrics (namespace SESSION_METRICS_NAMESPACE, default `CdkSessions`; one dimension,
 * `service` = POWERTOOLS_SERVICE_NAME), each a Count per flush unless said otherwise:
 * - `StoreLatency` (Milliseconds): store round trips, a uniform sample of at most 99 per flush
 *   (CloudWatch percentiles come from it), `StoreCalls`: how many there were.
 * - `StoreErrors`: store calls that failed (the 503s), `StoreTimeouts`: those that got no answer
 *   within SESSION_STORE_TIMEOUT_MS.
 * - `Requests`, `Responses5xx`, `Responses503` (store unavailable), `Responses413` (body or session too large).
 * - `CasConflicts` (a compare-and-set lost to another writer), `CasRetries` (re-reads and
 *   re-applies after one), `CasExhausted` (the 409s: still conflicting after the retries).
 * - `SessionsCreated`, `SessionsDestroyed` (logout, and the old id at login), `SessionsExpired`
 *   (a stored session refused because it was past its idle or absolute timeout).
 * - JWT: `JwtRejected` (a token that failed verification: signature, claims, expiry) and
 *   `JwtRevoked` (a valid token the denylist refused).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEFAULTS, SessionEnvVars } from './env';
import { StoreUnavailableError } from './errors';
import type { LoadOptions, SessionStore, StoredSession, WriteStamp } from './types';

/** Environment variables of the runtime's metrics (set by the constructs; names in the seam, ./env). */
const MetricsEnvVars = { METRICS: SessionEnvVars.METRICS, NAMESPACE: SessionEnvVars.METRICS_NAMESPACE, INTERVAL: SessionEnvVars.METRICS_INTERVAL } as const;

/** The counted metrics, by name. */
export const COUNTERS = [
  'Requests',
  'Responses5xx',
  'Responses503',
  'Responses413',
  'StoreCalls',
  'StoreErrors',
  'StoreTimeouts',
  'CasConflicts',
  'CasRetries',
  'CasExhausted',
  'SessionsCreated',
  'SessionsDestroyed',
  'SessionsExpired',
  'JwtRejected',
  'JwtRevoked',
] as const;
export type CounterName = (typeof COUNTERS)[number];

/** Store latencies kept per flush: a uniform sample (EMF takes at most 100 values per metric and line). */
const LATENCY_SAMPLE = 99;

/** Counts and a latency sample, written by {@link RuntimeMetrics.flush}. */
export class RuntimeMetrics {
  /** False until {@link startRuntimeMetrics} turns it on: recording is then a no-op. */
  enabled = false;
  private counts: Record<CounterName, number> = zeroCounts();
  private latencies: number[] = [];
  private latencySeen = 0;
  private sink?: Metrics;

  /** Adds `n` to a counter. */
  count(name: CounterName, n = 1): void {
    if (this.enabled) this.counts[name] += n;
  }

  /**
   * Where the next store call's latency goes in the sample, or -1 when it is not sampled (then it
   * need not be timed). Reservoir sampling (algorithm R): every call of the interval has the same
   * chance to be in the sample.
   */
  sampleSlot(): number {
    const seen = ++this.latencySeen;
    if (seen <= LATENCY_SAMPLE) return seen - 1;
    const j = Math.floor(Math.random() * seen);
    return j < LATENCY_SAMPLE ? j : -1;
  }

  /** One store call; it failed when `err` is given. Its latency `ms` goes to `slot` of the sample (see sampleSlot). */
  storeCall(slot: number, ms: number, err?: unknown): void {
    if (!this.enabled) return;
    this.counts.StoreCalls++;
    if (err !== undefined) {
      this.counts.StoreErrors++;
      if (isTimeout(err)) this.counts.StoreTimeouts++;
    }
    // A flush since sampleSlot() may have emptied the sample: the slot then falls at its end.
    if (slot >= 0) this.latencies[Math.min(slot, this.latencies.length)] = ms;
  }

  /** A response's status: Requests, 5xx, 503 and 413 counts. */
  response(status: number): void {
    if (!this.enabled) return;
    this.counts.Requests++;
    if (status >= 500) {
      this.counts.Responses5xx++;
      if (status === 503) this.counts.Responses503++;
    } else if (status === 413) this.counts.Responses413++;
  }

  /** What was counted since the last flush (a copy), and the latency sample. */
  snapshot(): { counts: Record<CounterName, number>; latencies: number[] } {
    return { counts: { ...this.counts }, latencies: [...this.latencies] };
  }

  /** Writes what was counted since the last flush as one EMF line (nothing when nothing happened) and starts over. */
  flush(): void {
    const sink = this.sink;
    const { counts, latencies } = this;
    this.counts = zeroCounts();
    this.latencies = [];
    this.latencySeen = 0;
    if (sink === undefined || !this.enabled) return;
    let any = false;
    for (const name of COUNTERS) {
      if (counts[name] > 0) {
        sink.addMetric(name, MetricUnit.Count, counts[name]);
        any = true;
      }
    }
    for (const ms of latencies) sink.addMetric('StoreLatency', MetricUnit.Milliseconds, ms);
    if (any || latencies.length > 0) sink.publishStoredMetrics();
  }

  /** Turns recording on, writing through `sink` (tests: any Powertools Metrics). */
  enable(sink: Metrics): void {
    this.sink = sink;
    this.enabled = true;
  }

  /** Turns recording off and drops what was counted. */
  disable(): void {
    this.enabled = false;
    this.sink = undefined;
    this.counts = zeroCounts();
    this.latencies = [];
    this.latencySeen = 0;
  }
}

function zeroCounts(): Record<CounterName, number> {
  const c = {} as Record<CounterName, number>;
  for (const n of COUNTERS) c[n] = 0;
  return c;
}

/** A store error that is a missed bound ("did not finish within 250 ms", "got no answer within 250 ms"). */
function isTimeout(err: unknown): boolean {
  return err instanceof StoreUnavailableError && / within \d+ ms/.test(err.message);
}

/** The process's recorder: the manager, the app and the JWT service count into it. */
export const runtimeMetrics = new RuntimeMetrics();

/** Options of {@link startRuntimeMetrics}. */
export interface RuntimeMetricsOptions {
  /** Seconds between flushes; 0: none (Lambda flushes per invocation). @default - SESSION_METRICS_INTERVAL_SECONDS, else 60 */
  readonly intervalSeconds?: number;
  /** @default - POWERTOOLS_SERVICE_NAME, else 'cdk-sessions' */
  readonly serviceName?: string;
}

/** What {@link startRuntimeMetrics} returns. */
export interface RuntimeMetricsHandle {
  /** True when SESSION_METRICS turned them on. */
  readonly enabled: boolean;
  /** Writes what was counted since the last flush. */
  flush(): void;
  /** Stops the timer and writes what is left (shutdown). */
  stop(): void;
}

/** True when SESSION_METRICS is `on` (or `true`/`1`); unset is off; throws on anything but on/off. */
export function metricsEnabledIn(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = (env[MetricsEnvVars.METRICS] ?? 'off').trim().toLowerCase();
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0' || v === '') return false;
  throw new RangeError(`${MetricsEnvVars.METRICS} must be on or off, not "${v}"`);
}

/**
 * Turns the runtime's metrics on when SESSION_METRICS=on, with a flush every interval (the timer
 * does not keep the process alive). Call once per process, before the runtime is built (the store
 * is wrapped to time its calls only when metrics are on).
 */
export function startRuntimeMetrics(env: Readonly<Record<string, string | undefined>> = process.env, opts: RuntimeMetricsOptions = {}): RuntimeMetricsHandle {
  if (!metricsEnabledIn(env)) {
    runtimeMetrics.disable();
    return { enabled: false, flush() {}, stop() {} };
  }
  const intervalSeconds = opts.intervalSeconds ?? Number(env[MetricsEnvVars.INTERVAL] ?? DEFAULTS.metricsIntervalSeconds);
  if (!(intervalSeconds >= 0)) throw new RangeError(`${MetricsEnvVars.INTERVAL} must be a number of seconds ≥ 0`);
  const sink = new Metrics({
    namespace: env[MetricsEnvVars.NAMESPACE] || DEFAULTS.metricsNamespace,
    serviceName: opts.serviceName ?? env[SessionEnvVars.SERVICE_NAME] ?? 'cdk-sessions',
  });
  runtimeMetrics.enable(sink);
  const timer = intervalSeconds > 0 ? setInterval(() => runtimeMetrics.flush(), intervalSeconds * 1000) : undefined;
  timer?.unref();
  return {
    enabled: true,
    flush: () => runtimeMetrics.flush(),
    stop() {
      if (timer !== undefined) clearInterval(timer);
      runtimeMetrics.flush();
    },
  };
}

/**
 * `store` with every call timed into {@link runtimeMetrics} (latency, calls, errors, timeouts);
 * `store` itself when metrics are off. compareAndSetOrLoad is there only when the store has it.
 */
export function meteredStore(store: SessionStore, metrics: RuntimeMetrics = runtimeMetrics): SessionStore {
  if (!metrics.enabled) return store;
  return new MeteredStore(store, metrics);
}

class MeteredStore implements SessionStore {
  readonly kind: string;
  readonly maxSessionBytes: number;
  compareAndSetOrLoad?: (session: StoredSession, expected: WriteStamp, serializedData: string, opts: LoadOptions) => Promise<true | StoredSession | undefined>;

  constructor(
    private readonly inner: SessionStore,
    private readonly metrics: RuntimeMetrics,
  ) {
    this.kind = inner.kind;
    this.maxSessionBytes = inner.maxSessionBytes;
    if (inner.compareAndSetOrLoad !== undefined) {
      this.compareAndSetOrLoad = (session, expected, serializedData, opts) => this.timed(inner.compareAndSetOrLoad!(session, expected, serializedData, opts));
    }
  }

  load(id: string, opts: LoadOptions) {
    return this.timed(this.inner.load(id, opts));
  }
  create(session: StoredSession) {
    return this.timed(this.inner.create(session));
  }
  compareAndSet(session: StoredSession, expected: WriteStamp, serializedData?: string) {
    return this.timed(this.inner.compareAndSet(session, expected, serializedData));
  }
  delete(id: string) {
    return this.timed(this.inner.delete(id));
  }
  ping() {
    return this.timed(this.inner.ping());
  }
  close() {
    return this.inner.close();
  }

  private timed<T>(p: Promise<T>): Promise<T> {
    return timedStoreCall(p, this.metrics);
  }
}

/**
 * `p`, a call to the store (or the JWT denylist), with its outcome counted into `metrics`: a call,
 * an error or a timeout, and its latency when the call is sampled (most calls of a busy interval
 * are not). A no-op wrapper while metrics are off.
 */
export function timedStoreCall<T>(p: Promise<T>, metrics: RuntimeMetrics = runtimeMetrics): Promise<T> {
  if (!metrics.enabled) return p;
  const slot = metrics.sampleSlot();
  const started = slot >= 0 ? performance.now() : 0;
  return p.then(
    (r) => {
      metrics.storeCall(slot, slot >= 0 ? performance.now() - started : 0);
      return r;
    },
    (err: unknown) => {
      metrics.storeCall(slot, slot >= 0 ? performance.now() - started : 0, err);
      throw err;
    },
  );
}
