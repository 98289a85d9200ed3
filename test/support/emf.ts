/**
 * Reading the runtime's own metrics back the way CloudWatch Logs would: the CloudWatch Embedded
 * Metric Format lines (one JSON object per line with an `_aws` member) an instance server writes
 * to stdout when SESSION_METRICS=on (lambda/session/metrics.ts).
 */

/** One EMF line: the `_aws` metadata, the dimension values and one member per metric. */
export interface Emf {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  readonly service: string;
  readonly [metric: string]: unknown;
}

/** The EMF lines in a process's output, in order; other lines (the JSON request log) are skipped. */
export function emfLines(out: string): Emf[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);
}

/** A counter's value in one line; 0 when the line does not carry it (nothing counted). */
export function metricValue(e: Emf, name: string): number {
  const v = e[name];
  return typeof v === 'number' ? v : 0;
}

/** The three counters of one second of a {@link metricCurve}, summed over every instance. */
export interface CurvePoint {
  /** Whole seconds from the moment the store went away (negative: before it). */
  readonly second: number;
  readonly phase: 'before' | 'outage' | 'after';
  readonly storeCalls: number;
  readonly storeErrors: number;
  readonly responses503: number;
}

/**
 * Buckets EMF lines into seconds around an outage from `downAt` to `upAt` (epoch ms). A line
 * counts what happened in the flush interval that ends at its timestamp; second k holds the lines
 * written from k to k+1 s after `downAt`. Its phase is `before` when every line in it counts only
 * time before `downAt`, `after` when every line counts only time after `upAt`, else `outage`.
 * Seconds without a line (nothing counted) are zeros.
 */
export function metricCurve(lines: readonly Emf[], downAt: number, upAt: number, flushMs = 1000): CurvePoint[] {
  const buckets = new Map<number, { storeCalls: number; storeErrors: number; responses503: number }>();
  for (const e of lines) {
    const second = Math.floor((e._aws.Timestamp - downAt) / 1000);
    const b = buckets.get(second) ?? { storeCalls: 0, storeErrors: 0, responses503: 0 };
    b.storeCalls += metricValue(e, 'StoreCalls');
    b.storeErrors += metricValue(e, 'StoreErrors');
    b.responses503 += metricValue(e, 'Responses503');
    buckets.set(second, b);
  }
  if (buckets.size === 0) return [];
  const seconds = [...buckets.keys()];
  const points: CurvePoint[] = [];
  for (let s = Math.min(...seconds); s <= Math.max(...seconds); s++) {
    const b = buckets.get(s) ?? { storeCalls: 0, storeErrors: 0, responses503: 0 };
    // Second s's lines were written in [s, s+1) s and count from flushMs before that.
    const phase = s < 0 ? 'before' : downAt + s * 1000 - flushMs >= upAt ? 'after' : 'outage';
    points.push({ second: s, phase, ...b });
  }
  return points;
}

/** The sum of one counter over the seconds of one phase. */
export function phaseTotal(points: readonly CurvePoint[], phase: CurvePoint['phase'], counter: 'storeCalls' | 'storeErrors' | 'responses503'): number {
  return points.filter((p) => p.phase === phase).reduce((n, p) => n + p[counter], 0);
}
