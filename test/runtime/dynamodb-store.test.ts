/**
 * DynamoDbStore against dynalite (DynamoDB stand-in) and, for overflow, s3rver (S3 stand-in).
 * dynalite has no TTL API: expired items are written directly with PutItem to show that the
 * store filters them. s3rver ignores conditional writes, which the overflow path does not use
 * (the conditional PutItem on the item decides every race).
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SessionTooLargeError, StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { DYNAMODB_ITEM_LIMIT_BYTES, dynamoDbItemSize } from '../../lambda/session/stores/aws-dynamodb-item-size';
import { DynamoDbStore, type DynamoDbStoreOptions } from '../../lambda/session/stores/dynamodb';
import type { StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';
import { newDynamoDbUnits, meterDynamoDb } from '../../bench/cost-meters';
import { describeSlidingReadConformance, describeStoreConformance, nextWrite } from '../support/conformance';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION, startDynalite, type Dynalite } from '../support/dynalite';
import { describeEndpointStoreDown } from '../support/outage';
import { startS3rver, type LocalS3 } from '../support/s3rver';

// The stores build their own SDK clients (as in Lambda); dynalite accepts any credentials.
process.env.AWS_ACCESS_KEY_ID = LOCAL_AWS_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = LOCAL_AWS_CREDENTIALS.secretAccessKey;

const BUCKET = 'overflow';
const LOAD = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 };
const SECRET = 'dynamodb-store-test-secret-0123456789';

let dyn: Dynalite;
let s3: LocalS3;
let s3Client: S3Client;
let raw: DynamoDBClient;
const opened: DynamoDbStore[] = [];

beforeAll(async () => {
  [dyn, s3] = await Promise.all([startDynalite(), startS3rver([BUCKET])]);
  s3Client = s3.client();
  raw = dyn.client();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  raw?.destroy();
  s3Client?.destroy();
  await Promise.all([dyn?.close(), s3?.close()]);
});

function makeStore(extra: Partial<DynamoDbStoreOptions> = {}): DynamoDbStore {
  const s = new DynamoDbStore({ table: dyn.table, region: LOCAL_AWS_REGION, endpoint: dyn.endpoint, timeoutMs: 2000, ...extra });
  opened.push(s);
  return s;
}

function session(id: string, data: Record<string, unknown>, version = 1, now = Date.now()): StoredSession {
  return { id, data, version, token: newWriteToken(), createdAt: now, expiresAt: now + 60_000 };
}

async function rawItem(id: string) {
  return (await raw.send(new GetItemCommand({ TableName: dyn.table, Key: { id: { S: id } }, ConsistentRead: true }))).Item;
}

async function overflowKeys(id: string): Promise<string[]> {
  const out = await s3Client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `session-overflow/${id}/` }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

describe('DynamoDbStore on dynalite', () => {
  describeStoreConformance('dynamodb (dynalite)', () => ({ makeStore: async () => makeStore() }));

  describeSlidingReadConformance('dynamodb (dynalite)', () => ({ makeStore: async () => makeStore() }));

  describeStoreConformance('dynamodb with every session overflowed to S3 (dynalite + s3rver)', () => ({
    makeStore: async () => makeStore({ overflow: { bucket: BUCKET, client: s3Client, thresholdBytes: 0 } }),
  }));

  it('an item already past expiresAt/ttl is not returned nor revived (dynalite has no TTL API, so the expired item is written directly with PutItem)', async () => {
    const past = Date.now() - 5_000;
    const item = {
      id: { S: 'expired-item-000000000000000' },
      version: { N: '3' },
      createdAt: { N: String(past - 60_000) },
      expiresAt: { N: String(past) },
      ttl: { N: String(Math.ceil(past / 1000)) },
      data: { S: '{"user":"gone"}' },
    };
    await raw.send(new PutItemCommand({ TableName: dyn.table, Item: item }));
    const store = makeStore();
    expect(await store.load('expired-item-000000000000000', { now: Date.now(), ...LOAD })).toBeUndefined();
    // Still in the table (only TTL would delete it), and the read did not slide it back to life.
    expect(await rawItem('expired-item-000000000000000')).toEqual(item);
  });

  it('a session past its absolute deadline is not returned even though its idle expiry is in the future', async () => {
    const store = makeStore();
    const now = Date.now();
    await store.create({ id: 'absolute-item-00000000000000', data: {}, version: 1, token: newWriteToken(), createdAt: now - 700_000, expiresAt: now + 30_000 });
    expect(await store.load('absolute-item-00000000000000', { now, ...LOAD })).toBeUndefined();
  });

  it('load reads with one GetItem and writes nothing while half the idle timeout is left; past that it slides expiresAt and ttl (epoch seconds) once, capped at the absolute deadline', async () => {
    const store = makeStore();
    const created = Date.now() - 10_000;
    const id = 'slide-item-0000000000000000';
    await store.create({ id, data: { a: 1 }, version: 1, token: newWriteToken(), createdAt: created, expiresAt: created + 60_000 });
    const before = await rawItem(id);
    expect(await store.load(id, { now: created + 30_000, idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 })).toMatchObject({ expiresAt: created + 60_000 });
    expect(await rawItem(id)).toEqual(before); // half left: not written
    const now = created + 30_001;
    const s = await store.load(id, { now, idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 70 });
    expect(s).toMatchObject({ version: 1, data: { a: 1 }, expiresAt: created + 70_000 });
    const item = await rawItem(id);
    expect(item?.expiresAt).toEqual({ N: String(created + 70_000) });
    expect(item?.ttl).toEqual({ N: String(Math.ceil((created + 70_000) / 1000)) });
    expect(item?.version).toEqual(before?.version);
    expect(item?.writeToken).toEqual(before?.writeToken);
  });

  it('reads are billed as reads: >= 90% of the reads of a 1 KB session consume <= 1 read unit and 0 write units (ReturnConsumedCapacity, which dynalite reports)', async () => {
    const client = dyn.client();
    const units = newDynamoDbUnits();
    meterDynamoDb(client, units);
    const store = new DynamoDbStore({ table: dyn.table, client });
    opened.push(store);
    let clock = Date.now();
    const idle = 1800;
    const m = new SessionManager({ store, secrets: [SECRET], idleTimeoutSeconds: idle, absoluteTimeoutSeconds: 43_200, now: () => clock });
    const s = await m.create({ user: 'ada', blob: 'x'.repeat(1000) });
    expect(dynamoDbItemSize({ data: { S: JSON.stringify(s.data) } })).toBeGreaterThan(1000);
    const reads = 200;
    const perRead: Array<[number, number]> = []; // [read units, write units] of each load
    for (let i = 0; i < reads; i++) {
      clock += (idle * 1000) / 60; // a request every 30 s of a 30 min idle timeout, for 100 min
      units.log.length = 0;
      expect(await m.loadById(s.id)).toBeDefined();
      perRead.push([units.log.reduce((n, [, r]) => n + r, 0), units.log.reduce((n, [, , w]) => n + w, 0)]);
    }
    const cheap = perRead.filter(([r, w]) => r <= 1 && w === 0).length;
    expect(perRead.every(([r]) => r > 0)).toBe(true); // dynalite did report the capacity
    expect(cheap / reads).toBeGreaterThanOrEqual(0.9);
    expect(perRead.filter(([, w]) => w > 0).length).toBeGreaterThan(0); // and the idle expiry was slid on the way
  });

  it('ReturnValuesOnConditionCheckFailure: dynalite ignores it (a conflict comes back without the item), the store finds out on the first conflict, and from then on modify reads first: 2 round trips, no lost write', async () => {
    const client = dyn.client();
    const units = newDynamoDbUnits();
    meterDynamoDb(client, units);
    const store = new DynamoDbStore({ table: dyn.table, client });
    opened.push(store);
    const a = new SessionManager({ store, secrets: [SECRET] });
    const b = new SessionManager({ store: makeStore(), secrets: [SECRET] });
    const s = await a.create({ cart: [] });
    const cookie = a.setCookie(s).split(';')[0];
    const push = (line: string) => (d: Record<string, unknown>) => {
      (d.cart as string[]).push(line);
    };
    expect(store.returnsItemOnConditionFailure).toBeUndefined();
    const requests = () => Object.values(units.requests).reduce((n, x) => n + x, 0);
    let sent = requests();
    await a.modify(cookie, push('a1')); // a wrote it last: one conditional PutItem
    expect(requests() - sent).toBe(1);
    await b.modify(cookie, push('b1'));
    sent = requests();
    await a.modify(cookie, push('a2')); // conflict: PutItem (no item back on dynalite) + GetItem + PutItem, once
    expect(requests() - sent).toBe(3);
    expect(store.returnsItemOnConditionFailure).toBe(false);
    await b.modify(cookie, push('b2'));
    sent = requests();
    await a.modify(cookie, push('a3')); // the store knows now: GetItem + PutItem
    expect(requests() - sent).toBe(2);
    sent = requests();
    await a.modify(cookie, push('a4')); // a wrote it last: still GetItem + PutItem on this endpoint
    expect(requests() - sent).toBe(2);
    expect((await b.loadById(s.id))?.data.cart).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'a4']);
  });

  it('an item stored before write tokens (no writeToken) reads with the empty token and is written from it once', async () => {
    const store = makeStore();
    const now = Date.now();
    const id = 'before-tokens-0000000000000';
    await raw.send(new PutItemCommand({ TableName: dyn.table, Item: { id: { S: id }, version: { N: '3' }, createdAt: { N: String(now) }, expiresAt: { N: String(now + 60_000) }, ttl: { N: String(Math.ceil((now + 60_000) / 1000)) }, data: { S: '{"n":3}' } } }));
    const old = await store.load(id, { now, ...LOAD });
    expect(old).toMatchObject({ version: 3, token: '', data: { n: 3 } });
    const v4 = nextWrite(old!, { data: { n: 4 } });
    expect(await store.compareAndSet(v4, old!)).toBe(true);
    expect(await store.compareAndSet(nextWrite(old!, { data: { n: 'again' } }), old!)).toBe(false);
    expect((await rawItem(id))?.writeToken).toEqual({ S: v4.token });
  });

  it.each([
    ['not JSON', '{"n":'],
    ['not an object', '[1,2]'],
  ])('an item whose data is %s is a store error (StoreUnavailableError: 503), not a crash nor "no session"', async (_what, data) => {
    const now = Date.now();
    const id = 'unreadable-item-00000000000';
    await raw.send(new PutItemCommand({ TableName: dyn.table, Item: { id: { S: id }, version: { N: '1' }, createdAt: { N: String(now) }, expiresAt: { N: String(now + 60_000) }, ttl: { N: String(Math.ceil((now + 60_000) / 1000)) }, data: { S: data } } }));
    await expect(makeStore().load(id, { now, ...LOAD })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await rawItem(id))?.data).toEqual({ S: data });
  });

  it('writes the ttl attribute under a custom name when ttlAttribute is set', async () => {
    const store = makeStore({ ttlAttribute: 'expires_ttl' });
    const s = session('custom-ttl-00000000000000000', { a: 1 });
    await store.create(s);
    const item = await rawItem(s.id);
    expect(item?.expires_ttl).toEqual({ N: String(Math.ceil(s.expiresAt / 1000)) });
    expect(item?.ttl).toBeUndefined();
  });

  it('computes item size by the 400 KB rule dynalite enforces: a computed 409600-byte item is accepted, 409601 refused', async () => {
    const base = { id: { S: 'size-probe-0000000000000000' }, version: { N: '12' }, createdAt: { N: String(Date.now()) }, data: { S: '' } };
    const fill = DYNAMODB_ITEM_LIMIT_BYTES - dynamoDbItemSize(base);
    const exact = { ...base, data: { S: 'x'.repeat(fill) } };
    const over = { ...base, data: { S: 'x'.repeat(fill + 1) } };
    expect(dynamoDbItemSize(exact)).toBe(DYNAMODB_ITEM_LIMIT_BYTES);
    await raw.send(new PutItemCommand({ TableName: dyn.table, Item: exact }));
    await expect(raw.send(new PutItemCommand({ TableName: dyn.table, Item: over }))).rejects.toThrow(/Item size has exceeded/);
    await raw.send(new DeleteItemCommand({ TableName: dyn.table, Key: { id: base.id } }));
  });

  it('without overflow a 450 KB session is refused with SessionTooLargeError before any write, and the previous item stays intact', async () => {
    const store = makeStore();
    const s = session('too-large-000000000000000000', { user: 'ada' });
    expect(await store.create(s)).toBe(true);
    const before = await rawItem(s.id);
    const big = { user: 'ada', blob: 'x'.repeat(450 * 1024) };
    await expect(store.compareAndSet(nextWrite(s, { data: big }), s)).rejects.toBeInstanceOf(SessionTooLargeError);
    await expect(store.create(session('too-large-new-0000000000000', big))).rejects.toBeInstanceOf(SessionTooLargeError);
    expect(await rawItem(s.id)).toEqual(before);
    expect(await rawItem('too-large-new-0000000000000')).toBeUndefined();
  });

  it('with overflow a 450 KB session round-trips through S3, the item holds only a pointer, and replaced or deleted objects are removed', async () => {
    const store = makeStore({ overflow: { bucket: BUCKET, client: s3Client } });
    const m = new SessionManager({ store, secrets: [SECRET], maxSessionBytes: store.maxSessionBytes });
    const big = { user: 'ada', blob: 'x'.repeat(450 * 1024) };
    const s = await m.create(big);
    const item = await rawItem(s.id);
    expect(item?.data).toBeUndefined();
    expect(item?.dataRef?.S).toMatch(new RegExp(`^session-overflow/${s.id}/v1-[A-Za-z0-9_-]+\\.json$`));
    expect(await overflowKeys(s.id)).toEqual([item?.dataRef?.S]);
    expect((await m.loadById(s.id))?.data).toEqual(big);

    const v2 = await m.update(s, (d) => ({ ...d, user: 'grace' }));
    const keys = await overflowKeys(s.id);
    expect(keys).toHaveLength(1); // the v1 object was deleted after the winning write
    expect(keys[0]).toMatch(/\/v2-/);
    expect((await m.loadById(s.id))?.data).toEqual({ ...big, user: 'grace' });

    // Small again: the data goes back inline and the last object is removed.
    const v3 = await m.update(v2, () => ({ user: 'small' }));
    expect((await rawItem(s.id))?.data).toEqual({ S: '{"user":"small"}' });
    expect(await overflowKeys(s.id)).toEqual([]);

    const v4 = await m.update(v3, () => big);
    expect(await overflowKeys(s.id)).toHaveLength(1);
    await m.destroy(v4);
    expect(await rawItem(s.id)).toBeUndefined();
    expect(await overflowKeys(s.id)).toEqual([]);
  });

  it('with overflow a writer that loses the compare-and-set leaves no S3 object behind and the winner stays readable', async () => {
    const store = makeStore({ overflow: { bucket: BUCKET, client: s3Client, thresholdBytes: 0 } });
    const s = session('overflow-loser-0000000000000', { n: 1 });
    await store.create(s);
    expect(await store.compareAndSet(nextWrite(s, { data: { n: 2 } }), s)).toBe(true);
    expect(await store.compareAndSet(nextWrite(s, { data: { n: 'stale' } }), s)).toBe(false);
    expect(await overflowKeys(s.id)).toHaveLength(1);
    expect((await store.load(s.id, { now: Date.now(), ...LOAD }))?.data).toEqual({ n: 2 });
  });

  it('an item pointing to S3 without an overflow bucket configured is a configuration error, not a missing session', async () => {
    const writer = makeStore({ overflow: { bucket: BUCKET, client: s3Client, thresholdBytes: 0 } });
    const s = session('pointer-no-overflow-00000000', { n: 1 });
    await writer.create(s);
    await expect(makeStore().load(s.id, { now: Date.now(), ...LOAD })).rejects.toThrow(/no overflow bucket configured/);
  });

  it('a missing table or an invalid request is rethrown as the bug it is, not reported as StoreUnavailableError', async () => {
    const missing = makeStore({ table: 'no-such-table' });
    await expect(missing.ping()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.create(session('missing-table-00000000000000', {}))).rejects.not.toBeInstanceOf(StoreUnavailableError);
    await expect(makeStore({ table: 'x' }).ping()).rejects.toMatchObject({ name: 'ValidationException' });
  });

  describeEndpointStoreDown({
    errorPrefix: 'dynamodb',
    serverName: 'dynalite',
    server: () => dyn,
    makeStore,
    secret: SECRET,
  });
});
