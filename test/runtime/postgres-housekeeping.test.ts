/**
 * The session database's housekeeping function (lambda/handlers/postgres-schema.ts) against the
 * machine's real PostgreSQL, in a throwaway database: the schema it applies on deploy, and the
 * scheduled sweep that deletes expired sessions in batches within a time budget (PostgreSQL has
 * no TTL), and the deploy-time schema step reading the secret (a local GetSecretValue stand-in)
 * again on every try, against a cluster of our own whose password changes between tries. TLS to
 * RDS is not run here: the local servers have no RDS certificate.
 */
import { Client } from 'pg';
import { ensureSchema } from '../../lambda/session/stores/postgres';
import { applySchema, sweep, SWEEP_BATCH, withPool, type SchemaProperties } from '../../lambda/handlers/postgres-schema';
import { startSecretsStandIn } from '../support/app-secrets';
import { MACHINE_PG, PostgresCluster, ThrowawayDatabase } from '../support/postgres';

let db: ThrowawayDatabase;
let props: SchemaProperties;
const local = { ssl: false } as const;

beforeAll(async () => {
  db = await ThrowawayDatabase.create('housekeeping');
  props = { SecretArn: 'unused', Host: MACHINE_PG.host, Port: String(MACHINE_PG.port), Database: db.name, Table: 'app.sessions' };
  await withPool(props, { user: MACHINE_PG.user }, (pool) => pool.query('CREATE SCHEMA app'), local);
});
afterAll(async () => {
  await db?.drop();
});

test('the deploy-time schema is idempotent: applied twice, the table and its expires_at index exist once', async () => {
  await withPool(props, { user: MACHINE_PG.user }, (pool) => ensureSchema(pool, props.Table), local);
  await withPool(props, { user: MACHINE_PG.user }, (pool) => ensureSchema(pool, props.Table), local);
  const indexes = await withPool(props, { user: MACHINE_PG.user }, (pool) => pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'app' AND tablename = 'sessions'`), local);
  expect(indexes.rows.map((r) => r.indexdef).sort()).toEqual([expect.stringContaining('(expires_at)'), expect.stringContaining('(id)')]);
});

test('the scheduled sweep deletes every expired session in batches and leaves live ones', async () => {
  const expired = SWEEP_BATCH * 2 + 500;
  await withPool(
    props,
    { user: MACHINE_PG.user },
    async (pool) => {
      await pool.query(`INSERT INTO app.sessions SELECT 'old-' || g, 1, '{}'::jsonb, now() - interval '2 days', now() - interval '1 hour' FROM generate_series(1, ${expired}) g`);
      await pool.query(`INSERT INTO app.sessions SELECT 'live-' || g, 1, '{"user":"ada"}'::jsonb, now(), now() + interval '1 hour' FROM generate_series(1, 10) g`);
    },
    local,
  );
  const r = await withPool(props, { user: MACHINE_PG.user }, (pool) => sweep(pool, props.Table, 60_000), local);
  expect(r).toEqual({ table: 'app.sessions', deleted: expired, batches: 3, unfinished: false });
  const left = await withPool(props, { user: MACHINE_PG.user }, (pool) => pool.query(`SELECT id FROM app.sessions ORDER BY id`), local);
  expect(left.rows.map((x) => x.id)).toEqual(Array.from({ length: 10 }, (_, i) => `live-${i + 1}`).sort());
});

test('a sweep whose time budget is spent stops after the current full batch and says it is unfinished', async () => {
  await withPool(
    props,
    { user: MACHINE_PG.user },
    (pool) => pool.query(`INSERT INTO app.sessions SELECT 'stale-' || g, 1, '{}'::jsonb, now() - interval '2 days', now() - interval '1 minute' FROM generate_series(1, ${SWEEP_BATCH + 1}) g`),
    local,
  );
  const first = await withPool(props, { user: MACHINE_PG.user }, (pool) => sweep(pool, props.Table, 0), local);
  expect(first).toEqual({ table: 'app.sessions', deleted: SWEEP_BATCH, batches: 1, unfinished: true });
  const second = await withPool(props, { user: MACHINE_PG.user }, (pool) => sweep(pool, props.Table, 0), local);
  expect(second).toEqual({ table: 'app.sessions', deleted: 1, batches: 1, unfinished: false });
});

test('the schema step re-reads the secret on every try: a password rotated after the first read still gets the table created', async () => {
  const cluster = await PostgresCluster.start();
  const sm = await startSecretsStandIn();
  try {
    const admin = new Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE schema_owner LOGIN PASSWORD 'first-password-0123'`);
      await admin.query('GRANT CREATE ON SCHEMA public TO schema_owner');
      // Rotation: the database already has the new password while the secret still holds the old one.
      await admin.query(`ALTER ROLE schema_owner PASSWORD 'rotated-password-4567'`);
    } finally {
      await admin.end();
    }
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
    sm.secrets.set(arn, JSON.stringify({ username: 'schema_owner', password: 'first-password-0123' }));
    const p: SchemaProperties = { SecretArn: arn, Host: '127.0.0.1', Port: String(cluster.port), Database: 'postgres', Table: 'sessions' };
    const failures: string[] = [];
    await applySchema(p, {
      deadline: Date.now() + 60_000,
      secretsManager: sm.client(),
      poolOverrides: { ssl: false },
      // The first try fails on the stale password; rotation then finishes (the secret gets the new one).
      log: (m) => {
        failures.push(m);
        sm.secrets.set(arn, JSON.stringify({ username: 'schema_owner', password: 'rotated-password-4567' }));
      },
    });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/password authentication failed/);
    expect(sm.calls.get(arn)).toBe(2);
    const check = new Client({ connectionString: cluster.url });
    await check.connect();
    try {
      expect((await check.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'sessions'`)).rows).toEqual([{ tableowner: 'schema_owner' }]);
    } finally {
      await check.end();
    }
  } finally {
    await sm.close();
    await cluster.dispose();
  }
});
