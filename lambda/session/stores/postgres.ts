/**
 * PostgresStore: sessions in PostgreSQL (RDS / Aurora PostgreSQL), one row per session in
 *
 *   sessions(id text primary key, version bigint not null, data jsonb not null,
 *            created_at timestamptz not null, expires_at timestamptz not null,
 *            write_token text not null default '')   (last: where ALTER TABLE puts it on an older table)
 *   + index on expires_at
 *
 * created idempotently by {@link createPostgresSchema} (an explicit step: the RDS topology's schema
 * function on deploy, `npm run db:schema` locally). The runtime never runs DDL: at start it only
 * checks the table with {@link checkPostgresSchema}, so its role needs no CREATE privilege.
 * Statements, one round trip each:
 * - load:          UPDATE … SET expires_at = LEAST(now + idle, created_at + absolute)
 *                  WHERE id = $1 AND expires_at > now AND created_at + absolute > now RETURNING …
 *                  (reads and slides in one statement; an expired row is never returned)
 * - create:        INSERT … ON CONFLICT (id) DO UPDATE … WHERE sessions.expires_at <= now
 *                  (a live row blocks the id, an expired leftover does not)
 * - compareAndSet: UPDATE … WHERE id = $1 AND version = $2 AND write_token = $3 AND expires_at > now
 *                  (the write token tells a write apart from another of the same version)
 * - delete:        DELETE … WHERE id = $1;  ping: SELECT 1
 * PostgreSQL has no TTL: {@link PostgresStore.sweepExpired} deletes expired rows in small
 * batches (FOR UPDATE SKIP LOCKED, so concurrent sweepers and live traffic do not wait on each
 * other); run it on a schedule. Until swept, expired rows are only filtered, never returned.
 *
 * Times are the app's clock (`now` from the caller / Date.now()), as in every other store, so
 * the database's clock does not matter. Every call is bounded: connectionTimeoutMillis for
 * getting a connection, statement_timeout on the server and query_timeout in the client, and a
 * race on top; past the bound, or on a connection failure, the call fails with
 * StoreUnavailableError. The pool drops broken connections and opens new ones, so the same
 * store works again when the database is back (e.g. after a restart or failover).
 */
import { Pool, type PoolConfig, type QueryResultRow } from 'pg';
import { DEFAULTS } from '../env';
import { SessionError, SessionTooLargeError, StoreUnavailableError } from '../errors';
import type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from '../types';
import { checkSuccessor, checkWriteToken } from '../write-token';

/** Where the store writes its warnings (a Powertools Logger fits). */
export interface PostgresStoreLogger {
  warn(message: string): void;
}

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/db?sslmode=…`; the password may come from `password` instead. */
  readonly connectionString?: string;
  /**
   * User name, overriding the one in the URL (e.g. from the RDS secret).
   * @default - the URL's
   */
  readonly user?: string;
  /**
   * Password, overriding the URL's: a string, or a function called for every new connection
   * (so a rotated secret is picked up without a restart).
   * @default - the URL's
   */
  readonly password?: string | (() => string | Promise<string>);
  /** A pool you built (the store does not end it). @default - one of the store's own */
  readonly pool?: Pool;
  /** Table name (a plain identifier, optionally schema-qualified). @default 'sessions' */
  readonly table?: string;
  /** Bound on every store call, ms. @default 2000 */
  readonly timeoutMs?: number;
  /** Largest serialized session data, bytes. @default 1048576 (1 MiB) */
  readonly maxSessionBytes?: number;
  /** Connections in the store's own pool. @default 5 */
  readonly maxConnections?: number;
  /** @default console */
  readonly logger?: PostgresStoreLogger;
}

/** What `sweepExpired` did. */
export interface SweepResult {
  /** Rows deleted in all. */
  readonly deleted: number;
  /** DELETE statements run (the last one deleted fewer than a full batch, or the cap was hit). */
  readonly batches: number;
}

/**
 * 1 MiB. jsonb holds up to 255 MB, but every load returns the whole row and every write
 * rewrites (and WAL-logs) all of it: a session is read on every request, so a big one costs
 * on every request, and the app's own limit (64 KiB by default) is far below this anyway.
 */
export const POSTGRES_DEFAULT_MAX_BYTES = 1024 * 1024;

/** Any object that can run a query: a Pool or a Client. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** Checks a table name, optionally schema-qualified; returns it quoted for SQL. */
export function quoteTableName(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(p))) {
    throw new Error(`table must be a plain identifier like "sessions" or "app.sessions", got "${table}"`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/**
 * Creates the session table and its expires_at index if missing. Safe to run any number of
 * times, also from many processes at once: an advisory lock serializes the DDL, because two
 * concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog.
 */
export async function ensureSchema(pool: Pool, table = 'sessions'): Promise<void> {
  const t = quoteTableName(table);
  const index = `"${table.replace('.', '_')}_expires_at_idx"`;
  const client = await pool.connect();
  const onError = (): void => undefined; // a broken connection surfaces as the failing query below
  client.on('error', onError);
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cdk-sessions schema ${table}`]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${t} (
        id text PRIMARY KEY,
        version bigint NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        write_token text NOT NULL DEFAULT ''
      )`,
    );
    // A table made before write tokens gets the column ('' = a row written before them). Only
    // then: ALTER TABLE takes an exclusive lock even when the column exists.
    const hasToken = await client.query(`SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'write_token' AND NOT attisdropped`, [t]);
    if (hasToken.rowCount === 0) await client.query(`ALTER TABLE ${t} ADD COLUMN write_token text NOT NULL DEFAULT ''`);
    await client.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${t} (expires_at)`);
    await client.query('COMMIT');
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** The explicit name of {@link ensureSchema}: creates the session table and index if missing. */
export const createPostgresSchema = ensureSchema;

/**
 * Columns the store reads and writes. {@link checkPostgresSchema} requires every one of them, so
 * a column added to the table in {@link ensureSchema} must be added here too.
 */
export const SESSION_TABLE_COLUMNS: readonly string[] = ['id', 'version', 'data', 'created_at', 'expires_at', 'write_token'];

/** Table privileges the runtime's role needs: no CREATE, no ownership. */
export const SESSION_TABLE_PRIVILEGES: readonly string[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

/** How to create the table, as the start-up check's error says it. */
const HOW_TO_CREATE =
  'Create it with the schema step: a deployed PostgresSessionStore runs it on every deploy (its schema custom resource); ' +
  'locally run `SESSION_DATABASE_URL=postgres://... npm run db:schema` (or call createPostgresSchema(pool, table) from cdk-sessions/runtime) ' +
  'as a role that may CREATE in the schema, then grant the runtime role ' + SESSION_TABLE_PRIVILEGES.join(', ') + ' on the table.';

/**
 * Checks that the session table exists with every column in {@link SESSION_TABLE_COLUMNS} and
 * that the connected role holds {@link SESSION_TABLE_PRIVILEGES} on it, with one catalog query
 * and no DDL. Throws an Error that names what is missing and how to create it; an unreachable
 * database fails as the query does (see PostgresStore.checkSchema for the typed error).
 */
export async function checkPostgresSchema(db: Queryable, table = 'sessions'): Promise<void> {
  const quoted = quoteTableName(table);
  const { rows } = await db.query<{ found: boolean; columns: string[] | null; missing_privileges: string[] | null; who: string; db: string }>(
    `SELECT to_regclass($1) IS NOT NULL AS found,
            (SELECT array_agg(attname::text) FROM pg_attribute
              WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped) AS columns,
            (SELECT array_agg(p) FROM unnest($2::text[]) AS p
              WHERE to_regclass($1) IS NOT NULL AND NOT has_table_privilege(to_regclass($1), p)) AS missing_privileges,
            current_user::text AS who, current_database()::text AS db`,
    [quoted, SESSION_TABLE_PRIVILEGES],
  );
  const r = rows[0];
  const where = `in database "${r.db}" (connected as "${r.who}")`;
  if (!r.found) throw new Error(`the PostgreSQL session table ${quoted} does not exist ${where}. ${HOW_TO_CREATE}`);
  const missing = SESSION_TABLE_COLUMNS.filter((c) => !(r.columns ?? []).includes(c));
  if (missing.length > 0) {
    throw new Error(`the PostgreSQL session table ${quoted} ${where} lacks column(s) ${missing.join(', ')}: it was made by something else or an older version. ${HOW_TO_CREATE}`);
  }
  if (r.missing_privileges && r.missing_privileges.length > 0) {
    throw new Error(`role "${r.who}" lacks ${r.missing_privileges.join(', ')} on the PostgreSQL session table ${quoted} ${where}: GRANT ${SESSION_TABLE_PRIVILEGES.join(', ')} ON ${quoted} TO "${r.who}".`);
  }
}

/** SQLSTATE classes and codes that mean "the database is not available right now". */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources (too many connections, out of memory, disk full)
    code.startsWith('57P') || // admin shutdown, crash shutdown, cannot connect now
    code === '57014' || // query_canceled (statement_timeout)
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === '55P03' || // lock_not_available
    code === '25006' || // read_only_sql_transaction (writer failed over, connected to a reader)
    code === '28P01' || // invalid_password: e.g. rotated secret not yet picked up
    code === '28000' // invalid_authorization_specification
  );
}

/** Node socket errors and the pg client's own connection/timeout failures. */
const NETWORK = /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)\b|Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end/i;

/** True when the failure is the database's availability, false when it is a bug (bad SQL, missing table, …). */
export function isPostgresUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return isUnavailableSqlState(code);
  if (typeof code === 'string' && NETWORK.test(code)) return true;
  return err instanceof Error && NETWORK.test(err.message);
}

interface SessionRow {
  version: string;
  write_token: string;
  data: SessionData;
  created_at: Date;
  expires_at: Date;
}

export class PostgresStore implements SessionStore {
  readonly kind = 'postgres';
  readonly maxSessionBytes: number;
  /** Bound on every call, ms. */
  readonly timeoutMs: number;
  /** The table, as given. */
  readonly table: string;
  /** The pool the store queries (its own, or the one given). */
  readonly pool: Pool;
  private readonly t: string;
  private readonly ownsPool: boolean;
  private readonly logger: PostgresStoreLogger;
  private failing = false;
  private closed = false;

  constructor(opts: PostgresStoreOptions) {
    this.table = opts.table ?? 'sessions';
    this.t = quoteTableName(this.table);
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.storeTimeoutMs;
    this.maxSessionBytes = opts.maxSessionBytes ?? POSTGRES_DEFAULT_MAX_BYTES;
    this.logger = opts.logger ?? console;
    this.ownsPool = opts.pool === undefined;
    if (opts.pool === undefined && opts.connectionString === undefined) throw new Error('PostgresStore needs a connectionString or a pool');
    this.pool = opts.pool ?? new Pool(poolConfig(opts, this.timeoutMs));
    // An idle connection that breaks (server restart, failover) is reported here; the pool
    // removes it and opens a new one on demand. Without a listener it would crash the process.
    this.pool.on('error', (err) => {
      if (this.failing) return;
      this.failing = true;
      this.logger.warn(`postgres session store: idle connection lost, reconnecting on demand: ${err.message}`);
    });
  }

  /** Creates the table and index if missing (idempotent). Needs CREATE on the schema: an explicit step, never run at start. */
  async ensureSchema(): Promise<void> {
    await this.run('ensureSchema', () => ensureSchema(this.pool, this.table));
  }

  /**
   * The start-up check ({@link checkPostgresSchema}): the table, its columns and the role's
   * privileges, without DDL. A missing piece throws an Error naming it; an unreachable database
   * throws StoreUnavailableError within the store's bound.
   */
  async checkSchema(): Promise<void> {
    await this.run('checkSchema', () => checkPostgresSchema(this.pool, this.table));
  }

  async load(id: string, opts: LoadOptions): Promise<StoredSession | undefined> {
    const { rows } = await this.run('load', () =>
      this.pool.query<SessionRow>(
        `UPDATE ${this.t}
            SET expires_at = LEAST($2::timestamptz + $3 * interval '1 millisecond', created_at + $4 * interval '1 millisecond')
          WHERE id = $1 AND expires_at > $2 AND created_at + $4 * interval '1 millisecond' > $2
          RETURNING version, write_token, data, created_at, expires_at`,
        [id, new Date(opts.now), Math.round(opts.idleTimeoutSeconds * 1000), Math.round(opts.absoluteTimeoutSeconds * 1000)],
      ),
    );
    return rows.length === 0 ? undefined : fromRow(id, rows[0]);
  }

  async create(session: StoredSession): Promise<boolean> {
    checkWriteToken(session.token, 'write');
    const data = this.serialize(session);
    const { rowCount } = await this.run('create', () =>
      this.pool.query(
        `INSERT INTO ${this.t} AS s (id, version, write_token, data, created_at, expires_at) VALUES ($1, $2, $7, $3::jsonb, $4, $5)
         ON CONFLICT (id) DO UPDATE
            SET version = EXCLUDED.version, write_token = EXCLUDED.write_token, data = EXCLUDED.data, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
          WHERE s.expires_at <= $6`,
        [session.id, session.version, data, new Date(session.createdAt), new Date(session.expiresAt), new Date(), session.token],
      ),
    );
    return rowCount === 1;
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp): Promise<boolean> {
    checkSuccessor('compareAndSet', session, expected);
    const data = this.serialize(session);
    const { rowCount } = await this.run('compareAndSet', () =>
      this.pool.query(
        `UPDATE ${this.t} SET version = $2, write_token = $7, data = $3::jsonb, expires_at = $4
          WHERE id = $1 AND version = $5 AND write_token = $8 AND expires_at > $6`,
        [session.id, session.version, data, new Date(session.expiresAt), expected.version, new Date(), session.token, expected.token],
      ),
    );
    return rowCount === 1;
  }

  async delete(id: string): Promise<void> {
    await this.run('delete', () => this.pool.query(`DELETE FROM ${this.t} WHERE id = $1`, [id]));
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.pool.query('SELECT 1'));
  }

  /**
   * Deletes sessions that expired before `now`, `batchSize` rows per statement (each its own
   * short transaction; rows locked by others are skipped), until a batch comes back short,
   * `maxBatches` ran, or a full batch ends after `until` (epoch ms: a time budget). Each
   * statement is bounded like any other call.
   */
  async sweepExpired(batchSize = 1000, opts: { now?: number; maxBatches?: number; until?: number } = {}): Promise<SweepResult> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive whole number, got ${batchSize}`);
    const now = new Date(opts.now ?? Date.now());
    const maxBatches = opts.maxBatches ?? Number.POSITIVE_INFINITY;
    let deleted = 0;
    let batches = 0;
    while (batches < maxBatches) {
      const { rowCount } = await this.run('sweepExpired', () =>
        this.pool.query(
          `DELETE FROM ${this.t} WHERE id IN (
             SELECT id FROM ${this.t} WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [now, batchSize],
        ),
      );
      batches++;
      deleted += rowCount ?? 0;
      if ((rowCount ?? 0) < batchSize) break;
      if (opts.until !== undefined && Date.now() >= opts.until) break;
    }
    return { deleted, batches };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  /** The data as JSON text, after the size check. */
  private serialize(session: StoredSession): string {
    const data = JSON.stringify(session.data);
    const bytes = Buffer.byteLength(data);
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
    return data;
  }

  /**
   * One call within the bound. Unavailability becomes StoreUnavailableError; anything else
   * (bad SQL, a missing table, a permission error) is rethrown as the bug it is.
   */
  private async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`postgres ${what}: the store is closed`);
    const ms = this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`postgres ${what} got no answer within ${ms} ms`)), ms);
    });
    try {
      // Promise.race subscribes to both, so the loser's later rejection is handled; the pg
      // client's own query_timeout ends the abandoned query and drops its connection.
      const result = await Promise.race([op(), expired]);
      if (this.failing) {
        this.failing = false;
        this.logger.warn('postgres session store: connected again');
      }
      return result;
    } catch (err) {
      if (err instanceof SessionError) throw err;
      if (isPostgresUnavailable(err)) {
        throw new StoreUnavailableError(`postgres ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

function fromRow(id: string, r: SessionRow): StoredSession {
  return { id, version: Number(r.version), token: r.write_token, data: r.data, createdAt: r.created_at.getTime(), expiresAt: r.expires_at.getTime() };
}

/**
 * The store's own pool settings: every wait bounded by `timeoutMs`. With a user or password
 * override, the URL is taken apart here (pg would let the URL's empty password win over ours).
 */
function poolConfig(opts: PostgresStoreOptions, timeoutMs: number): PoolConfig {
  const bounds: PoolConfig = {
    max: opts.maxConnections ?? 5,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout: Math.max(timeoutMs, 1000),
    idleTimeoutMillis: 60_000,
    keepAlive: true,
    application_name: 'cdk-sessions',
  };
  if (opts.user === undefined && opts.password === undefined) return { ...bounds, connectionString: opts.connectionString };
  const url = new URL(opts.connectionString!);
  const sslmode = url.searchParams.get('sslmode');
  return {
    ...bounds,
    host: decodeURIComponent(url.hostname.replace(/^\[(.+)\]$/, '$1')),
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)) || undefined,
    user: opts.user ?? (decodeURIComponent(url.username) || undefined),
    password: opts.password ?? (decodeURIComponent(url.password) || undefined),
    // sslmode as libpq spells it; require/verify-* verify the certificate (for RDS, trust the RDS CA
    // bundle through NODE_EXTRA_CA_CERTS), no-verify encrypts without verifying.
    ssl: sslmode === null || ['disable', 'allow', 'prefer'].includes(sslmode) ? undefined : sslmode === 'no-verify' ? { rejectUnauthorized: false } : { rejectUnauthorized: true },
  };
}
