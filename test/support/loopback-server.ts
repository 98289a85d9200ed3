/**
 * The part the in-process stand-ins (dynalite, s3rver) share: an http server on a fixed
 * loopback port whose data lives in a temp directory. `stop()` drops every connection and stops
 * listening but keeps the port and the data, so `restart()` brings the same server back, as
 * after an outage of the real service; `close()` stops it for good and removes the directory.
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';

export interface LoopbackServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Stop listening (connections dropped); data and port are kept for {@link restart}. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  restart(): Promise<void>;
  /** Stop and remove the data directory. */
  close(): Promise<void>;
}

/** Starts `server` listening on 127.0.0.1:`port`; `dir` is the data directory `close()` removes. */
export async function listenOnLoopback(server: Server, port: number, dir: string): Promise<LoopbackServer> {
  let listening = false;
  const listen = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    listening = true;
  };
  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  };
  await listen();
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    stop,
    restart: listen,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
