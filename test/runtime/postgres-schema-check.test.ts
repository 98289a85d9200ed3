/**
 * The runtime never runs DDL on PostgreSQL: at start it checks the session table (exists, has
 * every column, the role may SELECT/INSERT/UPDATE/DELETE it) and stops with an error that names
 * what is missing and how to create it. The table is made by an explicit step
 * (createPostgresSchema / `npm run db:schema`, the schema function when deployed), so the
 * runtime's role needs no CREATE privilege. Against the machine's PostgreSQL, each test in a
 * throwaway database of its own.
 */
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { Client } from 'pg';
import { createApp } from '../../lambda/app/app';
import { parseSessionEnv } from '../../lambda/session/env';
import { postgresStoreFactory } from '../../lambda/session/entries/postgres';
import { createSessionRuntime, type SessionRuntime } from '../../lambda/session/from-env';
import { TEST_SECRET } from '../support/app-backends';
import { Client as AppClient, httpApiSend } from '../support/app-client';
import { freePort } from '../support/ports';
import { createSessionSchema, MACHINE_PG, ThrowawayDatabase } from '../support/postgres';

const quiet = { warn: () => undefined };
const dbs: ThrowawayDatabase[] = [];
const runtimes: SessionRuntime[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await Promise.all(dbs.map((d) => d.drop()));
});

async function database(label: string): Promise<ThrowawayDatabase> {
  const db = await ThrowawayDatabase.create(label);
  dbs.push(db);
  return db;
}

async function start(url: string): Promise<SessionRuntime> {
  const env = parseSessionEnv({ SESSION_STORE: 'postgres', SESSION_DATABASE_URL: url, SESSION_COOKIE_SECRET: TEST_SECRET, SESSION_COOKIE_SECURE: 'false' });
  const rt = await createSessionRuntime(env, { stores: [postgresStoreFactory], logger: quiet });
  runtimes.push(rt);
  return rt;
}

async function sql(db: ThrowawayDatabase, ...statements: string[]): Promise<void> {
  const c = await db.client();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

async function tableExists(db: ThrowawayDatabase): Promise<boolean> {
  const c = await db.client();
  try {
    return (await c.query(`SELECT to_regclass('sessions') IS NOT NULL AS e`)).rows[0].e as boolean;
  } finally {
    await c.end();
  }
}

test('without the session table the runtime refuses to start, names the table and database and says how to create it, and creates nothing', async () => {
  const db = await database('noschema');
  await expect(start(db.url)).rejects.toThrow(
    new RegExp(`session table "sessions" does not exist in database "${db.name}" \\(connected as "postgres"\\)\\. Create it with the schema step.*npm run db:schema`),
  );
  expect(await tableExists(db)).toBe(false);
});

test('a table without a column the store uses stops the start with that column named', async () => {
  const db = await database('oldschema');
  await sql(db, 'CREATE TABLE sessions (id text PRIMARY KEY, version bigint NOT NULL, data jsonb NOT NULL, created_at timestamptz NOT NULL)');
  await expect(start(db.url)).rejects.toThrow(/session table "sessions" in database .* lacks column\(s\) expires_at/);
});

test('after the explicit schema step the runtime starts and serves sessions', async () => {
  const db = await database('withschema');
  await createSessionSchema(db.url);
  const rt = await start(db.url);
  const c = new AppClient(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'pg' })));
  expect((await c.post('/login', { user: 'ada' })).status).toBe(200);
  expect((await c.get('/session')).json).toMatchObject({ user: 'ada' });
});

test('a database that cannot be reached at start does not stop the start: a warning, then 503s within the store bound, as in any outage', async () => {
  const port = await freePort(); // nothing listens there
  const warnings: string[] = [];
  const env = parseSessionEnv({
    SESSION_STORE: 'postgres',
    SESSION_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none`,
    SESSION_COOKIE_SECRET: TEST_SECRET,
    SESSION_COOKIE_SECURE: 'false',
    SESSION_STORE_TIMEOUT_MS: '1000',
  });
  const rt = await createSessionRuntime(env, { stores: [postgresStoreFactory], logger: { warn: (m: string) => warnings.push(m) } });
  runtimes.push(rt);
  expect(warnings).toEqual([expect.stringMatching(/could not check the session table at start, the database is unavailable/)]);
  const c = new AppClient(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'pg' })));
  expect((await c.post('/login', { user: 'ada' })).status).toBe(503);
});

describe('a runtime role without CREATE', () => {
  const role = `cdk_sessions_rt_${process.pid}_${Date.now().toString(36)}`;
  let db: ThrowawayDatabase;
  beforeAll(async () => {
    db = await database('nocreate');
    await createSessionSchema(db.url);
    await sql(
      db,
      `CREATE ROLE ${role} LOGIN`,
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
      `REVOKE CREATE, TEMPORARY ON DATABASE "${db.name}" FROM PUBLIC`,
    );
  });
  afterAll(async () => {
    await db.drop();
    dbs.splice(dbs.indexOf(db), 1);
    const admin = new Client({ ...MACHINE_PG, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await admin.end();
    }
  });
  const roleUrl = () => `postgres://${role}@${MACHINE_PG.host}:${MACHINE_PG.port}/${db.name}`;

  test('lacking a table privilege, the start names the role, the privileges and the GRANT to run', async () => {
    await sql(db, `GRANT SELECT ON sessions TO ${role}`);
    await expect(start(roleUrl())).rejects.toThrow(new RegExp(`role "${role}" lacks INSERT, UPDATE, DELETE on the PostgreSQL session table "sessions".*GRANT SELECT, INSERT, UPDATE, DELETE ON "sessions" TO "${role}"`));
  });

  test('with SELECT, INSERT, UPDATE, DELETE only (no CREATE anywhere) it starts, logs in, modifies and logs out', async () => {
    await sql(db, `GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO ${role}`);
    const c0 = await db.client();
    try {
      const r = await c0.query(`SELECT has_schema_privilege($1, 'public', 'CREATE') AS s, has_database_privilege($1, current_database(), 'CREATE') AS d`, [role]);
      expect(r.rows[0]).toEqual({ s: false, d: false });
    } finally {
      await c0.end();
    }
    const rt = await start(roleUrl());
    const c = new AppClient(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'pg' })));
    expect((await c.post('/login', { user: 'grace' })).status).toBe(200);
    expect((await c.post('/cart/items', { sku: 'a', qty: 1 })).status).toBe(200);
    expect((await c.get('/session')).json).toMatchObject({ user: 'grace', cart: [{ sku: 'a', qty: 1 }] });
    expect((await c.post('/logout', {})).status).toBe(204);
  });
});
