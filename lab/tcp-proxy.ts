/**
 * A DNS-like indirection for the Redis failover scenario: clients connect to this proxy's
 * port, which forwards to the current primary. {@link TcpProxy.switchTo} stands in for the
 * ElastiCache primary endpoint's DNS record moving to the promoted replica: every existing
 * connection is cut (as the old primary's would be), and new connections go to the new target.
 * What is simulated: the DNS flip (instant here, ~seconds on ElastiCache) and the TTL; what is
 * real: the clients (ioredis in the instances) losing their connections and reconnecting.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '../test/support/ports';

export class TcpProxy {
  static async start(targetPort: number): Promise<TcpProxy> {
    const port = await freePort();
    const p = new TcpProxy(port, targetPort);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(port, '127.0.0.1', () => resolve());
    });
    return p;
  }

  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    readonly port: number,
    private target: number,
  ) {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop);
      upstream.on('error', drop);
      client.on('close', drop);
      upstream.on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  /** Where new connections go from now on; every open connection is cut. */
  switchTo(targetPort: number): void {
    this.target = targetPort;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.switchTo(this.target);
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
