/**
 * Real memcached processes for tests: each on its own loopback port, no UDP. `stop()`/`kill()`
 * and `restart()` reuse the port (the data is gone, as after a node replacement); `pause()`
 * freezes the process (SIGSTOP) so connections stay open and nothing answers. Stray processes
 * are killed when the test process exits, even after a failed test.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports';
import { makeCertificates, type TestCertificates } from './redis-server';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface MemcachedServerOptions {
  /** Item size limit (`-I`) in KiB; a limit under 1 MiB also lowers slab_chunk_max to half of it. @default - memcached's own (1 MiB) */
  readonly itemSizeLimitKiB?: number;
  /** Port. @default - a free one */
  readonly port?: number;
  /** Serve TLS only (`-Z`, a self-signed CA and server certificate made with openssl). @default false */
  readonly tls?: boolean;
}

/** One memcached process on 127.0.0.1. */
export class MemcachedServer {
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

  private proc?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly args: readonly string[],
    /** Present for a TLS server. */
    readonly certificates?: TestCertificates,
  ) {}

  /** `127.0.0.1:<port>`, as SESSION_MEMCACHED_SERVERS lists it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** (Re)start the process on the same port and wait until it accepts connections. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error(`memcached on ${this.port} is already running`);
    const proc = spawn('memcached', this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    live.add(proc);
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        if (this.proc === proc) this.proc = undefined;
        reject(new Error(`memcached on ${this.port} exited (code ${code}, signal ${signal}):\n${this.output}`));
      });
    });
    exited.catch(() => undefined); // only meaningful while starting
    await Promise.race([waitForPort(this.port, 10000), exited]);
  }

  /** Graceful stop (SIGTERM); can be restarted. */
  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  /** Hard kill (SIGKILL), as a failed node; can be restarted. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** Freeze (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** Undo {@link pause}. */
  resume(): void {
    this.proc?.kill('SIGCONT');
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

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT'); // a paused process would not act on SIGTERM
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
