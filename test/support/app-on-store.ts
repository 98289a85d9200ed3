/**
 * The reference app on one real store, built from SESSION_* variables as in production
 * (lambda/session/from-env.ts), behind a real instance server on a loopback port: what the route
 * and fuzz suites run against for every store.
 */
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { createApp, type App } from '../../lambda/app/app';
import type { AppLogger } from '../../lambda/app/types';
import { createInstanceServer, type InstanceServer } from '../../lambda/instance/server';
import { parseSessionEnv } from '../../lambda/session/env';
import { bundledStoreFactories } from '../../lambda/session/bundled-stores';
import { createSessionRuntime, type SessionRuntime } from '../../lambda/session/from-env';
import { routeEnv, startBackend, type Backend, type BackendKind } from './app-backends';

export interface AppOnStore {
  readonly backend: Backend;
  readonly runtime: SessionRuntime;
  readonly app: App;
  readonly instance: InstanceServer;
  /** The instance server's port on 127.0.0.1. */
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts `kind`'s server, the runtime on it (the runtime's default store timeout) and an instance server. */
export async function startAppOnStore(kind: BackendKind, opts: { readonly servedBy: string; readonly logger?: AppLogger }): Promise<AppOnStore> {
  const backend = await startBackend(kind);
  Object.assign(process.env, backend.env); // the AWS SDK clients read their endpoint and keys from here
  const runtime = await createSessionRuntime(parseSessionEnv(routeEnv(backend)), { stores: bundledStoreFactories(), logger: { warn: () => undefined } });
  const app = createApp({ manager: runtime.manager, authenticator: new OpenAuthenticator(), servedBy: opts.servedBy, logger: opts.logger });
  const instance = createInstanceServer({ app });
  const port = await instance.listen(0, '127.0.0.1');
  return {
    backend,
    runtime,
    app,
    instance,
    port,
    async stop() {
      await instance.shutdown(1000);
      await runtime.close();
      await backend.stop();
    },
  };
}
