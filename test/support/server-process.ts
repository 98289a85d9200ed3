/**
 * The life cycle both real-server harnesses share (redis-server, memcached): one child process on
 * a fixed loopback port that can be stopped, killed, frozen and started again on the same port.
 * Stray processes are killed when the test process exits, even after a failed test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitForPort } from './ports';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** One server process on 127.0.0.1:`port`, started by {@link restart}. */
export abstract class ServerProcess {
  private proc?: ChildProcess;
  private output = '';

  protected constructor(
    /** The executable (`redis-server`, `memcached`). */
    private readonly command: string,
    /** The port it listens on, kept across restarts. */
    readonly port: number,
    private readonly args: readonly string[],
    /** Working directory and environment of the process. @default - this process's */
    private readonly spawnOptions: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
  ) {}

  /** True while the process runs. */
  get running(): boolean {
    return this.proc !== undefined;
  }

  /** (Re)start the process on the same port and wait until it accepts connections. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error(`${this.command} on ${this.port} is already running`);
    const proc = spawn(this.command, this.args, { ...this.spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
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
        reject(new Error(`${this.command} on ${this.port} exited (code ${code}, signal ${signal}):\n${this.output}`));
      });
    });
    const failed = new Promise<never>((_, reject) => {
      // A missing binary emits 'error' (ENOENT) and never 'exit': fail now, not after the port wait.
      proc.once('error', (err) => {
        live.delete(proc);
        if (this.proc === proc) this.proc = undefined;
        reject(new Error(`cannot start ${this.command} (${err.message}); \`npm test\` installs it through scripts/prereqs.sh`));
      });
    });
    exited.catch(() => undefined); // only meaningful while starting; awaited through the race below
    failed.catch(() => undefined);
    await Promise.race([waitForPort(this.port, 10000), exited, failed]);
  }

  /** Graceful stop (SIGTERM); the server can be restarted. */
  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  /** Hard kill (SIGKILL), as a crashed node; the server can be restarted. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /**
   * Freeze the process (SIGSTOP): connections stay open, nothing answers — a hung server.
   * Resolves once the kernel reports it stopped: a signal is delivered asynchronously, and a busy
   * server could otherwise still answer the next command.
   */
  async pause(): Promise<void> {
    const proc = this.proc;
    if (!proc?.pid) return;
    proc.kill('SIGSTOP');
    for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
      // /proc/<pid>/stat: "pid (comm) state …"; T = stopped by a signal.
      if (/\) T /.test(readFileSync(`/proc/${proc.pid}/stat`, 'utf8'))) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`${this.command} on ${this.port} did not stop within 5 s of SIGSTOP`);
  }

  /** Undo {@link pause}. */
  resume(): void {
    this.proc?.kill('SIGCONT');
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
