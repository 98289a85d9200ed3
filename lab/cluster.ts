/**
 * One topology running: instance server processes (test/support/app-instance) in haproxy's
 * server slots (test/support/haproxy), on a store that is already running.
 * Slot i is haproxy server `s{i+1}`; its instance reports `servedBy` = `s{i+1}` (and `.gN`
 * after the N-th replacement), so a client can see which instance answered and compare it
 * with its AWSALB cookie.
 */
import { Haproxy, serverName, type Stickiness } from '../test/support/haproxy';
import { startInstance, type InstanceProcess } from '../test/support/app-instance';

export interface ClusterOptions {
  readonly env: Record<string, string>;
  readonly stickiness: Stickiness;
  /** Instances started now. @default 3 */
  readonly instances?: number;
  /** haproxy server slots (room to scale out). @default instances */
  readonly slots?: number;
  /** SHUTDOWN_GRACE_MS of the instances. @default 5000 */
  readonly shutdownGraceMs?: number;
}

export class Cluster {
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const n = opts.instances ?? 3;
    const c = new Cluster(opts);
    try {
      const started = await Promise.all(Array.from({ length: n }, (_, i) => c.spawn(i)));
      started.forEach((inst, i) => (c.slots[i] = inst));
      c.lb = await Haproxy.start({ backends: started.map((s) => s.port), slots: opts.slots ?? n, stickiness: opts.stickiness });
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  /** The instance in each haproxy slot (undefined: empty or killed). */
  readonly slots: Array<InstanceProcess | undefined> = [];
  private readonly generation: number[] = [];
  lb!: Haproxy;

  private constructor(private readonly opts: ClusterOptions) {}

  /** The load balancer's port: where users connect. */
  get port(): number {
    return this.lb.port;
  }

  /** The `servedBy` of slot `i`'s current instance. */
  servedBy(i: number): string {
    const g = this.generation[i] ?? 1;
    return g > 1 ? `${serverName(i)}.g${g}` : serverName(i);
  }

  private spawn(i: number): Promise<InstanceProcess> {
    this.generation[i] = (this.generation[i] ?? 0) + 1;
    return startInstance({ ...this.opts.env, SESSION_SERVED_BY: this.servedBy(i), SHUTDOWN_GRACE_MS: String(this.opts.shutdownGraceMs ?? 5000) });
  }

  /** SIGKILL the instance in slot `i` (a crashed instance; haproxy finds out by its health checks). */
  async kill(i: number): Promise<void> {
    const inst = this.slots[i];
    if (!inst) return;
    inst.signal('SIGKILL');
    await inst.exited;
    this.slots[i] = undefined;
  }

  /**
   * Replace slot `i` the way a rolling deployment does on an ALB: deregister (no new requests),
   * SIGTERM (in-flight requests finish, then exit), start the new instance, register it, wait
   * until its health check passes.
   */
  async replace(i: number, drainMs = 200): Promise<void> {
    await this.lb.drain(i);
    await new Promise((r) => setTimeout(r, drainMs));
    const old = this.slots[i];
    if (old) {
      old.signal('SIGTERM');
      await old.exited;
    }
    await this.add(i);
  }

  /** Start an instance for slot `i`, register it and wait until haproxy sees it UP. */
  async add(i: number): Promise<void> {
    const inst = await this.spawn(i);
    this.slots[i] = inst;
    await this.lb.setServer(i, inst.port);
    await this.lb.waitUntil((s) => s.get(serverName(i)) === 'UP', 10_000);
  }

  /** Wait until every occupied slot is UP in haproxy (after a store outage). */
  async waitAllUp(timeoutMs = 15_000): Promise<void> {
    await this.lb.waitUntil((s) => this.slots.every((inst, i) => inst === undefined || s.get(serverName(i)) === 'UP'), timeoutMs);
  }

  async stop(): Promise<void> {
    await this.lb?.stop();
    await Promise.all(this.slots.map((s) => s?.dispose()));
  }
}
