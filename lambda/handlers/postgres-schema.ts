/**
 * Custom-resource handler (cr.Provider onEvent) that applies the session schema on deploy:
 * the same idempotent {@link ensureSchema} the runtime runs at start (CREATE TABLE / INDEX IF
 * NOT EXISTS under an advisory lock), so a deploy and a starting function never race.
 *
 * Create and Update run it; Delete does nothing (the table goes with the cluster, and a
 * renamed table gets a new physical id, whose old one must not drop live sessions).
 *
 * It connects straight to the cluster's writer endpoint with the master secret, over TLS that
 * verifies the RDS certificate: the function sets NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem,
 * the RDS CA bundle the Lambda Node.js runtime ships.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Pool } from 'pg';
import { ensureSchema, quoteTableName } from '../session/stores/postgres';

/** The custom resource's properties (CloudFormation passes every value as a string). */
export interface SchemaProperties {
  /** Secrets Manager ARN of the RDS JSON secret (`username`, `password`). */
  readonly SecretArn: string;
  /** Writer endpoint. */
  readonly Host: string;
  readonly Port: string;
  readonly Database: string;
  /** Table name, optionally schema-qualified. */
  readonly Table: string;
}

/** What the provider framework expects back. */
export interface SchemaResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

const secrets = new SecretsManagerClient({});

/** Tries `attempt` until it resolves or `deadline` passes: a new writer can refuse connections for a moment. */
async function retry<T>(attempt: () => Promise<T>, deadline: number, log: (m: string) => void): Promise<T> {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      log(`schema attempt failed, retrying in ${delay} ms: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function handler(event: CloudFormationCustomResourceEvent, context?: { getRemainingTimeInMillis(): number }): Promise<SchemaResponse> {
  const p = event.ResourceProperties as unknown as SchemaProperties;
  quoteTableName(p.Table); // a bad name fails the deploy with a clear message, before any connection
  const physicalId = `${p.Host}/${p.Database}/${p.Table}`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };

  const out = await secrets.send(new GetSecretValueCommand({ SecretId: p.SecretArn }));
  const creds = JSON.parse(out.SecretString ?? '{}') as { username?: string; password?: string };
  if (!creds.username || !creds.password) throw new Error(`secret ${p.SecretArn} has no username/password`);

  const deadline = Date.now() + Math.max((context?.getRemainingTimeInMillis() ?? 300_000) - 30_000, 10_000);
  await retry(
    async () => {
      const pool = new Pool({
        host: p.Host,
        port: Number(p.Port),
        database: p.Database,
        user: creds.username,
        password: creds.password,
        ssl: { rejectUnauthorized: true },
        max: 1,
        connectionTimeoutMillis: 10_000,
        statement_timeout: 30_000,
        application_name: 'cdk-sessions-schema',
      });
      pool.on('error', () => undefined); // surfaces as the failing query
      try {
        await ensureSchema(pool, p.Table);
      } finally {
        await pool.end().catch(() => undefined);
      }
    },
    deadline,
    (m) => console.warn(m),
  );
  return { PhysicalResourceId: physicalId, Data: { Table: p.Table } };
}
