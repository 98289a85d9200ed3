import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { ISessionStore, SessionStoreBinding } from '../core/session-store';
import { SessionMonitoring, SessionMonitoringOptions } from '../monitoring/session-monitoring';
import { ConnectTarget, connectToTopology, topologyRuntimeMetric } from './common';

/** The parts of a topology its shared methods work on. Not exported from the package. */
export interface TopologyParts {
  readonly fleet?: InstanceFleet;
  readonly api?: SessionApi;
  readonly store?: ISessionStore;
}

/**
 * What every topology has: a network identity, a URL, its runtime's own metrics, and alarms plus
 * a dashboard on demand.
 */
export abstract class SessionTopology extends Construct implements ec2.IConnectable {
  /** The security groups of the topology's compute (see each topology). */
  public abstract readonly connections: ec2.Connections;
  /** Where the topology serves: the fleet's load balancer when it has one, else the API. */
  public abstract readonly url: string;

  /**
   * Alarms and a CloudWatch dashboard matched to this topology's parts (see {@link SessionMonitoring}
   * for each alarm, its default threshold and its runbook line): the load balancer, the API, the
   * store, and the runtime's own store errors and 503s. Alarms notify `options.alarmTopic`, or a new
   * encrypted, TLS-only topic (`options.alarmEmail` subscribes an address). Call it once.
   *
   * @example sessions.addMonitoring({ alarmEmail: 'oncall@example.com' })
   */
  public addMonitoring(options: SessionMonitoringOptions = {}): SessionMonitoring {
    const { fleet, api, store } = this._topologyParts();
    return new SessionMonitoring(this, 'Monitoring', { ...options, fleet, api, store });
  }

  /**
   * A metric the session runtime of this topology's instances and function writes itself
   * (CloudWatch EMF: namespace CdkSessions, dimension `service`), summed over them; see
   * `InstanceFleet.metricRuntime` for the names. Sum over 5 minutes.
   */
  public metricRuntime(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const { fleet, api } = this._topologyParts();
    return topologyRuntimeMetric([fleet, api], metricName, props);
  }

  /** Requests the runtime answered 503 because the store did not answer (Sum over 5 minutes). */
  public metricResponses503(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.metricRuntime('Responses503', props);
  }

  /** @internal */
  protected abstract _topologyParts(): TopologyParts;
}

/**
 * A topology whose sessions live in a shared store, so your own code can join them: everything of
 * {@link SessionTopology}, plus `connect()` and the store-error metric.
 */
export abstract class SharedSessionTopology extends SessionTopology {
  /**
   * Wires your own code (a Lambda function, a Fargate service, an Auto Scaling group, a role; see
   * `SessionConsumer`) to these sessions in one call: the store's grants and network path, the
   * topology's cookie secret (one secret: a session made by the fleet or the API is valid in the
   * consumer and back), cookie name, timeouts and login pool, and a way through the VPC endpoints
   * the topology added. `secureCookie` defaults to true (the consumer serves HTTPS); set it to
   * false for a consumer behind this fleet's plain-HTTP listener. Returns the environment it set.
   *
   * @example sessions.connect(SessionConsumer.fromFunction(fn))
   */
  public connect(consumer: ISessionConsumer, options: SessionConnectOptions = {}): SessionStoreBinding {
    return connectToTopology(this._connectTarget(), consumer, options);
  }

  /** Store calls that failed or timed out, as the runtime counted them: each one is a 503 (Sum over 5 minutes). */
  public metricStoreErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.metricRuntime('StoreErrors', props);
  }

  /** @internal */
  protected abstract _connectTarget(): ConnectTarget;
}
