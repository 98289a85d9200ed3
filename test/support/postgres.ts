/**
 * PostgreSQL for tests, two ways:
 * - {@link ThrowawayDatabase}: a uniquely named database on the machine's server
 *   (127.0.0.1:5432, trust auth, user postgres), dropped again by `drop()`. Nothing else on
 *   that server is touched.
 * - {@link PostgresCluster}: a cluster of our own (initdb + pg_ctl into a temp dir, own port,
 *   TCP connections authenticated with SCRAM, user postgres / {@link PostgresCluster.password}), which a test may stop, kill and start again — the machine's server must never
 *   be stopped. PostgreSQL refuses to run as root, so when the tests run as root the cluster
 *   runs as the `postgres` user (runuser). Removed by `dispose()`; killed at process exit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Pool } from 'pg';
import { createPostgresSchema } from '../../lambda/session/stores/postgres';
import { freePort, waitForPort } from './ports';

const run = promisify(execFile);

/**
 * Creates the session table in the database at `url`: the explicit schema step (the runtime only
 * checks the table at start), as `npm run db:schema` takes it.
 */
export async function createSessionSchema(url: string, table = 'sessions'): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    await createPostgresSchema(pool, table);
  } finally {
    await pool.end();
  }
}

/** The machine's PostgreSQL, as the tests may use it. */
export const MACHINE_PG = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

/** A database of its own on the machine's server, unique per call. */
export class ThrowawayDatabase {
  static async create(label = 'test'): Promise<ThrowawayDatabase> {
    const name = `cdk_sessions_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    const admin = new Client({ ...MACHINE_PG, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    return new ThrowawayDatabase(name);
  }

  private constructor(readonly name: string) {}

  /** `postgres://postgres@127.0.0.1:5432/<name>` */
  get url(): string {
    return `postgres://${MACHINE_PG.user}@${MACHINE_PG.host}:${MACHINE_PG.port}/${this.name}`;
  }

  /** A client of its own on this database (the caller ends it). */
  async client(): Promise<Client> {
    const c = new Client({ connectionString: this.url });
    await c.connect();
    return c;
  }

  /** Drops the database, ending any connection still open to it. */
  async drop(): Promise<void> {
    const admin = new Client({ ...MACHINE_PG, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/** The directory of PostgreSQL's server binaries (initdb, pg_ctl), highest version first. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  throw new Error(`no PostgreSQL server binaries under ${root}`);
}

const clusters = new Set<PostgresCluster>();
process.once('exit', () => {
  for (const c of clusters) c.killNow();
});

/** A throwaway PostgreSQL cluster on 127.0.0.1:<own port>. */
export class PostgresCluster {
  static async start(): Promise<PostgresCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-pg-'));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    const cluster = new PostgresCluster(dir, await freePort(), postgresBinDir(), asRoot);
    clusters.add(cluster);
    try {
      const pwfile = join(dir, 'pwfile');
      writeFileSync(pwfile, `${cluster.password}\n`, { mode: 0o644 });
      await cluster.exec('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '--pwfile', pwfile, '--auth-host', 'scram-sha-256', '--auth-local', 'trust', '--no-sync', '-E', 'UTF8']);
      await cluster.restart();
      return cluster;
    } catch (err) {
      await cluster.dispose();
      throw err;
    }
  }

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asRoot: boolean,
  ) {}

  /** The postgres user's password (TCP connections must give it). */
  readonly password = 'cluster-password-0123456789';

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
  get url(): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server (again) on the same port and data dir and waits until it accepts connections. */
  async restart(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'log'), '-o', opts, '-w', '-t', '30', 'start']);
    await waitForPort(this.port, 10000);
  }

  /** Stops the server, ending every connection (`fast`), or as a crash would (`immediate`). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) return;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  /** Stops the server and removes its directory. */
  async dispose(): Promise<void> {
    try {
      await this.stop('immediate');
    } finally {
      clusters.delete(this);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    try {
      if (existsSync(join(this.dataDir, 'postmaster.pid'))) this.execSync('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', 'stop']);
    } catch {
      // the process is exiting; nothing more can be done
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one of PostgreSQL's tools (initdb, pg_ctl, psql, …) as the cluster's OS user. */
  async exec(tool: string, args: string[]): Promise<void> {
    const [cmd, argv] = this.command(tool, args);
    await run(cmd, argv, { timeout: 60_000 });
  }

  private execSync(tool: string, args: string[]): void {
    const [cmd, argv] = this.command(tool, args);
    execFileSync(cmd, argv, { stdio: 'ignore', timeout: 30_000 });
  }

  private command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.bin, tool);
    return this.asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  }
}
