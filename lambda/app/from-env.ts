/**
 * The reference app built from the environment, for both computes: a session store and its
 * SessionManager, or (SESSION_STORE=jwt) the stateless token service — same routes either way —
 * and the authenticator SESSION_AUTH names.
 */
import { createAuthenticator } from '../session/auth/from-env';
import type { SessionEnv } from '../session/env';
import { createSessionRuntime, type RuntimeLogger } from '../session/from-env';
import { createApp, type App } from './app';
import type { AppLogger } from './types';

export interface RuntimeApp {
  readonly app: App;
  readonly servedBy: string;
  /** Closes the store's or the denylist's connections (graceful shutdown). */
  close(): Promise<void>;
}

export interface AppFromEnvOptions {
  readonly logger: RuntimeLogger & AppLogger;
  /** @default - SESSION_SERVED_BY, else the Lambda function name, else the host name */
  readonly servedBy?: string;
}

export async function createAppFromEnv(env: SessionEnv, opts: AppFromEnvOptions): Promise<RuntimeApp> {
  const { logger } = opts;
  const authenticator = createAuthenticator(env.auth, { logger });
  // Loaded on demand, and dropped from bundles made for another store (see SESSION_BUNDLE_STORE in from-env).
  if (env.store === 'jwt' && (process.env.SESSION_BUNDLE_STORE ?? 'jwt') === 'jwt') {
    const { createJwtRuntime } = require('../session/jwt/from-env') as typeof import('../session/jwt/from-env');
    const { createJwtApp } = require('./jwt-app') as typeof import('./jwt-app');
    const rt = await createJwtRuntime(env);
    const servedBy = opts.servedBy ?? rt.servedBy;
    return { app: createJwtApp({ sessions: rt.sessions, servedBy, logger, authenticator, allowedOrigins: env.allowedOrigins }), servedBy, close: () => closeBoth(rt, authenticator) };
  }
  const rt = await createSessionRuntime(env, { logger });
  const servedBy = opts.servedBy ?? rt.servedBy;
  return { app: createApp({ manager: rt.manager, servedBy, logger, authenticator, allowedOrigins: env.allowedOrigins }), servedBy, close: () => closeBoth(rt, authenticator) };
}

async function closeBoth(rt: { close(): Promise<void> }, authenticator: { close(): void }): Promise<void> {
  authenticator.close();
  await rt.close();
}
