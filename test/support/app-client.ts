/**
 * Drives the reference app the three ways it is deployed: through the API Gateway HTTP API v2
 * adapter, the ALB adapter (multi-value headers), and a real node:http instance server over
 * HTTP. Every transport answers in one shape, and a client keeps a cookie jar and sends the
 * headers a browser's same-origin fetch sends (Origin, Sec-Fetch-Site, a JSON content type).
 */
import { request as httpRequest, Agent } from 'node:http';
import type { APIGatewayProxyEventV2, ALBEvent } from 'aws-lambda';
import type { App } from '../../lambda/app/app';
import { createAlbHandler } from '../../lambda/handlers/alb';
import { createHttpApiHandler } from '../../lambda/handlers/http-api';

export type TransportKind = 'http-api' | 'alb' | 'http';

export interface Reply {
  readonly status: number;
  /** Lower-case names; Set-Cookie is in `setCookies`. */
  readonly headers: Record<string, string>;
  readonly setCookies: string[];
  readonly text: string;
  /** The body parsed as JSON, or undefined. */
  readonly json: any;
}

export interface Req {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Raw body; `json` sets it and the content type. */
  readonly body?: string | Buffer;
  readonly json?: unknown;
  /** Cookie header value(s) to send instead of the jar's. */
  readonly cookie?: string;
}

export type Send = ((req: { method: string; path: string; headers: Record<string, string>; body?: Buffer; cookies: string[] }) => Promise<Reply>) & {
  /** The origin a page served through this transport has: what a same-origin fetch sends in `Origin`. */
  readonly origin?: string;
};

/** Host and scheme of the requests the Lambda adapters get (API Gateway and the ALB set both headers). */
export const HTTP_API_HOST = 'api.example.com';
export const ALB_HOST = 'app.example.com';

function reply(status: number, headers: Record<string, string>, setCookies: string[], text: string): Reply {
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, setCookies, text, json };
}

let seq = 0;

/** Sends through the HTTP API v2 handler, as API Gateway would invoke it (bodies base64 when binary). */
export function httpApiSend(app: App): Send {
  const handler = createHttpApiHandler(async () => app);
  const send = async (r: Parameters<Send>[0]) => {
    const b64 = r.body !== undefined && r.body.length % 2 === 1; // alternate encodings to cover both paths
    const headers: Record<string, string> = { host: HTTP_API_HOST, 'x-forwarded-proto': 'https' };
    for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
    const [path, query = ''] = r.path.split(/\?(.*)/s); // API Gateway hands the query string over apart
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: query,
      cookies: r.cookies.length > 0 ? r.cookies.flatMap((c) => c.split(/;\s*/)) : undefined,
      headers,
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: HTTP_API_HOST,
        domainPrefix: 'api',
        http: { method: r.method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
        requestId: `req-${++seq}`,
        routeKey: '$default',
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
      },
      body: r.body === undefined ? undefined : b64 ? r.body.toString('base64') : r.body.toString('utf8'),
      isBase64Encoded: b64,
    };
    const res = await handler(event);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) h[k.toLowerCase()] = String(v);
    return reply(res.statusCode ?? 200, h, res.cookies ?? [], res.body ?? '');
  };
  return Object.assign(send, { origin: `https://${HTTP_API_HOST}` });
}

/** Sends through the ALB handler with multi-value headers on (the Cookie header may come as several values). */
export function albSend(app: App): Send {
  const handler = createAlbHandler(async () => app);
  const send = async (r: Parameters<Send>[0]) => {
    const multiValueHeaders: Record<string, string[]> = { host: [ALB_HOST], 'x-forwarded-proto': ['https'] };
    for (const [k, v] of Object.entries(r.headers)) multiValueHeaders[k.toLowerCase()] = [v];
    if (r.cookies.length > 0) multiValueHeaders.cookie = r.cookies;
    const b64 = r.body !== undefined && r.body.length % 2 === 0;
    const event: ALBEvent = {
      requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef' } },
      httpMethod: r.method,
      path: r.path.split('?')[0], // the ALB hands the query string over apart
      multiValueQueryStringParameters: Object.fromEntries([...new URLSearchParams(r.path.split(/\?(.*)/s)[1] ?? '')].map(([k, v]) => [k, [v]])),
      multiValueHeaders,
      body: r.body === undefined ? '' : b64 ? r.body.toString('base64') : r.body.toString('utf8'),
      isBase64Encoded: b64,
    };
    const res = await handler(event);
    const h: Record<string, string> = {};
    let setCookies: string[] = [];
    for (const [k, vs] of Object.entries(res.multiValueHeaders ?? {})) {
      if (k.toLowerCase() === 'set-cookie') setCookies = vs.map(String);
      else h[k.toLowerCase()] = vs.map(String).join(', ');
    }
    if (res.headers !== undefined) throw new Error('a multi-value ALB event must get a multi-value result');
    return reply(res.statusCode, h, setCookies, res.body ?? '');
  };
  return Object.assign(send, { origin: `https://${ALB_HOST}` });
}

/** Sends over real HTTP/1.1 to `port` on 127.0.0.1 (keep-alive agent). */
export function httpSend(port: number, agent = new Agent({ keepAlive: true, maxSockets: 8 })): Send {
  const send = (r: Parameters<Send>[0]) =>
    new Promise<Reply>((resolve, reject) => {
      const headers: Record<string, string> = { ...r.headers };
      if (r.cookies.length > 0) headers.cookie = r.cookies.join('; ');
      if (r.body !== undefined) headers['content-length'] = String(r.body.length);
      const req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (k !== 'set-cookie' && v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve(reply(res.statusCode ?? 0, h, res.headers['set-cookie'] ?? [], Buffer.concat(chunks).toString('utf8')));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(r.body);
    });
  return Object.assign(send, { origin: `http://127.0.0.1:${port}` });
}

/** Options of a {@link Client}. */
export interface ClientOptions {
  /**
   * Send Origin and Sec-Fetch-Site as a same-origin page's fetch does (headers given on a
   * request win). False: neither header, like curl or a server-side caller.
   * @default true
   */
  readonly browser?: boolean;
}

/**
 * A browser-like client: remembers cookies from Set-Cookie (Max-Age=0 removes), sends them back,
 * and sends what a same-origin `fetch()` does: `Sec-Fetch-Site: same-origin`, and on a write the
 * page's `Origin` and a JSON body (`{}` when the caller gives none, as for logout).
 */
export class Client {
  readonly jar = new Map<string, string>();
  constructor(
    readonly send: Send,
    private readonly opts: ClientOptions = {},
  ) {}

  /** The Cookie header this client would send. */
  get cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async req(r: Req): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.opts.browser !== false) {
      headers['sec-fetch-site'] = 'same-origin';
      if (r.method !== 'GET' && r.method !== 'HEAD' && this.send.origin !== undefined) headers.origin = this.send.origin;
    }
    Object.assign(headers, r.headers ?? {});
    let body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    if (r.json !== undefined) {
      body = Buffer.from(JSON.stringify(r.json));
      headers['content-type'] ??= 'application/json';
    }
    const cookies = r.cookie !== undefined ? [r.cookie] : this.jar.size > 0 ? [...this.jar].map(([k, v]) => `${k}=${v}`) : [];
    const res = await this.send({ method: r.method, path: r.path, headers, body, cookies });
    for (const sc of res.setCookies) {
      const [pair, ...attrs] = sc.split(/;\s*/);
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (attrs.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1));
    }
    return res;
  }

  get = (path: string, extra: Partial<Req> = {}) => this.req({ method: 'GET', path, ...extra });
  /** POST with `json` as the body; `{}` when neither `json` nor a raw `extra.body` is given. */
  post = (path: string, json?: unknown, extra: Partial<Req> = {}) => this.req({ method: 'POST', path, json: json ?? (extra.body === undefined ? {} : undefined), ...extra });
  put = (path: string, json?: unknown, extra: Partial<Req> = {}) => this.req({ method: 'PUT', path, json: json ?? (extra.body === undefined ? {} : undefined), ...extra });
}
