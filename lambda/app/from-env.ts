/**
 * The reference app built from the environment, for both computes: a session store and its
 * SessionManager, or (SESSION_STORE=jwt) the stateless token service — same routes either way —
 * and the authenticator SESSION_AUTH names.
 */
import { createAuthenticator } from '../session/auth/from-env';
import { assertBundledFor, bundledStoreFactories } from '../session/bundled-stores';
import type { SessionEnv } from '../session/env';
import { createSessionRuntime, type RuntimeLogger } from '../session/from-env';
import { createApp, type App } from './app';
import type { AppLogger } from './types';

/** The reference app of one process and how to shut it down. */
export interface RuntimeApp {
  /** The request → response function. */
  readonly app: App;
  /** The name the app reports in `servedBy`. */
  readonly servedBy: string;
  /** Closes the store's or the denylist's connections (graceful shutdown). */
  close(): Promise<void>;
}

/** Options of {@link createAppFromEnv}. */
export interface AppFromEnvOptions {
  /** Gets the runtime's warnings and the app's request logs. */
  readonly logger: RuntimeLogger & AppLogger;
  /** @default - SESSION_SERVED_BY, else the Lambda function name, else the host name */
  readonly servedBy?: string;
}

/**
 * The reference app on the store SESSION_STORE names (every store is available, or only
 * SESSION_BUNDLE_STORE's in a one-store bundle), or on stateless JWT sessions.
 */
export async function createAppFromEnv(env: SessionEnv, opts: AppFromEnvOptions): Promise<RuntimeApp> {
  const { logger } = opts;
  assertBundledFor(env.store);
  const authenticator = createAuthenticator(env.auth, { logger });
  // Loaded on demand, and dropped from bundles made for another store (see SESSION_BUNDLE_STORE in ../session/bundled-stores).
  if (env.store === 'jwt' && (process.env.SESSION_BUNDLE_STORE ?? 'jwt') === 'jwt') {
    const { createJwtRuntime } = require('../session/jwt/from-env') as typeof import('../session/jwt/from-env');
    const { createJwtApp } = require('./jwt-app') as typeof import('./jwt-app');
    const rt = await createJwtRuntime(env);
    const servedBy = opts.servedBy ?? rt.servedBy;
    return { app: createJwtApp({ sessions: rt.sessions, servedBy, logger, authenticator, allowedOrigins: env.allowedOrigins }), servedBy, close: () => closeBoth(rt, authenticator) };
  }
  const rt = await createSessionRuntime(env, { logger, stores: bundledStoreFactories() });
  const servedBy = opts.servedBy ?? rt.servedBy;
  return { app: createApp({ manager: rt.manager, servedBy, logger, authenticator, allowedOrigins: env.allowedOrigins }), servedBy, close: () => closeBoth(rt, authenticator) };
}

async function closeBoth(rt: { close(): Promise<void> }, authenticator: { close(): void }): Promise<void> {
  authenticator.close();
  await rt.close();
}
