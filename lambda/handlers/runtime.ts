/**
 * What both Lambda entry points share: one Powertools Logger, and the app built once per cold
 * start from the environment (store, clients, secrets), reused by every warm invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createApp, errorResponse } from '../app/app';
import type { App } from '../app/app';
import type { AppResponse } from '../app/types';
import { lazySessionRuntime } from '../session/from-env';
import { createJwtApp } from '../app/jwt-app';
import { lazyJwtRuntime } from '../session/jwt/from-env';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cdk-sessions' });

const runtime = lazySessionRuntime(process.env, { logger });
// SESSION_STORE=jwt: tokens instead of a session store (lambda/session/jwt), same routes.
const jwtRuntime = lazyJwtRuntime(process.env);
let app: App | undefined;

/** The app of this execution environment; built on the first call, then reused. */
export async function defaultApp(): Promise<App> {
  if (app === undefined && process.env.SESSION_STORE?.trim() === 'jwt') {
    const rt = await jwtRuntime();
    app ??= createJwtApp({ sessions: rt.sessions, servedBy: rt.servedBy, logger });
  }
  if (app === undefined) {
    const rt = await runtime();
    app ??= createApp({ manager: rt.manager, servedBy: rt.servedBy, logger });
  }
  return app;
}

/** Runs `fn` with the app; a failed cold start becomes a JSON 500 (logged), never a crash. */
export async function withApp(getApp: () => Promise<App>, requestId: string, fn: (app: App) => Promise<AppResponse>): Promise<AppResponse> {
  let a: App;
  try {
    a = await getApp();
  } catch (err) {
    return errorResponse(err, requestId, logger);
  }
  return fn(a);
}

/** Request body as the app wants it: base64 bodies decoded to bytes. */
export function decodeBody(body: string | null | undefined, isBase64Encoded: boolean | undefined): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  return isBase64Encoded ? Buffer.from(body, 'base64') : body;
}
