/**
 * `cdk-sessions/runtime/postgres`: the PostgreSQL session store (RDS, Aurora), its schema helpers,
 * and {@link postgresStoreFactory} that lets createSessionRuntime build it from
 * SESSION_DATABASE_URL and SESSION_DATABASE_SECRET_ARN.
 *
 * @example
 * ```ts
 * import { createSessionRuntime, parseSessionEnv } from 'cdk-sessions/runtime';
 * import { postgresStoreFactory } from 'cdk-sessions/runtime/postgres';
 *
 * const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [postgresStoreFactory] });
 * ```
 */
import { StoreUnavailableError } from '../errors';
import type { SessionStoreFactory } from '../from-env';
import { parseDatabaseCredentials } from '../from-env';
import { PostgresStore } from '../stores/postgres';

export {
  PostgresStore,
  checkPostgresSchema,
  createPostgresSchema,
  ensureSchema,
  isPostgresUnavailable,
  quoteTableName,
  POSTGRES_DEFAULT_MAX_BYTES,
  SESSION_TABLE_COLUMNS,
  SESSION_TABLE_PRIVILEGES,
} from '../stores/postgres';
export type { PostgresStoreLogger, PostgresStoreOptions, Queryable, SweepResult } from '../stores/postgres';
export { parseDatabaseCredentials } from '../from-env';

/** How long fetched database credentials are reused before Secrets Manager is asked again, ms. */
const CREDENTIALS_MAX_AGE_MS = 60_000;

/**
 * Builds a {@link PostgresStore} for SESSION_STORE=postgres on SESSION_DATABASE_URL. With
 * SESSION_DATABASE_SECRET_ARN the user name and password come from the RDS secret; the password is
 * asked for on every new connection and fetched again when a minute old, so a rotated secret is
 * picked up without a restart.
 *
 * It runs no DDL (the runtime's role needs no CREATE): the table is made by the schema function on
 * deploy, `npm run db:schema` or {@link createPostgresSchema}. A missing table or column stops the
 * start with an error that says how to create it; an unreachable database does not (requests get
 * 503 until it is back, as in any outage).
 */
export const postgresStoreFactory: SessionStoreFactory = {
  kind: 'postgres',
  async create(env, { logger, readSecret }) {
    const pg = env.postgres!;
    const arn = pg.secretArn;
    let fetched: { at: number; creds: Promise<{ username: string; password: string }> } | undefined;
    const credentials = () => {
      if (fetched === undefined || Date.now() - fetched.at > CREDENTIALS_MAX_AGE_MS) {
        const creds = readSecret(arn!).then(parseDatabaseCredentials);
        fetched = { at: Date.now(), creds };
        creds.catch(() => {
          if (fetched?.creds === creds) fetched = undefined;
        });
      }
      return fetched.creds;
    };
    const store = new PostgresStore({
      connectionString: pg.url,
      user: arn !== undefined ? (await credentials()).username : undefined,
      password: arn !== undefined ? async () => (await credentials()).password : undefined,
      timeoutMs: env.storeTimeoutMs,
      maxSessionBytes: env.maxSessionBytes,
      logger: { warn: (m: string) => logger.warn(m) },
    });
    try {
      await store.checkSchema();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) {
        await store.close().catch(() => undefined);
        throw err;
      }
      logger.warn(`postgres session store: could not check the session table at start, the database is unavailable: ${err.message}`);
    }
    return store;
  },
};
