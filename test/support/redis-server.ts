/**
 * Real redis-server processes for tests and benchmarks: plain, TLS (+ requirepass / ACL users),
 * and a 3-master Redis Cluster, plain or TLS-only. Each server gets its own loopback port and
 * temp dir, no persistence; `dispose()` stops it and removes the dir. Stray processes are killed
 * when the test process exits, even after a failed test.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatRedisUrl } from '../../lambda/session/stores/redis-client';
import { freePort } from './ports';
import { ServerProcess } from './server-process';

const run = promisify(execFile);

/** An ACL user with every permission on every key. */
export interface AclUser {
  readonly username: string;
  readonly password: string;
}

export interface RedisServerOptions {
  /** `requirepass` for the default user. @default - none */
  readonly password?: string;
  /** Serve TLS only (self-signed CA made with openssl; `port 0`, `tls-port`). @default false */
  readonly tls?: boolean;
  /**
   * With `tls`: serve these certificates instead of making new ones (cluster nodes share one CA).
   * The caller owns their files. @default - a new CA and certificate in the server's temp dir
   */
  readonly certificates?: TestCertificates;
  /** Extra ACL users. @default - none */
  readonly users?: readonly AclUser[];
  /** Port to use. @default - a free one */
  readonly port?: number;
  /** More redis-server arguments. */
  readonly args?: readonly string[];
}

/** The CA and server certificate a TLS server uses (PEM). */
export interface TestCertificates {
  readonly ca: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A self-signed CA and a server certificate for 127.0.0.1 / localhost, in `dir`. */
export function makeCertificates(dir: string): TestCertificates {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=cdk-sessions test CA');
  ssl('req', '-new', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.ext'));
  return { ca: readFileSync(f('ca.crt'), 'utf8'), caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key') };
}

/** One redis-server process on 127.0.0.1. */
export class RedisServer extends ServerProcess {
  /** Starts a server and waits until it accepts connections. */
  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-redis-'));
    let server: RedisServer | undefined;
    try {
      const port = opts.port ?? (await freePort());
      const certs = opts.tls ? (opts.certificates ?? makeCertificates(dir)) : undefined;
      const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
      if (certs) {
        args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.certFile, '--tls-key-file', certs.keyFile);
        args.push('--tls-ca-cert-file', certs.caFile, '--tls-auth-clients', 'no');
      } else {
        args.push('--port', String(port));
      }
      if (opts.password !== undefined) args.push('--requirepass', opts.password);
      for (const u of opts.users ?? []) args.push('--user', u.username, 'on', `>${u.password}`, '~*', '&*', '+@all');
      args.push(...(opts.args ?? []));
      server = new RedisServer(port, dir, args, opts, certs);
      await server.restart();
      return server;
    } catch (err) {
      await server?.stop(); // a process that started but never answered must not outlive the test
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private constructor(
    /** The (TLS) port. */
    port: number,
    /** Its temp dir (removed by dispose). */
    readonly dir: string,
    args: readonly string[],
    private readonly opts: RedisServerOptions,
    /** Present for a TLS server. */
    readonly certificates?: TestCertificates,
  ) {
    super('redis-server', port, args);
  }

  /** `redis://` or `rediss://` URL, with `user:password@` when given. */
  url(auth?: { username?: string; password: string }): string {
    return formatRedisUrl({ host: '127.0.0.1', port: this.port, tls: this.opts.tls, credentials: auth });
  }

  /** Stop the process and remove the temp dir. Safe to call more than once. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** redis-cli against this server (over TLS, trusting its CA, for a TLS server), returning stdout. */
  async cli(...args: string[]): Promise<string> {
    const auth = this.opts.password !== undefined ? ['-a', this.opts.password, '--no-auth-warning'] : [];
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...tlsCliArgs(this.certificates), ...auth, ...args]);
    return stdout;
  }
}

/** The redis-cli flags for a server with these certificates: none for a plain server. */
function tlsCliArgs(certs: TestCertificates | undefined): string[] {
  return certs ? ['--tls', '--cacert', certs.caFile] : [];
}

/** True when nothing listens on 127.0.0.1:port. */
async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
export async function freeClusterPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = await freePort();
    if (p + 10000 <= 65535 && (await isFree(p + 10000))) return p;
    const q = 20000 + Math.floor(Math.random() * 20000); // the OS's ephemeral range is often too high
    if ((await isFree(q)) && (await isFree(q + 10000))) return q;
  }
  throw new Error('no free port pair (port, port + 10000) found');
}

export interface RedisClusterOptions {
  /**
   * Every node serves TLS only, with certificates from one shared CA (for 127.0.0.1), and the
   * cluster bus and replication run over TLS too: ElastiCache's cluster mode with in-transit
   * encryption. @default false
   */
  readonly tls?: boolean;
}

/** A Redis Cluster of `masters` redis-server processes (no replicas), every slot assigned. */
export class RedisCluster {
  static async start(masters = 3, opts: RedisClusterOptions = {}): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    // One CA for all nodes: each verifies the others on the cluster bus, and a client trusts one CA.
    const certDir = opts.tls ? mkdtempSync(join(tmpdir(), 'cdk-sessions-redis-cluster-ca-')) : undefined;
    const cluster = new RedisCluster(nodes, certDir);
    try {
      const certificates = certDir !== undefined ? makeCertificates(certDir) : undefined;
      // The bus port is the TLS port + 10000 when the bus runs over TLS; freeClusterPort checks both.
      const tlsArgs = certificates ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : [];
      for (let i = 0; i < masters; i++) {
        const port = await freeClusterPort();
        nodes.push(
          await RedisServer.start({
            port,
            tls: opts.tls,
            certificates,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '3000', ...tlsArgs],
          }),
        );
      }
      const create = ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'];
      await run('redis-cli', [...tlsCliArgs(certificates), ...create]);
      await cluster.waitUntilOk(20000);
      return cluster;
    } catch (err) {
      await cluster.dispose();
      throw err;
    }
  }

  private constructor(
    readonly nodes: readonly RedisServer[],
    /** The shared CA's temp dir of a TLS cluster (removed by dispose). */
    private readonly certDir?: string,
  ) {}

  /** A URL of one node (`rediss://` for a TLS cluster): the seed for ioredis Cluster. */
  get url(): string {
    return this.nodes[0].url();
  }

  /** The shared CA and node certificate of a TLS cluster. */
  get certificates(): TestCertificates | undefined {
    return this.nodes[0]?.certificates;
  }

  /** Waits until every node reports cluster_state:ok and knows every other node. */
  async waitUntilOk(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(this.nodes.map((n) => n.cli('CLUSTER', 'INFO')));
      const ok = infos.every((i) => /cluster_state:ok/.test(i) && new RegExp(`cluster_known_nodes:${this.nodes.length}\\b`).test(i));
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`cluster not ok after ${timeoutMs} ms:\n${infos.join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()));
    if (this.certDir !== undefined) rmSync(this.certDir, { recursive: true, force: true });
  }
}
