/**
 * Real memcached processes for tests: each on its own loopback port, no UDP. `stop()`/`kill()`
 * and `restart()` reuse the port (the data is gone, as after a node replacement); `pause()`
 * freezes the process (SIGSTOP) so connections stay open and nothing answers. Stray processes
 * are killed when the test process exits, even after a failed test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { makeCertificates, type TestCertificates } from './redis-server';
import { ServerProcess } from './server-process';

export interface MemcachedServerOptions {
  /** Item size limit (`-I`) in KiB; a limit under 1 MiB also lowers slab_chunk_max to half of it. @default - memcached's own (1 MiB) */
  readonly itemSizeLimitKiB?: number;
  /** Port. @default - a free one */
  readonly port?: number;
  /** Serve TLS only (`-Z`, a self-signed CA and server certificate made with openssl). @default false */
  readonly tls?: boolean;
}

/** One memcached process on 127.0.0.1. */
export class MemcachedServer extends ServerProcess {
  static async start(opts: MemcachedServerOptions = {}): Promise<MemcachedServer> {
    const port = opts.port ?? (await freePort());
    const args = ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-m', '64'];
    if (opts.itemSizeLimitKiB !== undefined) {
      args.push('-I', `${opts.itemSizeLimitKiB}k`);
      if (opts.itemSizeLimitKiB < 1024) args.push('-o', `slab_chunk_max=${(opts.itemSizeLimitKiB * 1024) / 2}`);
    }
    // memcached refuses to run as root unless told which user to become.
    if (process.getuid?.() === 0) args.push('-u', 'nobody');
    let certificates: TestCertificates | undefined;
    if (opts.tls) {
      const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-memcached-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      certificates = makeCertificates(dir);
      // Readable by the unprivileged user memcached switches to.
      execFileSync('chmod', ['-R', 'a+rX', dir]);
      args.push('-Z', '-o', `ssl_chain_cert=${certificates.certFile},ssl_key=${certificates.keyFile}`);
    }
    const server = new MemcachedServer(port, args, certificates);
    try {
      await server.restart();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  private constructor(
    port: number,
    args: readonly string[],
    /** Present for a TLS server. */
    readonly certificates?: TestCertificates,
  ) {
    super('memcached', port, args);
  }

  /** `127.0.0.1:<port>`, as SESSION_MEMCACHED_SERVERS lists it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * One raw text-protocol exchange on a fresh connection, bypassing any client: sends `command`
   * (CRLF added) and resolves with the reply up to and including its final line (`END`,
   * `STORED`, …). For looking at what memcached itself holds. Plain TCP only.
   */
  async raw(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(this.port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`memcached ${this.port}: no complete reply to ${command.split('\r\n')[0]}: ${text}`));
      }, 5000);
      s.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      s.on('data', (b) => {
        text += b.toString();
        if (/(^|\r\n)(END|(?:HD|EN|NF|NS|EX)(?: [^\r]*)?|STORED|NOT_STORED|EXISTS|NOT_FOUND|DELETED|TOUCHED|ERROR|CLIENT_ERROR[^\r]*|SERVER_ERROR[^\r]*|VERSION [^\r]*)\r\n$/.test(text)) {
          clearTimeout(timer);
          s.end();
          resolve(text);
        }
      });
      s.write(`${command}\r\n`);
    });
  }
}
