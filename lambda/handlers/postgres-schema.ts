/**
 * The session database's housekeeping function, two events:
 *
 * - Custom-resource events (cr.Provider onEvent) apply the session schema on deploy: the
 *   idempotent {@link ensureSchema} (CREATE TABLE / INDEX IF NOT EXISTS under an advisory lock),
 *   the only place a deployed stack runs DDL: the runtime only checks the table at start, so its
 *   role needs no CREATE privilege. Each try re-reads the secret (rotation may change the
 *   password between tries). Create and Update run it; Delete does nothing (the table goes with
 *   the cluster, and a renamed table gets a new physical id, whose old one must not drop live
 *   sessions).
 * - `{"sweep": <same properties>}` from an EventBridge schedule deletes expired sessions in
 *   batches ({@link PostgresStore.sweepExpired}): PostgreSQL has no TTL, and the runtime only
 *   filters expired rows on read, so without the sweep the table would grow forever.
 *
 * It connects straight to the cluster's writer endpoint with the master secret, over TLS that
 * verifies the RDS certificate: the function sets NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem,
 * the RDS CA bundle the Lambda Node.js runtime ships.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Pool, type PoolConfig } from 'pg';
import { ensureSchema, PostgresStore, quoteTableName, type SweepResult } from '../session/stores/postgres';

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

/** The scheduled sweep's event. */
export interface SweepEvent {
  readonly sweep: SchemaProperties;
}

/** What a sweep did, as the function returns (and logs) it. */
export interface SweepResponse extends SweepResult {
  readonly table: string;
  /** True when the time budget ran out before a short batch: the next run goes on. */
  readonly unfinished: boolean;
}

/** Rows per DELETE: small enough to keep each transaction short beside live traffic. */
export const SWEEP_BATCH = 1000;

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

/** Credentials from the RDS JSON secret. */
async function credentials(secretArn: string, client: SecretsManagerClient = secrets): Promise<{ user: string; password: string }> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const creds = JSON.parse(out.SecretString ?? '{}') as { username?: string; password?: string };
  if (!creds.username || !creds.password) throw new Error(`secret ${secretArn} has no username/password`);
  return { user: creds.username, password: creds.password };
}

/**
 * A one-connection pool to the writer, over TLS that verifies the RDS certificate; `fn` runs
 * on it and the pool ends after. `overrides` lets a test connect to its own server.
 */
export async function withPool<T>(p: SchemaProperties, auth: { user: string; password?: string }, fn: (pool: Pool) => Promise<T>, overrides: PoolConfig = {}): Promise<T> {
  const pool = new Pool({
    host: p.Host,
    port: Number(p.Port),
    database: p.Database,
    ...auth,
    ssl: { rejectUnauthorized: true },
    max: 1,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 30_000,
    application_name: 'cdk-sessions-schema',
    ...overrides,
  });
  pool.on('error', () => undefined); // surfaces as the failing query
  try {
    return await fn(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/**
 * Deletes expired sessions, batch by batch, until a batch comes back short or `budgetMs` is
 * spent (the next scheduled run goes on from there).
 */
export async function sweep(pool: Pool, table: string, budgetMs: number): Promise<SweepResponse> {
  const store = new PostgresStore({ pool, table, timeoutMs: 25_000 });
  const r = await store.sweepExpired(SWEEP_BATCH, { until: Date.now() + budgetMs });
  // Only a stop on the budget leaves every batch full.
  return { table, ...r, unfinished: r.deleted === r.batches * SWEEP_BATCH };
}

export async function handler(event: CloudFormationCustomResourceEvent | SweepEvent, context?: { getRemainingTimeInMillis(): number }): Promise<SchemaResponse | SweepResponse> {
  const remaining = context?.getRemainingTimeInMillis() ?? 300_000;
  if ('sweep' in event) {
    const p = event.sweep;
    quoteTableName(p.Table);
    const auth = await credentials(p.SecretArn);
    const result = await withPool(p, auth, (pool) => sweep(pool, p.Table, Math.max(remaining - 40_000, 5_000)));
    console.log(JSON.stringify({ message: 'expired sessions swept', ...result }));
    return result;
  }
  const p = event.ResourceProperties as unknown as SchemaProperties;
  quoteTableName(p.Table); // a bad name fails the deploy with a clear message, before any connection
  const physicalId = `${p.Host}/${p.Database}/${p.Table}`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };

  await applySchema(p, { deadline: Date.now() + Math.max(remaining - 30_000, 10_000) });
  return { PhysicalResourceId: physicalId, Data: { Table: p.Table } };
}

/** How {@link applySchema} reaches Secrets Manager and the database, and for how long it tries. */
export interface ApplySchemaOptions {
  /** Give up once a retry would start after this (epoch ms). */
  readonly deadline: number;
  /** @default - the function's own client */
  readonly secretsManager?: SecretsManagerClient;
  /** Pool settings over the RDS ones (a test's local server). @default - none */
  readonly poolOverrides?: PoolConfig;
  /** @default console.warn */
  readonly log?: (message: string) => void;
}

/**
 * Creates the session table, retrying until `deadline`. The secret is read again on every try:
 * the rotation schedule rotates the password right after the first deploy, so a password read
 * once could be stale by the second try, and the deploy would fail and roll back.
 */
export async function applySchema(p: SchemaProperties, opts: ApplySchemaOptions): Promise<void> {
  await retry(
    async () => withPool(p, await credentials(p.SecretArn, opts.secretsManager), (pool) => ensureSchema(pool, p.Table), opts.poolOverrides),
    opts.deadline,
    opts.log ?? ((m) => console.warn(m)),
  );
}
