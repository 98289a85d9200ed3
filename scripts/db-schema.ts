/**
 * `npm run db:schema [-- --table app.sessions]`: creates the PostgreSQL session table and its
 * index in the database of SESSION_DATABASE_URL, the explicit step the runtime no longer takes
 * at start. Idempotent. Run it as a role that may CREATE in the schema; the runtime's own role
 * then needs only SELECT, INSERT, UPDATE and DELETE on the table. A deployed
 * PostgresSessionStore does the same on every deploy through its schema custom resource.
 */
import { createPostgresSchema } from '../lambda/session/stores/postgres';
import { Pool } from 'pg';

async function main(): Promise<void> {
  const url = process.env.SESSION_DATABASE_URL;
  if (!url) throw new Error('SESSION_DATABASE_URL is required: postgres://user:password@host:5432/db');
  const i = process.argv.indexOf('--table');
  const table = i >= 0 ? process.argv[i + 1] : 'sessions';
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000 });
  try {
    await createPostgresSchema(pool, table);
    console.log(`session table ${table} is in place`);
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
