/**
 * Lambda entry point as an Application Load Balancer target: the reference app plus an event
 * adapter. With multi-value headers on (the target group attribute
 * `lambda.multi_value_headers.enabled`, which the constructs set), several Set-Cookie headers
 * leave in `multiValueHeaders`; without it only single `headers` exist and just the last cookie
 * could be sent, so the adapter answers in whichever form the event came in.
 */
import { STATUS_CODES } from 'node:http';
import type { ALBEvent, ALBResult, Context } from 'aws-lambda';
import type { App } from '../app/app';
import type { AppRequest, AppResponse } from '../app/types';
import { decodeBody, defaultApp, logger, withApp } from './runtime';

/** The app's request out of an ALB event (multi-value or single-value headers). */
export function fromAlbEvent(event: ALBEvent, requestId?: string): AppRequest {
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  if (event.multiValueHeaders) {
    for (const [k, vs] of Object.entries(event.multiValueHeaders)) {
      if (!vs || vs.length === 0) continue;
      const name = k.toLowerCase();
      if (name === 'cookie') cookies = cookies.concat(vs);
      else headers[name] = headers[name] !== undefined ? `${headers[name]}, ${vs.join(', ')}` : vs.join(', ');
    }
  } else {
    for (const [k, v] of Object.entries(event.headers ?? {})) {
      if (v === undefined) continue;
      if (k.toLowerCase() === 'cookie') cookies.push(v);
      else headers[k.toLowerCase()] = v;
    }
  }
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  return {
    method: (event.httpMethod ?? 'GET').toUpperCase(),
    path: event.path ?? '/',
    headers,
    cookies: cookies.length > 0 ? cookies : undefined,
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: requestId ?? headers['x-amzn-trace-id'],
  };
}

/** The ALB result for an app response, in the header form the event used. */
export function toAlbResult(res: AppResponse, multiValue: boolean): ALBResult {
  const statusDescription = `${res.status} ${STATUS_CODES[res.status] ?? ''}`.trim();
  if (multiValue) {
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(res.headers)) multiValueHeaders[k] = [v];
    if (res.cookies.length > 0) multiValueHeaders['set-cookie'] = [...res.cookies];
    return { statusCode: res.status, statusDescription, multiValueHeaders, body: res.body, isBase64Encoded: false };
  }
  const headers: Record<string, string> = { ...res.headers };
  if (res.cookies.length > 0) headers['set-cookie'] = res.cookies[res.cookies.length - 1];
  return { statusCode: res.status, statusDescription, headers, body: res.body, isBase64Encoded: false };
}

/** A handler over any app (tests build one on a chosen store). */
export function createAlbHandler(getApp: () => Promise<App>) {
  return async (event: ALBEvent, context?: Context): Promise<ALBResult> => {
    if (context) logger.addContext(context);
    const req = fromAlbEvent(event, context?.awsRequestId);
    const res = await withApp(getApp, req.requestId ?? 'unknown', (app) => app(req));
    return toAlbResult(res, event.multiValueHeaders !== undefined);
  };
}

/** The entry point: store and secrets from the environment, built once per cold start. */
export const handler = createAlbHandler(defaultApp);
