/**
 * README's per-topology alarm tables, made from the alarms the reference stacks really create
 * (SessionMonitoring via each topology's addMonitoring()): name, when it fires (metric,
 * statistic, threshold, periods), what it means and what to do (the two halves of the alarm's
 * description, split at "Runbook:"). `npm run docs:alarms` writes them between
 * `<!-- alarms:begin -->` and `<!-- alarms:end -->`; test/constructs/monitoring/readme-alarms.test.ts
 * fails when README's copy differs from what the constructs create.
 */
import { App, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { addReferenceStacks, type ReferenceStacks } from '../../bin/nag';
import { SessionMonitoring, SessionTopology } from '../../lib';

/** The README block's marker name. */
export const ALARMS_BLOCK = 'alarms';

/** The reference stacks in README's order, each with the section it belongs to. */
const ORDER: Array<keyof ReferenceStacks> = ['sticky', 'redis', 'memcached', 'dynamodb', 's3', 'rds', 'jwt'];

/** Units of the thresholds CloudWatch compares, by metric (the rest are counts or percents, said by their names). */
const UNITS: Record<string, string> = {
  TargetResponseTime: ' s',
  ReplicationLag: ' s',
  Duration: ' ms',
  SuccessfulRequestLatency: ' ms',
};

/** The reference stacks, built in an app that skips bundling, with cdk.json's context. */
export function referenceStacks(context: Record<string, unknown>): ReferenceStacks {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  return addReferenceStacks(app);
}

/** One markdown table per reference stack. */
export function renderAlarmTables(stacks: ReferenceStacks): string {
  const parts: string[] = [];
  for (const key of ORDER) {
    const stack = stacks[key];
    const topology = stack.node.findAll().find((c): c is SessionTopology => c instanceof SessionTopology);
    const monitoring = stack.node.findAll().filter((c): c is SessionMonitoring => c instanceof SessionMonitoring);
    if (monitoring.length !== 1) throw new Error(`${stack.stackName}: expected one SessionMonitoring, found ${monitoring.length}`);
    parts.push(`#### \`${topology?.constructor.name ?? key}\` (stack \`${stack.stackName}\`): ${monitoring[0].alarms.length} alarms`, '', '| alarm | fires when | what it means | what to do |', '| --- | --- | --- | --- |');
    for (const alarm of monitoring[0].alarms) parts.push(alarmRow(alarm));
    parts.push('');
  }
  return parts.join('\n');
}

function alarmRow(alarm: cloudwatch.Alarm): string {
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  const description = String(cfn.alarmDescription ?? '');
  const [means, todo] = description.split(/\s*Runbook:\s*/);
  if (todo === undefined) throw new Error(`${alarm.node.path}: its description has no "Runbook:" part`);
  const periods = Number(cfn.evaluationPeriods);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return `| ${alarm.node.id} | ${cell(firesWhen(alarm.metric, Number(cfn.threshold), periods))} | ${cell(means)} | ${cell(todo)} |`;
}

function firesWhen(metric: cloudwatch.IMetric, threshold: number, periods: number): string {
  let what: string;
  let minutes: number;
  if (metric instanceof cloudwatch.Metric) {
    const stat = metric.statistic === 'Average' ? 'average' : metric.statistic === 'Sum' ? 'sum' : metric.statistic === 'Maximum' ? 'max' : metric.statistic;
    what = `${metric.metricName} (${stat})`;
    minutes = metric.period.toMinutes();
  } else if (metric instanceof cloudwatch.MathExpression) {
    what = metric.label ?? metric.expression;
    minutes = metric.period.toMinutes();
  } else {
    throw new Error('an alarm on a metric that is neither a Metric nor a MathExpression');
  }
  if (Token.isUnresolved(threshold)) throw new Error(`${what}: the threshold is not a number`);
  // A math expression over nodes is labelled with its metric's name first ("ReplicationLag (max of 2 nodes)").
  const name = metric instanceof cloudwatch.Metric ? metric.metricName : what.split(' ')[0];
  const unit = UNITS[name] ?? (/percent|%|Utilization|Percentage/i.test(`${name} ${what}`) ? ' %' : '');
  const window = periods > 1 ? `${periods} periods of ${minutes} min in a row` : `${minutes} min`;
  return `${what} ≥ ${threshold}${unit}, ${window}`;
}
