import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { StoreKind } from '../../../lambda/session/env';
import { SessionStoreKind } from '../../../lib/core/session-env';
import { connectSessionConsumer, SessionConnectOptions } from '../../../lib/core/connect';
import { ISessionConsumer } from '../../../lib/core/consumer';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../../../lib/core/session-store';

/**
 * A test double of a store construct: records its consumers, grants one scoped action and,
 * with a VPC, opens a port — so tests see that compute constructs bind what they should.
 */
export class FakeStore extends Construct implements ISessionStore {
  public readonly kind: SessionStoreKind;
  public readonly vpc?: ec2.IVpc;
  public readonly connections?: ec2.Connections;
  public readonly consumers: ISessionStoreConsumer[] = [];

  constructor(scope: Construct, id: string, opts: { kind?: StoreKind; vpc?: ec2.IVpc } = {}) {
    super(scope, id);
    // The runtime's kind names are the enum's values.
    this.kind = (opts.kind ?? 'dynamodb') as SessionStoreKind;
    this.vpc = opts.vpc;
    if (opts.vpc) {
      const sg = new ec2.SecurityGroup(this, 'Sg', { vpc: opts.vpc, allowAllOutbound: false });
      this.connections = new ec2.Connections({ securityGroups: [sg], defaultPort: ec2.Port.tcp(6380) });
    }
  }

  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    this.consumers.push(consumer);
    iam.Grant.addToPrincipal({
      grantee: consumer,
      actions: ['dynamodb:GetItem'],
      resourceArns: ['arn:aws:dynamodb:eu-west-1:111111111111:table/fake'],
    });
    if (this.connections && consumer.connections) this.connections.allowDefaultPortFrom(consumer.connections);
    return { environment: { SESSION_STORE: this.kind, SESSION_TABLE: 'fake' } };
  }

  public connect(consumer: ISessionConsumer, options?: SessionConnectOptions): SessionStoreBinding {
    return connectSessionConsumer(this, consumer, options);
  }
}
