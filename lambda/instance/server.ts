/**
 * The instance server: node:http + the reference app. What an ASG instance behind an ALB needs:
 * - a body cap enforced while reading (413 as soon as the limit is passed, nothing buffered past
 *   it; the rest is read and dropped up to a bound, so the client gets the 413 and not a reset),
 * - keep-alive longer than the ALB's idle timeout (so the ALB, not the instance, closes idle
 *   connections and never sends on a socket the instance just closed), bounded header size/time,
 * - graceful shutdown for the deregistration delay: stop accepting, let in-flight requests
 *   finish (their connections then close), drop idle keep-alive sockets, force-close after a bound.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MAX_BODY_BYTES, errorResponse } from '../app/app';
import type { App } from '../app/app';
import { BodyTooLargeError } from '../app/errors';
import { runtimeMetrics } from '../session/metrics';
import type { AppLogger, AppRequest, AppResponse } from '../app/types';

export interface InstanceServerOptions {
  /** The app, or a promise of it (requests wait until it is ready). */
  readonly app: App | Promise<App>;
  /** Largest request body read, bytes. @default 16384 */
  readonly maxBodyBytes?: number;
  /** Largest request head, bytes (node answers 431 past it). @default 16384 */
  readonly maxHeaderSize?: number;
  /** Idle keep-alive sockets close after this, ms; keep it above the ALB idle timeout (60 s). @default 65000 */
  readonly keepAliveTimeoutMs?: number;
  /** Whole request (head and body) must arrive within this, ms. @default 30000 */
  readonly requestTimeoutMs?: number;
  /**
   * After a 413, read and drop at most this much more of the body, so the client can finish
   * sending and read the answer, before the connection is cut. @default - 4 MiB, or 8 × maxBodyBytes if more
   */
  readonly maxDiscardBytes?: number;
  /** @default - nothing is logged */
  readonly logger?: AppLogger;
}

export interface InstanceServer {
  readonly server: Server;
  /** Listen on `port` (0 = any free one) and resolve with the port. */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Graceful stop: no new connections, in-flight requests finish, idle keep-alive sockets are
   * closed; after `graceMs` the remaining connections are cut. Resolves when the server is closed.
   */
  shutdown(graceMs?: number): Promise<void>;
  /** True once shutdown started. */
  readonly closing: boolean;
}

/**
 * How much of an over-limit body is read and dropped after the 413, bytes and ms, before the
 * connection is cut (see {@link rejectTooLarge}). Bytes: 4 MiB, or 8 bodies at the limit if more.
 */
const DISCARD_MIN_BYTES = 4 * 1024 * 1024;
const DISCARD_MS = 5000;

const silent: AppLogger = { info() {}, warn() {}, error() {} };

export function createInstanceServer(opts: InstanceServerOptions): InstanceServer {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxDiscardBytes = opts.maxDiscardBytes ?? Math.max(DISCARD_MIN_BYTES, 8 * maxBodyBytes);
  const log = opts.logger ?? silent;
  const appReady = Promise.resolve(opts.app);
  // Once the app is there, requests call it without waiting on the promise.
  let readyApp: App | undefined;
  appReady.then(
    (a) => (readyApp = a),
    () => undefined, // every request awaits appReady and answers the error itself
  );
  let closing = false;

  const server = createServer({ maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024 }, (req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = Math.min(server.keepAliveTimeout + 1000, opts.requestTimeoutMs ?? 30_000);
  server.requestTimeout = opts.requestTimeoutMs ?? 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = headerValue(req.headers['x-amzn-trace-id']) ?? randomUUID();
    try {
      // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): no
      // need to wait for its end; node drains the (empty) stream when the response finishes.
      const body = hasBody(req) ? await readBody(req, maxBodyBytes) : NO_BODY;
      if (body === TOO_LARGE) {
        runtimeMetrics.response(413); // answered here, before the app (whose router counts the rest)
        rejectTooLarge(req, res, errorResponse(new BodyTooLargeError(maxBodyBytes), requestId, log), maxDiscardBytes);
        return;
      }
      // Node joins repeated request headers itself, all but Set-Cookie (an array): only that needs a copy.
      const headers = req.headers['set-cookie'] === undefined ? (req.headers as Record<string, string>) : joined(req.headers);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const appReq: AppRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: q >= 0 ? url.slice(0, q) : url,
        headers,
        body: body.length > 0 ? body : undefined,
        requestId,
      };
      const app = readyApp ?? (await appReady);
      send(res, await app(appReq), closing);
    } catch (err) {
      // The app answers every error itself; this is a broken socket or a bug in the adapter.
      if (!res.headersSent && !res.destroyed) send(res, errorResponse(err, requestId, log), true);
      else log.warn('request aborted', { requestId, reason: err instanceof Error ? err.message : String(err) });
    }
  }

  return {
    server,
    get closing() {
      return closing;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async shutdown(graceMs = 25_000) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

const TOO_LARGE = Symbol('too large');
const NO_BODY = Buffer.alloc(0);

/** True when the request announces a body: Transfer-Encoding, or a Content-Length other than 0. */
function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/** The body, or TOO_LARGE as soon as Content-Length or the bytes read pass `max`. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | typeof TOO_LARGE> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        chunks.length = 0;
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => {
      cleanup();
      reject(new Error('client aborted the request'));
    };
    function cleanup() {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    }
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

/**
 * A 413 the client gets, instead of a connection reset. The answer is written at once (a client
 * that reads while it sends can stop), but the response is ended only after the rest of the body
 * has been read and dropped: a socket closed with unread bytes makes the kernel send RST, and a
 * client that had not read the 413 by then loses it. Past `maxDiscardBytes` (announced in
 * Content-Length, or read) or DISCARD_MS, the connection is cut: the 413 has been sent, and a
 * client that reads only after sending everything may see a reset instead.
 */
function rejectTooLarge(req: IncomingMessage, res: ServerResponse, r: AppResponse, maxDiscardBytes: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(r.status, [...headList(r, true), 'content-length', String(Buffer.byteLength(r.body))]);
  const declared = Number(req.headers['content-length']);
  if (req.complete || declared > maxDiscardBytes) {
    res.end(r.body); // nothing left to read, or too much to wait for: node closes after writing
    return;
  }
  res.write(r.body);
  let dropped = 0;
  const finish = (cut: boolean) => {
    clearTimeout(timer);
    req.off('data', onData);
    res.end();
    if (cut) req.socket.destroy();
  };
  const timer = setTimeout(() => finish(true), DISCARD_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > maxDiscardBytes) finish(true);
  };
  req.on('data', onData);
  req.once('end', () => finish(false));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** Status line and headers in one writeHead (a flat list: repeated set-cookie entries stay separate), then the body. */
function send(res: ServerResponse, r: AppResponse, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const head = headList(r, close);
  if (r.status === 204) {
    res.writeHead(204, head);
    res.end();
    return;
  }
  head.push('content-length', String(Buffer.byteLength(r.body)));
  res.writeHead(r.status, head);
  res.end(r.body);
}

/** The response's headers and cookies as writeHead's flat list (repeated set-cookie entries stay separate). */
function headList(r: AppResponse, close: boolean): string[] {
  const head: string[] = [];
  for (const k in r.headers) head.push(k, r.headers[k]);
  for (const c of r.cookies) head.push('set-cookie', c);
  if (close) head.push('connection', 'close');
  return head;
}

function joined(raw: IncomingMessage['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return headers;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
