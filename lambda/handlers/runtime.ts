/**
 * What both Lambda entry points share: one Powertools Logger, and the app built once per cold
 * start from the environment (store, clients, secrets), reused by every warm invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { errorResponse } from '../app/app';
import type { App } from '../app/app';
import { createAppFromEnv, type RuntimeApp } from '../app/from-env';
import type { AppResponse } from '../app/types';
import { parseSessionEnv } from '../session/env';
import { startRuntimeMetrics } from '../session/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cdk-sessions' });

/** The runtime's metrics (SESSION_METRICS=on): written at the end of every invocation (no timer in Lambda). */
export const metrics = startRuntimeMetrics(process.env, { intervalSeconds: 0 });

/**
 * `build` run on the first call, its result reused by later calls; a failed build is forgotten,
 * so the next call (the next invocation after a failed cold start) tries again.
 */
export function buildOnce<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= build().catch((err: unknown) => {
      pending = undefined;
      throw err;
    }));
}

const runtimeApp = buildOnce<RuntimeApp>(async () => createAppFromEnv(parseSessionEnv(process.env), { logger }));

/** The app of this execution environment; built on the first call, then reused. A failed build is retried on the next call. */
export async function defaultApp(): Promise<App> {
  return (await runtimeApp()).app;
}

/** Runs `fn` with the app; a failed cold start becomes a JSON 500 (logged), never a crash. */
export async function withApp(getApp: () => Promise<App>, requestId: string, fn: (app: App) => Promise<AppResponse>): Promise<AppResponse> {
  let a: App;
  try {
    a = await getApp();
  } catch (err) {
    return errorResponse(err, requestId, logger);
  }
  try {
    return await fn(a);
  } finally {
    metrics.flush();
  }
}

/** Request body as the app wants it: base64 bodies decoded to bytes. */
export function decodeBody(body: string | null | undefined, isBase64Encoded: boolean | undefined): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  return isBase64Encoded ? Buffer.from(body, 'base64') : body;
}
