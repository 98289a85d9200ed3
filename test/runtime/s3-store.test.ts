/**
 * S3Store against s3rver (S3 stand-in). s3rver IGNORES conditional writes (If-None-Match /
 * If-Match on PutObject): these tests show the store SENDS the right conditions (real S3
 * enforces them: 412 / 409 → the write is refused), and everything that does not depend on the
 * server enforcing them; they never pretend the emulator enforced a condition.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StoreUnavailableError } from '../../lambda/session/errors';
import { S3Store, type S3StoreOptions } from '../../lambda/session/stores/s3';
import type { StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';
import { describeStoreConformance, nextWrite } from '../support/conformance';
import { describeEndpointStoreDown } from '../support/outage';
import { S3RVER_CREDENTIALS, startS3rver, type LocalS3 } from '../support/s3rver';

// The stores build their own SDK clients (as in Lambda), with s3rver's fixed credentials.
process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;

const BUCKET = 'sessions-bucket';
const SECRET = 's3-store-test-secret-0123456789abcdef';
const LOAD = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 };

/** One outgoing request as the SDK sends it (after serialization, before signing). */
interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

let s3: LocalS3;
let raw: S3Client;
const opened: S3Store[] = [];
const clients: S3Client[] = [];

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  raw = s3.client();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  for (const c of clients) c.destroy();
  raw?.destroy();
  await s3?.close();
});

function makeStore(extra: Partial<S3StoreOptions> = {}): S3Store {
  const s = new S3Store({ bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, timeoutMs: 2000, ...extra });
  opened.push(s);
  return s;
}

/** A store whose client records every request it sends. */
function recordingStore(): { store: S3Store; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const client = s3.client();
  clients.push(client);
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as SentRequest;
      sent.push({ method: req.method, path: req.path, headers: { ...req.headers } });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordSentRequests' },
  );
  return { store: makeStore({ client }), sent };
}

function session(id: string, data: Record<string, unknown>, version = 1, now = Date.now()): StoredSession {
  return { id, data, version, token: newWriteToken(), createdAt: now, expiresAt: now + 60_000 };
}

async function rawObject(id: string): Promise<{ body: unknown; etag?: string }> {
  const out = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: `sessions/${id}` }));
  return { body: JSON.parse((await out.Body?.transformToString()) ?? 'null'), etag: out.ETag };
}

const puts = (sent: readonly SentRequest[]) => sent.filter((r) => r.method === 'PUT');

describe('S3Store on s3rver', () => {
  describeStoreConformance('s3 (s3rver ignores conditional writes: compare-and-set not enforced by the stand-in)', () => ({
    makeStore: async () => makeStore(),
    enforcesCompareAndSet: false,
  }));

  it('create sends If-None-Match: * (s3rver ignores it; real S3 refuses an existing key with 412)', async () => {
    const { store, sent } = recordingStore();
    expect(await store.create(session('create-header-0000000000000', { a: 1 }))).toBe(true);
    expect(puts(sent)).toHaveLength(1);
    expect(puts(sent)[0].path).toBe(`/${BUCKET}/sessions/create-header-0000000000000`);
    expect(puts(sent)[0].headers['if-none-match']).toBe('*');
    expect(puts(sent)[0].headers['if-match']).toBeUndefined();
  });

  it('compareAndSet sends If-Match with the ETag of the version it read, and the next one with the ETag its own write returned (s3rver ignores it)', async () => {
    const { store, sent } = recordingStore();
    const s = session('cas-header-00000000000000000', { n: 1 });
    await store.create(s);
    const created = await rawObject(s.id);
    const loaded = await store.load(s.id, { now: Date.now(), ...LOAD });
    expect(loaded?.version).toBe(1);
    sent.length = 0;

    const v2 = nextWrite(s, { data: { n: 2 } });
    expect(await store.compareAndSet(v2, s)).toBe(true);
    expect(puts(sent)).toHaveLength(1); // the ETag came from the cache: no HeadObject first
    expect(sent).toHaveLength(1);
    expect(puts(sent)[0].headers['if-match']).toBe(created.etag);
    expect(puts(sent)[0].headers['if-none-match']).toBeUndefined();
    const afterV2 = await rawObject(s.id);
    expect(afterV2.body).toMatchObject({ version: 2, token: v2.token, data: { n: 2 } });
    expect(afterV2.etag).not.toBe(created.etag);

    sent.length = 0;
    expect(await store.compareAndSet(nextWrite(v2, { data: { n: 3 } }), v2)).toBe(true);
    expect(puts(sent)[0].headers['if-match']).toBe(afterV2.etag);
  });

  it('compareAndSet from a store that never saw the session fetches the ETag with HeadObject and sends it in If-Match', async () => {
    const writer = makeStore();
    const s = session('cas-head-000000000000000000', { n: 1 });
    await writer.create(s);
    const { etag } = await rawObject(s.id);
    const { store, sent } = recordingStore();
    expect(await store.compareAndSet(nextWrite(s, { data: { n: 2 } }), s)).toBe(true);
    expect(sent.map((r) => r.method)).toEqual(['HEAD', 'PUT']);
    expect(sent[1].headers['if-match']).toBe(etag);
  });

  it('compareAndSet refuses without writing when the stored version is not the expected one (the version check s3rver can show, via object metadata)', async () => {
    const writer = makeStore();
    const s = session('cas-stale-00000000000000000', { n: 1 });
    await writer.create(s);
    await writer.compareAndSet(nextWrite(s, { data: { n: 2 } }), s);
    const { store, sent } = recordingStore(); // has no cached ETag, so it must look
    expect(await store.compareAndSet(nextWrite(s, { data: { n: 'stale' } }), s)).toBe(false);
    expect(puts(sent)).toHaveLength(0);
    expect((await rawObject(s.id)).body).toMatchObject({ version: 2, data: { n: 2 } });
    expect(await store.compareAndSet(nextWrite(s, { id: 'cas-missing-0000000000000000' }), s)).toBe(false);
  });

  // Issue 14 item 4 on S3. The ETag is the MD5 of the body: without the write token, two writes
  // of the same version and data would share one, and If-Match could not tell them apart.
  it('failover story: a lost version 2 and another writer\'s version 2 with the same data get different ETags, and a copy of the lost one is refused (HEAD metadata names the write)', async () => {
    const writer = makeStore();
    const s = session('cas-failover-00000000000000', { n: 1 });
    await writer.create(s);
    const lost = nextWrite(s, { data: { n: 2 } });
    expect(await writer.compareAndSet(lost, s)).toBe(true);
    const lostEtag = (await rawObject(s.id)).etag;
    await writer.delete(s.id); // the failover: the bucket holds v1 again …
    await writer.create(s);
    const other = nextWrite(s, { data: { n: 2 } }); // … and another writer's v2, the same data
    expect(await makeStore().compareAndSet(other, s)).toBe(true);
    const otherEtag = (await rawObject(s.id)).etag;
    expect(otherEtag).not.toBe(lostEtag);

    const { store, sent } = recordingStore(); // never saw the session: asks HeadObject which write is stored
    expect(await store.compareAndSet(nextWrite(lost, { data: { n: 3 } }), lost)).toBe(false);
    expect(sent.map((r) => r.method)).toEqual(['HEAD']);
    expect((await rawObject(s.id)).body).toMatchObject({ version: 2, token: other.token, data: { n: 2 } });
  });

  it('an object already past expiresAt is not returned nor revived (lifecycle rules only delete in whole days)', async () => {
    const past = Date.now() - 5_000;
    const body = { version: 1, createdAt: past - 60_000, expiresAt: past, data: { user: 'gone' } };
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sessions/expired-object-00000000000', Body: JSON.stringify(body) }));
    const { store, sent } = recordingStore();
    expect(await store.load('expired-object-00000000000', { now: Date.now(), ...LOAD })).toBeUndefined();
    expect(puts(sent)).toHaveLength(0);
    expect((await rawObject('expired-object-00000000000')).body).toEqual(body);
  });

  it.each([
    ['a truncated object (s3rver stopped mid-PUT; real S3 PUTs are atomic)', '{"version":1,"createdAt'],
    ['an empty object', ''],
    ['JSON that is not a session', '{"hello":"world"}'],
    ['session data that is an array', JSON.stringify({ version: 1, createdAt: 1, expiresAt: Date.now() + 60_000, data: [] })],
  ])('%s is a store error (StoreUnavailableError: 503), not a crash nor "no session", and stays as it was', async (_what, text) => {
    const key = 'sessions/unreadable-object-000000000';
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text }));
    await expect(makeStore().load('unreadable-object-000000000', { now: Date.now(), ...LOAD })).rejects.toBeInstanceOf(StoreUnavailableError);
    const out = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await out.Body!.transformToString()).toBe(text);
  });

  it('load is one GET while more than half the idle time is left, and slides with one conditional PUT (same version) when less is left', async () => {
    const { store, sent } = recordingStore();
    const now = Date.now();
    const fresh = { id: 'slide-fresh-000000000000000', data: { a: 1 }, version: 4, token: newWriteToken(), createdAt: now, expiresAt: now + 40_000 };
    const old = { id: 'slide-old-00000000000000000', data: { a: 1 }, version: 4, token: newWriteToken(), createdAt: now, expiresAt: now + 20_000 };
    await store.create(fresh);
    await store.create(old);
    sent.length = 0;

    expect(await store.load(fresh.id, { now, ...LOAD })).toMatchObject({ version: 4, expiresAt: fresh.expiresAt });
    expect(sent.map((r) => r.method)).toEqual(['GET']);

    sent.length = 0;
    const { etag } = await rawObject(old.id);
    const slid = await store.load(old.id, { now, ...LOAD });
    expect(slid).toMatchObject({ version: 4, expiresAt: now + 60_000, data: { a: 1 } });
    expect(sent.map((r) => r.method)).toEqual(['GET', 'PUT']);
    expect(sent[1].headers['if-match']).toBe(etag);
    expect((await rawObject(old.id)).body).toEqual({ version: 4, token: old.token, createdAt: now, expiresAt: now + 60_000, data: { a: 1 } });
  });

  it('the slide never extends past the absolute deadline', async () => {
    const store = makeStore();
    const now = Date.now();
    await store.create({ id: 'slide-capped-00000000000000', data: {}, version: 1, token: newWriteToken(), createdAt: now - 590_000, expiresAt: now + 5_000 });
    expect((await store.load('slide-capped-00000000000000', { now, ...LOAD }))?.expiresAt).toBe(now + 10_000);
  });

  describeEndpointStoreDown({
    errorPrefix: 's3',
    serverName: 's3rver',
    server: () => s3,
    makeStore,
    secret: SECRET,
  });
});
