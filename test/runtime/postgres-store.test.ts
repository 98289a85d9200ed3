/**
 * PostgresStore against real PostgreSQL: the conformance suite on a throwaway database on the
 * machine's server (created here, dropped in afterAll); schema creation run twice and
 * concurrently; an expired row not blocking create; the batched sweep; and, on a cluster of
 * our own that the test stops and starts (the machine's server is never stopped), the store
 * failing within its bound and working again. The elapsed-time checks are a correctness bound
 * (timeoutMs plus scheduling slack), not a benchmark.
 */
import type { Client } from 'pg';
import { SessionTooLargeError, StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { parseSessionEnv } from '../../lambda/session/env';
import { postgresStoreFactory } from '../../lambda/session/entries/postgres';
import { createSessionRuntime, parseDatabaseCredentials } from '../../lambda/session/from-env';
import { ensureSchema, PostgresStore, type PostgresStoreOptions } from '../../lambda/session/stores/postgres';
import type { StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';
import { describeStoreConformance, nextWrite } from '../support/conformance';
import { startSecretsStandIn } from '../support/app-secrets';
import { eventually, everySessionCall, expectAllUnavailableWithinBound, itConnectsAStoreCreatedWhileDown, itLeavesNoUnhandledRejection, SCHEDULING_SLACK_MS } from '../support/outage';
import { createSessionSchema, PostgresCluster, ThrowawayDatabase } from '../support/postgres';

const SECRET = 'postgres-store-test-secret-0123456789';
const LOAD = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 };
const quiet = { warn: () => undefined }; // connection warnings are the expected outcome in the outage tests

const opened: PostgresStore[] = [];
function makeStore(opts: PostgresStoreOptions): PostgresStore {
  const s = new PostgresStore(opts);
  opened.push(s);
  return s;
}

let n = 0;
function session(data: Record<string, unknown>, over: Partial<StoredSession> = {}): StoredSession {
  const now = Date.now();
  return { id: `pg-test-${process.pid}-${++n}-aaaaaaaaaaaa`, data, version: 1, token: newWriteToken(), createdAt: now, expiresAt: now + 60_000, ...over };
}

describe('PostgresStore on a throwaway database of the machine\'s PostgreSQL', () => {
  let db: ThrowawayDatabase;
  let sql: Client;
  beforeAll(async () => {
    db = await ThrowawayDatabase.create('store');
    const setup = makeStore({ connectionString: db.url });
    await setup.ensureSchema();
    sql = await db.client();
  });
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await sql?.end();
    await db?.drop();
  });

  describeStoreConformance('postgres', () => ({ makeStore: async () => makeStore({ connectionString: db.url }) }));

  it('a table made before write tokens gets the write_token column from ensureSchema; its rows read with the empty token and are written from it once', async () => {
    await sql.query(`CREATE TABLE before_tokens (id text PRIMARY KEY, version bigint NOT NULL, data jsonb NOT NULL, created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL)`);
    const now = Date.now();
    await sql.query(`INSERT INTO before_tokens VALUES ('old-row-000000000000000000', 3, '{"n":3}', $1, $2)`, [new Date(now), new Date(now + 60_000)]);
    const store = makeStore({ connectionString: db.url, table: 'before_tokens' });
    await store.ensureSchema();
    await store.ensureSchema(); // the second run finds the column and alters nothing
    const old = await store.load('old-row-000000000000000000', { now: Date.now(), ...LOAD });
    expect(old).toMatchObject({ version: 3, token: '', data: { n: 3 } });
    const v4 = nextWrite(old!, { data: { n: 4 } });
    expect(await store.compareAndSet(v4, old!)).toBe(true);
    expect(await store.compareAndSet(nextWrite(old!, { data: { n: 'again' } }), old!)).toBe(false);
    expect(await store.load(old!.id, { now: Date.now(), ...LOAD })).toMatchObject({ version: 4, token: v4.token, data: { n: 4 } });
  });

  it('schema creation is idempotent: ensureSchema twice in a row and four times at once leave one table and one expires_at index', async () => {
    const store = makeStore({ connectionString: db.url, table: 'twice' });
    await store.ensureSchema();
    await store.ensureSchema();
    await Promise.all([store.ensureSchema(), ensureSchema(store.pool, 'twice'), store.ensureSchema(), ensureSchema(store.pool, 'twice')]);
    const tables = await sql.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'twice'`);
    const indexes = await sql.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'twice' ORDER BY indexname`);
    expect(tables.rows[0].n).toBe(1);
    expect(indexes.rows.map((r) => r.indexdef as string)).toEqual([
      expect.stringMatching(/^CREATE INDEX twice_expires_at_idx .* USING btree \(expires_at\)$/),
      expect.stringMatching(/^CREATE UNIQUE INDEX twice_pkey .* \(id\)$/),
    ]);
    const s = session({ ok: true });
    expect(await store.create(s)).toBe(true);
    expect((await store.load(s.id, { now: Date.now(), ...LOAD }))?.data).toEqual({ ok: true });
  });

  it('load reads and slides in one statement: expires_at moves to now + idle, capped at created_at + absolute', async () => {
    const store = makeStore({ connectionString: db.url });
    const t0 = Date.now();
    const s = session({ n: 1 }, { createdAt: t0, expiresAt: t0 + 10_000 });
    expect(await store.create(s)).toBe(true);
    const slid = await store.load(s.id, { now: t0 + 5_000, idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 });
    expect(slid?.expiresAt).toBe(t0 + 65_000);
    const capped = await store.load(s.id, { now: t0 + 6_000, idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 30 });
    expect(capped?.expiresAt).toBe(t0 + 30_000);
    const row = await sql.query(`SELECT version, (extract(epoch FROM expires_at) * 1000)::bigint AS e FROM sessions WHERE id = $1`, [s.id]);
    expect(row.rows[0]).toEqual({ version: '1', e: String(t0 + 30_000) }); // the version did not change
  });

  it('an expired row with the same id does not block create, and a live one does', async () => {
    const store = makeStore({ connectionString: db.url });
    const past = Date.now() - 5_000;
    const old = session({ user: 'old' }, { version: 9, createdAt: past - 1_000, expiresAt: past });
    await sql.query(`INSERT INTO sessions (id, version, data, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      old.id, old.version, JSON.stringify(old.data), new Date(old.createdAt), new Date(old.expiresAt),
    ]);
    expect(await store.load(old.id, { now: Date.now(), ...LOAD })).toBeUndefined();
    expect(await store.create({ ...old, version: 1, data: { user: 'new' }, createdAt: Date.now(), expiresAt: Date.now() + 60_000 })).toBe(true);
    expect(await store.load(old.id, { now: Date.now(), ...LOAD })).toMatchObject({ version: 1, data: { user: 'new' } });
    expect(await store.create({ ...old, version: 1, data: { user: 'third' }, expiresAt: Date.now() + 60_000 })).toBe(false);
  });

  it('compare-and-set does not revive an expired row', async () => {
    const store = makeStore({ connectionString: db.url });
    const past = Date.now() - 1_000;
    const s = session({ n: 1 }, { createdAt: past - 1_000, expiresAt: past });
    expect(await store.create(s)).toBe(true); // stored as it is: already expired
    expect(await store.compareAndSet(nextWrite(s, { data: { n: 2 }, expiresAt: Date.now() + 60_000 }), s)).toBe(false);
    const row = await sql.query(`SELECT version FROM sessions WHERE id = $1`, [s.id]);
    expect(row.rows[0].version).toBe('1');
  });

  it('sweepExpired deletes only expired rows, batch by batch', async () => {
    const store = makeStore({ connectionString: db.url, table: 'sweep' });
    await store.ensureSchema();
    const now = Date.now();
    for (let i = 0; i < 25; i++) expect(await store.create(session({ i }, { id: `expired-${i}`, createdAt: now - 10_000, expiresAt: now - 1_000 - i }))).toBe(true);
    for (let i = 0; i < 5; i++) expect(await store.create(session({ i }, { id: `live-${i}` }))).toBe(true);
    expect(await store.sweepExpired(10, { maxBatches: 1 })).toEqual({ deleted: 10, batches: 1 });
    expect(await store.sweepExpired(10)).toEqual({ deleted: 15, batches: 2 });
    expect(await store.sweepExpired(10)).toEqual({ deleted: 0, batches: 1 });
    const left = await sql.query(`SELECT id FROM sweep ORDER BY id`);
    expect(left.rows.map((r) => r.id as string)).toEqual(['live-0', 'live-1', 'live-2', 'live-3', 'live-4']);
  });

  it('a row locked by another transaction makes compare-and-set fail at the bound with StoreUnavailableError, and sweep skips it', async () => {
    const store = makeStore({ connectionString: db.url, timeoutMs: 500 });
    const s = session({ n: 1 }, { expiresAt: Date.now() + 60_000 });
    const gone = session({ n: 1 }, { createdAt: Date.now() - 5_000, expiresAt: Date.now() - 1_000 });
    expect(await store.create(s)).toBe(true);
    expect(await store.create(gone)).toBe(true);
    const locker = await db.client();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM sessions WHERE id = ANY($1) FOR UPDATE', [[s.id, gone.id]]);
      const t0 = performance.now();
      await expect(store.compareAndSet(nextWrite(s, { data: { n: 2 } }), s)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - t0).toBeLessThanOrEqual(500 + SCHEDULING_SLACK_MS);
      await store.sweepExpired(1000);
      expect((await sql.query('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [gone.id])).rows[0].n).toBe(1); // skipped, not waited on
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await store.compareAndSet(nextWrite(s, { data: { n: 2 } }), s)).toBe(true);
    expect((await store.sweepExpired(1000)).deleted).toBeGreaterThanOrEqual(1);
    expect((await sql.query('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [gone.id])).rows[0].n).toBe(0);
  });

  it('a missing table is rethrown as the bug it is, not reported as StoreUnavailableError', async () => {
    const store = makeStore({ connectionString: db.url, table: 'no_such_table' });
    const err = await store.create(session({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect((err as { code?: string }).code).toBe('42P01');
  });

  it('the store limit (1 MiB by default) is enforced before writing, and the stored data stays intact', async () => {
    const store = makeStore({ connectionString: db.url });
    const m = new SessionManager({ store, secrets: [SECRET], secure: false, maxSessionBytes: Number.MAX_SAFE_INTEGER });
    const s = await m.create({ blob: 'x'.repeat(1024 * 1024 - 20) });
    await expect(m.update(s, (d) => ({ ...d, more: 'x'.repeat(100) }))).rejects.toBeInstanceOf(SessionTooLargeError);
    expect((await m.loadById(s.id))?.version).toBe(1);
  });
});

describe('parseDatabaseCredentials reads the RDS secret JSON', () => {
  it('takes username and password, and refuses a secret without them', () => {
    expect(parseDatabaseCredentials('{"username":"app","password":"p@ss","host":"h","port":5432,"dbname":"d"}')).toEqual({ username: 'app', password: 'p@ss' });
    expect(() => parseDatabaseCredentials('{"username":"app"}')).toThrow(/password/);
    expect(() => parseDatabaseCredentials('plain-token')).toThrow(/not JSON/);
  });
});

describe('PostgresStore on a PostgreSQL cluster of its own that is stopped and started', () => {
  const BOUND_MS = 500;
  const SLACK_MS = SCHEDULING_SLACK_MS;
  let cluster: PostgresCluster;
  let store: PostgresStore;
  let m: SessionManager;

  beforeAll(async () => {
    cluster = await PostgresCluster.start();
    store = makeStore({ connectionString: cluster.url, timeoutMs: BOUND_MS, logger: quiet });
    await store.ensureSchema();
    m = new SessionManager({ store, secrets: [SECRET], secure: false });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await cluster?.dispose();
  });

  const BOUND = { boundMs: BOUND_MS, slackMs: SLACK_MS };
  /** Every session operation, and the sweep, each expected to fail with StoreUnavailableError within the bound. */
  const expectAllUnavailable = () => expectAllUnavailableWithinBound({ ...everySessionCall(store, m), sweepExpired: () => store.sweepExpired(100) }, BOUND);

  it('server stopped (fast): every call fails with StoreUnavailableError within the bound; after a start the same store works and the data is intact', async () => {
    const before = await m.create({ user: 'ada' });
    await cluster.stop('fast');
    await expectAllUnavailable();
    await cluster.restart();
    await eventually(() => store.ping(), 10_000);
    const loaded = await m.loadById(before.id);
    expect(loaded?.data).toEqual({ user: 'ada' });
    await m.update(loaded!, (d) => ({ ...d, user: 'grace' }));
    expect(await m.loadById(before.id)).toMatchObject({ version: 2, data: { user: 'grace' } });
  });

  it('server crashed (immediate): the pool\'s broken idle connections do not crash the process; the same store works after a start', async () => {
    const s = await m.create({ n: 0 });
    await Promise.all([store.ping(), store.ping(), store.ping()]); // several pooled connections now idle
    await cluster.stop('immediate');
    await expectAllUnavailable();
    await cluster.restart();
    const loaded = await eventually(() => m.loadById(s.id), 10_000);
    expect(loaded).toMatchObject({ version: 1, data: { n: 0 } });
  });

  itConnectsAStoreCreatedWhileDown(
    () => ({
      server: { stop: () => cluster.stop('fast'), restart: () => cluster.restart() },
      lateStore: () => new PostgresStore({ connectionString: cluster.url, timeoutMs: BOUND_MS, logger: quiet }),
    }),
    BOUND,
    10_000,
  );

  it('a user and a password function given apart from the URL (as from the RDS secret) log in; a wrong password is StoreUnavailableError', async () => {
    let asked = 0;
    const withSecret = makeStore({
      connectionString: `postgres://127.0.0.1:${cluster.port}/postgres`,
      user: 'postgres',
      password: async () => {
        asked++;
        return cluster.password;
      },
      timeoutMs: 2000,
    });
    await withSecret.ping();
    expect(asked).toBeGreaterThanOrEqual(1); // SCRAM asked, once per new connection
    const wrong = makeStore({ connectionString: `postgres://127.0.0.1:${cluster.port}/postgres`, user: 'postgres', password: 'wrong', timeoutMs: 2000 });
    await expect(wrong.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('SESSION_STORE=postgres with SESSION_DATABASE_SECRET_ARN: the runtime logs in with the RDS secret\'s user and password, checks the schema and serves', async () => {
    const sm = await startSecretsStandIn();
    const arn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf';
    sm.secrets.set(arn, JSON.stringify({ engine: 'postgres', username: 'postgres', password: cluster.password, host: '127.0.0.1', port: cluster.port, dbname: 'postgres' }));
    const client = sm.client();
    try {
      const env = parseSessionEnv({
        SESSION_STORE: 'postgres',
        SESSION_DATABASE_URL: `postgres://127.0.0.1:${cluster.port}/postgres`,
        SESSION_DATABASE_SECRET_ARN: arn,
        SESSION_COOKIE_SECRET: SECRET,
      });
      // The schema is an explicit step (the runtime only checks it): made here as the schema function would.
      await cluster.exec('psql', ['-h', cluster.dir, '-p', String(cluster.port), '-U', 'postgres', '-c', 'DROP TABLE IF EXISTS sessions']);
      await createSessionSchema(cluster.url);
      const rt = await createSessionRuntime(env, { stores: [postgresStoreFactory], secretsManager: client, logger: quiet });
      try {
        expect(rt.store.kind).toBe('postgres');
        const s = await rt.manager.create({ user: 'ada' });
        expect((await rt.manager.loadById(s.id))?.data).toEqual({ user: 'ada' });
        expect(sm.calls.get(arn)).toBeGreaterThanOrEqual(1);
      } finally {
        await rt.close();
      }
    } finally {
      client.destroy();
      await sm.close();
    }
  });

  itLeavesNoUnhandledRejection();
});
