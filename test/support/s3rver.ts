/**
 * s3rver (an S3 stand-in) in-process on a free port, files in a temp directory, buckets created.
 *
 * Two gaps to real S3, and what this harness does about them:
 * - s3rver IGNORES conditional writes (If-Match / If-None-Match on PutObject). Nothing here
 *   changes that: tests can check the headers a client sends, never that the server enforced them.
 * - s3rver's PUT is neither atomic nor read-after-write consistent: it truncates the object file
 *   in place and answers before the bytes are on disk, so a GET racing or just following a PUT
 *   of the same key can read an empty or truncated object. Real S3 never shows a partial object
 *   (writes are atomic, reads after a write are strongly consistent). The harness restores those
 *   two properties and nothing else: it hands s3rver one request at a time (its Koa app behind
 *   our own http server), and its PUT answers only once the object file holds every byte.
 *   No result s3rver computes is changed.
 */
import { mkdtempSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { listenOnLoopback, type LoopbackServer } from './loopback-server';
import { freePort } from './ports';

// s3rver ships no type declarations; this is the part of its API the harness uses
// (it is a Koa application: `callback()` is Koa's request listener).
interface S3rverApp {
  configureBuckets(): Promise<void>;
  callback(): RequestListener;
}
const S3rver: new (opts: {
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverApp = require('s3rver');

interface FilesystemStoreProto {
  putObject(object: { bucket: string; key: string }): Promise<{ size: number; md5: string }>;
  getResourcePath(bucket: string, key: string, resource: string): string;
}
const filesystemStore: { prototype: FilesystemStoreProto } = require('s3rver/lib/stores/filesystem');

/** Makes s3rver's putObject resolve once the object file is fully written (see above). Idempotent. */
function putObjectAfterTheBytesLand(): void {
  const proto = filesystemStore.prototype as FilesystemStoreProto & { durablePut?: true };
  if (proto.durablePut) return;
  const original = proto.putObject;
  proto.putObject = async function (this: FilesystemStoreProto, object) {
    const written = await original.call(this, object);
    const file = this.getResourcePath(object.bucket, object.key, 'object');
    while ((await stat(file)).size < written.size) await new Promise((r) => setImmediate(r));
    return written;
  };
  proto.durablePut = true;
}

/** s3rver's fixed credentials (it checks the access key). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** The server's port and endpoint; `stop()` keeps buckets and objects for `restart()`. */
export interface LocalS3 extends LoopbackServer {
  /** A new S3 client for this server (path style); the caller destroys it. */
  client(): S3Client;
}

/** A request listener that lets `handle` serve one request at a time, in arrival order. */
function oneAtATime(handle: RequestListener): RequestListener {
  let previous: Promise<void> = Promise.resolve();
  return (req: IncomingMessage, res: ServerResponse) => {
    // 'close' comes after the response is sent or when the client went away, even while queued.
    const closed = new Promise<void>((done) => res.once('close', done));
    previous = previous.then(() => {
      if (!res.destroyed) handle(req, res);
      return closed;
    });
  };
}

export async function startS3rver(buckets: readonly string[]): Promise<LocalS3> {
  putObjectAfterTheBytesLand();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  const app = new S3rver({ silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
  await app.configureBuckets();
  const server = await listenOnLoopback(createServer(oneAtATime(app.callback())), port, dir);
  return {
    ...server,
    client: () => new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS }),
  };
}
