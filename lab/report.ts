/** The lab's tables: every topology × scenario, and the seed's decision table with numbers in it. */
import { cpus } from 'node:os';
import { phaseTotal, type CurvePoint } from '../test/support/emf';
import { DEFAULT_SIZES, type LabSizes, type ScenarioName, type ScenarioResult, type StoreErrorCurve } from './scenarios';
import type { Topology } from './topologies';

const ms = (n: number) => (Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(1) : n.toFixed(0));
const pct = (a: number, b: number) => (b === 0 ? '0' : `${a} (${((100 * a) / b).toFixed(a === 0 ? 0 : 1)} %)`);

export function revocationText(r: number | string | undefined): string {
  if (r === undefined) return '—';
  return typeof r === 'number' ? `${r.toFixed(0)} ms` : r;
}

export function renderResults(rows: readonly ScenarioResult[]): string {
  const lines = [
    '| topology | scenario | users / sessions | sessions lost | cart lines lost / acked | failed (5xx, none) | of which 503 | 409 | p50 ms | p99 ms | bytes/req | revocation delay | notes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.topology} | ${r.scenario} | — | — | — | — | — | — | — | — | — | — | not run: ${r.skipped} |`);
      continue;
    }
    lines.push(
      `| ${r.topology} | ${r.scenario} | ${r.users} / ${r.sessions} | ${r.sessionsLost} | ${r.linesLost} / ${r.linesAcked} | ${pct(r.failed, r.requests)} | ${r.status503} | ${r.conflicts} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${Number.isNaN(r.bytesPerRequest) ? '—' : r.bytesPerRequest.toFixed(0)} | ${revocationText(r.revocation)} | ${r.notes.join('; ')} |`,
    );
  }
  return lines.join('\n');
}

/** One row per topology, the seed's columns turned into the numbers measured above. */
export function renderSeedTable(rows: readonly ScenarioResult[], topologies: readonly Topology[]): string {
  const get = (t: string, s: ScenarioName) => rows.find((r) => r.topology === t && r.scenario === s && !r.skipped);
  const lost = (r?: ScenarioResult) => (r ? `${r.sessionsLost} of ${r.sessions}` : '—');
  const lines = [
    '| seed row ("Which Session Handling Method Should You Use?") | topology | instance crash: sessions lost | rolling deploy: sessions lost, failed | store outage: failed, lines lost | store hung past the health check: instances taken out, slowest 503 ms | store node lost: sessions lost | 10-wide appends: lines lost / acked | scale-out 2→4: failed | p50 / p99 ms (crash run) | bytes/req | logout → token/session refused |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const t of topologies) {
    const kill = get(t.name, 'kill');
    if (!kill && !rows.some((r) => r.topology === t.name)) continue;
    const roll = get(t.name, 'rolling');
    const out = get(t.name, 'outage');
    const long = get(t.name, 'outage-long')?.outageLong;
    const con = get(t.name, 'concurrent');
    const sc = get(t.name, 'scaleout');
    lines.push(
      `| ${t.seedRow} | ${t.name} | ${lost(kill)} | ${roll ? `${lost(roll)}, ${roll.failed}` : '—'} | ${out ? `${out.failed}, ${out.linesLost}` : 'n/a (no store)'} | ${long ? `${long.maxInstancesDown} of ${long.probes.length}, ${ms(long.hungSlowestMs)}` : 'n/a'} | ${nodeLost(get(t.name, 'promote'), get(t.name, 'nodeloss'))} | ${con ? `${con.linesLost} / ${con.linesAcked}` : '—'} | ${sc ? sc.failed : '—'} | ${kill ? `${ms(kill.p50Ms)} / ${ms(kill.p99Ms)}` : '—'} | ${kill ? kill.bytesPerRequest.toFixed(0) : '—'} | ${revocationText(kill?.revocation)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Per topology, the `outage` scenario's store-error curve from the instances' own EMF lines: one
 * column per second (0: the first second without the store; the outage's seconds in bold).
 */
export function renderStoreErrorCurves(rows: readonly ScenarioResult[]): string {
  const parts: string[] = [];
  for (const { topology, curve: c } of outageCurves(rows)) {
    const row = (label: string, f: (p: CurvePoint) => number) => `| ${label} | ${c.points.map(f).join(' | ')} |`;
    parts.push(
      `**${topology}**: ${c.how}, away ${(c.outageMs / 1000).toFixed(1)} s; sums over ${c.instances} instances per second.`,
      '',
      `| second | ${c.points.map((p) => (p.phase === 'outage' ? `**${p.second}**` : `${p.second}`)).join(' | ')} |`,
      `| --- | ${c.points.map(() => '---:').join(' | ')} |`,
      row('StoreErrors', (p) => p.storeErrors),
      row('Responses503', (p) => p.responses503),
      row('StoreCalls', (p) => p.storeCalls),
      '',
    );
  }
  return parts.join('\n');
}

/** The `outage` rows that have a metric curve. */
function outageCurves(rows: readonly ScenarioResult[]): Array<{ topology: string; curve: StoreErrorCurve }> {
  return rows.flatMap((r) => (r.scenario === 'outage' && r.storeErrorCurve !== undefined && r.storeErrorCurve.points.length > 0 ? [{ topology: r.topology, curve: r.storeErrorCurve }] : []));
}

/**
 * The `outage` curves in one table, one row per topology (README): StoreErrors per second summed
 * over the instances, the seconds that count outage time in bold, and the totals per phase.
 */
export function renderStoreErrorSummary(rows: readonly ScenarioResult[]): string {
  const lines = [
    '| topology | the store went away | StoreErrors per second, all instances (bold: seconds counting outage time) | before / during / after | Responses503 during |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const { topology, curve: c } of outageCurves(rows)) {
    const series = c.points.map((p) => (p.phase === 'outage' ? `**${p.storeErrors}**` : String(p.storeErrors))).join(' ');
    const errors = (phase: CurvePoint['phase']) => phaseTotal(c.points, phase, 'storeErrors');
    lines.push(`| ${topology} | ${c.how}, ${(c.outageMs / 1000).toFixed(1)} s | ${series} | ${errors('before')} / ${errors('outage')} / ${errors('after')} | ${phaseTotal(c.points, 'outage', 'responses503')} |`);
  }
  return lines.join('\n');
}

/** `outage-long` per topology: the store hung past the health check's threshold, what the balancer and the instances did. */
export function renderOutageLongTable(rows: readonly ScenarioResult[]): string {
  const lines = [
    '| topology | hung | instances DOWN | failed checks | requests during the hang | slowest 503 | `/readyz` 200 again after SIGCONT | restarts | lines lost / acked |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const d = r.outageLong;
    if (r.scenario !== 'outage-long' || d === undefined) continue;
    const all = d.hung503 === d.hungRequests ? `${d.hungRequests}, all 503` : `${d.hungRequests}, ${d.hung503} of them 503`;
    lines.push(`| ${r.topology} | ${(d.hungMs / 1000).toFixed(1)} s | ${d.maxInstancesDown} | ${d.checksFailed} | ${all} | ${d.hungSlowestMs.toFixed(0)} ms | ${d.recoveredMs.toFixed(0)} ms | ${d.restarted} | ${r.linesLost} / ${r.linesAcked} |`);
  }
  return lines.join('\n');
}

/** The node-loss cell: Redis's replica promotion, or Memcached's node replaced empty; n/a for the rest. */
function nodeLost(promote?: ScenarioResult, nodeloss?: ScenarioResult): string {
  if (nodeloss?.nodeLoss) {
    const d = nodeloss.nodeLoss;
    return `${nodeloss.sessionsLost} of ${d.sessionsAtKill} (1 of 2 nodes replaced empty; ${d.onLostNode.length} sessions were on it), ${nodeloss.linesLost} lines`;
  }
  if (promote) return `${promote.sessionsLost} of ${promote.sessions} (primary killed, replica promoted), ${promote.linesLost} lines`;
  return 'n/a';
}

export function machineLine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}, ${process.platform}`;
}

export function sizesLine(s: LabSizes): string {
  return `${s.users} users per scenario, ${s.durationMs / 1000} s of load (longer while an event runs), ${s.wide}-wide concurrent appends, ${s.outageMs / 1000} s store outage, ${(s.nodeDownMs ?? DEFAULT_SIZES.nodeDownMs!) / 1000} s memcached node down, ${s.thinkMs} ms think time`;
}
