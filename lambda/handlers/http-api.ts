/**
 * Lambda entry point behind an API Gateway HTTP API (payload format 2.0): the reference app
 * plus an event adapter. Cookies arrive in `event.cookies` and leave in the result's `cookies`.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { App } from '../app/app';
import type { AppRequest, AppResponse } from '../app/types';
import { decodeBody, defaultApp, logger, withApp } from './runtime';

/** The app's request out of an HTTP API v2 event. */
export function fromHttpApiEvent(event: APIGatewayProxyEventV2, requestId?: string): AppRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const stage = event.requestContext?.stage;
  let path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  // A named stage shows up as the first path segment; the routes do not include it.
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) path = path.slice(stage.length + 1) || '/';
  return {
    method: (event.requestContext?.http?.method ?? 'GET').toUpperCase(),
    path,
    headers,
    cookies: event.cookies ?? headers.cookie,
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: requestId ?? event.requestContext?.requestId,
  };
}

/** The HTTP API v2 result for an app response. */
export function toHttpApiResult(res: AppResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: res.status,
    headers: res.headers,
    cookies: res.cookies.length > 0 ? res.cookies : undefined,
    body: res.body,
    isBase64Encoded: false,
  };
}

/** A handler over any app (tests build one on a chosen store). */
export function createHttpApiHandler(getApp: () => Promise<App>) {
  return async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    if (context) logger.addContext(context);
    const req = fromHttpApiEvent(event, context?.awsRequestId);
    return toHttpApiResult(await withApp(getApp, req.requestId ?? 'unknown', (app) => app(req)));
  };
}

/** The entry point: store and secrets from the environment, built once per cold start. */
export const handler = createHttpApiHandler(defaultApp);
