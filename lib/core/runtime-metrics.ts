import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { RUNTIME_DEFAULTS as DEFAULTS, SessionEnvVars } from './session-env';

/**
 * The statistic each runtime metric is read with (lambda/session/metrics.ts writes them): counts
 * are summed; StoreLatency is a sample of round trips in milliseconds, read as p99.
 */
const RUNTIME_METRIC_STATISTICS: { [metricName: string]: string } = {
  StoreLatency: 'p99',
};

/**
 * A metric the session runtime of one compute construct writes (EMF): namespace
 * SESSION_METRICS_NAMESPACE of `environment` (default CdkSessions), dimension `service` =
 * POWERTOOLS_SERVICE_NAME of `environment`. Sum over 5 minutes (StoreLatency: p99).
 */
export function runtimeMetric(environment: { [key: string]: string }, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: environment[SessionEnvVars.METRICS_NAMESPACE] ?? DEFAULTS.metricsNamespace,
    metricName,
    dimensionsMap: { service: environment[SessionEnvVars.SERVICE_NAME] ?? 'cdk-sessions' },
    statistic: RUNTIME_METRIC_STATISTICS[metricName] ?? 'Sum',
    period: Duration.minutes(5),
    ...props,
  });
}
