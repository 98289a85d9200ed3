/**
 * `npm run bench -- cost`: what one session request costs on AWS, per store, in the units each
 * service bills, turned into $ per million requests at the us-east-1 on-demand list prices of
 * PRICES below, beside connect-dynamodb and express-session + connect-redis on the same mix.
 *
 * The mix (one "visit" per session, MIX below): log in (create), 60 requests 30 s apart with a
 * 30 min idle timeout, the 10th and 20th a cart append (modify), the rest reads, then log out; once
 * with ~1 KB of session data and once with ~8 KB. Our stores run behind SessionManager exactly
 * as the app's routes call it (modify = `modify(cookie, fn)`), on a clock the bench moves, so
 * the slides "at most once per half idle window" happen as they would over those 20 minutes.
 * The comparisons run express 5 + express-session (resave false, saveUninitialized false) over
 * real HTTP in this process, on the real clock (they touch on every unmodified request anyway).
 *
 * What is counted, at the client or on the wire, one request at a time:
 * - DynamoDB: ConsumedCapacity (ReturnConsumedCapacity=TOTAL on every request; dynalite reports it,
 *   rounded as AWS does: reads per 4 KB, strongly consistent 1 unit, writes per 1 KB). A failed
 *   conditional write is billed by AWS but reports nothing: counted at the size of the item sent.
 * - S3: requests by price tier, counted in SDK middleware (PUT/LIST; GET/HEAD; DELETE is free).
 * - ElastiCache Serverless: ECPUs = per request, max(commands sent, KB on the wire both ways),
 *   from a counting TCP proxy in front of redis-server / memcached (1 ECPU per KB transferred
 *   per command, at least 1; a Lua script may be billed more vCPU time: not visible here).
 * - Node-based Redis / Memcached and Aurora PostgreSQL: the server's own CPU seconds over the mix
 *   (redis INFO cpu, memcached stats rusage, the PostgreSQL backends' /proc stat), so requests/s
 *   per core at full use, turned into node-hours per million requests.
 * - JWT with the denylist: its DynamoDB reads (one consistent BatchGetItem of 3 keys per request)
 *   and the revocation write at logout. 8 KB does not fit a JWT cookie (413): n/a.
 *
 * Prints one table, and a markdown block for the README, also written to bench/results/cost.md.
 * `npm run bench -- cost --readme` also rewrites README.md's two generated blocks
 * (`<!-- cost:topologies:begin -->` and `<!-- cost:units:begin -->` … `end`) from this run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DEFAULTS } from '../lambda/session/env';
import { DynamoDbDenylist } from '../lambda/session/jwt/denylist';
import { LocalKeySigner } from '../lambda/session/jwt/keys';
import { JwtSessionService } from '../lambda/session/jwt/service';
import { SessionManager, type Session } from '../lambda/session/manager';
import { DynamoDbStore } from '../lambda/session/stores/dynamodb';
import { MemcachedStore } from '../lambda/session/stores/memcached';
import { PostgresStore } from '../lambda/session/stores/postgres';
import { RedisStore } from '../lambda/session/stores/redis';
import { S3Store } from '../lambda/session/stores/s3';
import type { LoadOptions, SessionStore, StoredSession } from '../lambda/session/types';
import { startDynalite, waitForTableActive } from '../test/support/dynalite';
import { REVOCATION_TABLE, startDenylistDynalite } from '../test/support/jwt-denylist';
import { MemcachedServer } from '../test/support/memcached-server';
import { ThrowawayDatabase } from '../test/support/postgres';
import { RedisServer } from '../test/support/redis-server';
import { replaceReadmeBlock } from '../test/support/readme';
import { startS3rver } from '../test/support/s3rver';
import { countingProxy, meterDynamoDb, meterS3, newDynamoDbUnits, newS3Requests, type DynamoDbUnits, type S3Requests, type WireBytes } from './cost-meters';

/**
 * us-east-1 on-demand list prices, USD, read on 2026-12-06 through the search tool (pages corpus).
 * - DynamoDB on-demand, Standard table class: https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   ($0.625 per million write request units, $0.125 per million read request units since the
 *   November 2024 cut; the figures as read in https://airbyte.com/data-engineering-resources/dynamodb-pricing;
 *   units: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
 * - S3 Standard requests: https://aws.amazon.com/s3/pricing/ ($0.005 per 1,000 PUT/COPY/POST/LIST,
 *   $0.0004 per 1,000 GET/HEAD/SELECT, DELETE free; as read in https://c3x.dev/blog/s3-request-fees-explained).
 * - ElastiCache Serverless ECPUs: https://aws.amazon.com/elasticache/pricing/ ($0.0023 per million
 *   for Valkey, $0.0034 for Redis OSS and Memcached; as read in
 *   https://www.usage.ai/blogs/aws/database-savings-plans/elasticache/serverless-pricing/ and
 *   https://www.gomomento.com/blog/a-look-into-elasticache-serverless-pricing/). 1 ECPU per KB
 *   per command: https://cur.vantage.sh/aws/amazonelasticache.
 * - ElastiCache cache.t4g.small on-demand node-hour (the topologies' default node type): the pages
 *   the search returned did not show the figure; $0.032 (Memcached, Redis OSS) and $0.0256 (Valkey,
 *   20 % lower) are AWS's published rates as the author knows them: check
 *   https://aws.amazon.com/elasticache/pricing/ before relying on those two rows.
 * - Aurora Serverless v2 (Aurora Standard): https://aws.amazon.com/rds/aurora/pricing/ ($0.12 per
 *   ACU-hour; as read in https://c3x.dev/blog/aws-aurora-serverless-v2-cost/). I/O ($0.20 per
 *   million) is not counted: the sessions fit the buffer cache, writes' I/O is not measured here.
 */
export const PRICES = {
  readOn: '2026-12-06',
  region: 'us-east-1',
  dynamoDbWriteRequestUnit: 0.625 / 1e6,
  dynamoDbReadRequestUnit: 0.125 / 1e6,
  s3Tier1Request: 0.005 / 1000,
  s3Tier2Request: 0.0004 / 1000,
  ecpuValkey: 0.0023 / 1e6,
  ecpuRedisOssOrMemcached: 0.0034 / 1e6,
  nodeHourCacheT4gSmallValkey: 0.0256,
  nodeHourCacheT4gSmallMemcached: 0.032,
  auroraServerlessV2AcuHour: 0.12,
} as const;

/** One visit: create, then `requests` requests `spacingS` apart (those at `modifyAt` are cart appends, the rest reads), then logout. */
const MIX = { requests: 60, modifyAt: [10, 20] as readonly number[], spacingS: 30, idleS: 1800, absoluteS: 43_200 } as const;
const SIZES = [1024, 8192] as const;
const SESSIONS = Number(process.env.BENCH_COST_SESSIONS ?? 20);
const WIDE = 10;
const SECRET = 'bench-cost-secret-bench-cost-secret-0123';
const OPS = ['create', 'read', 'modify', 'logout'] as const;
type Op = (typeof OPS)[number];

/** Billed units, cumulative. */
interface Units {
  rru: number;
  wru: number;
  s3Tier1: number;
  s3Tier2: number;
  s3Delete: number;
  ecpu: number;
  commands: number;
  wireBytes: number;
}
const zero = (): Units => ({ rru: 0, wru: 0, s3Tier1: 0, s3Tier2: 0, s3Delete: 0, ecpu: 0, commands: 0, wireBytes: 0 });
const minus = (a: Units, b: Units): Units => ({
  rru: a.rru - b.rru,
  wru: a.wru - b.wru,
  s3Tier1: a.s3Tier1 - b.s3Tier1,
  s3Tier2: a.s3Tier2 - b.s3Tier2,
  s3Delete: a.s3Delete - b.s3Delete,
  ecpu: a.ecpu - b.ecpu,
  commands: a.commands - b.commands,
  wireBytes: a.wireBytes - b.wireBytes,
});
const add = (a: Units, b: Units): Units => ({
  rru: a.rru + b.rru,
  wru: a.wru + b.wru,
  s3Tier1: a.s3Tier1 + b.s3Tier1,
  s3Tier2: a.s3Tier2 + b.s3Tier2,
  s3Delete: a.s3Delete + b.s3Delete,
  ecpu: a.ecpu + b.ecpu,
  commands: a.commands + b.commands,
  wireBytes: a.wireBytes + b.wireBytes,
});

/** Where the units come from: read the cumulative counters. */
interface Meter {
  read(): Units;
}

function dynamoMeter(units: DynamoDbUnits): Meter {
  return { read: () => ({ ...zero(), rru: units.readUnits, wru: units.writeUnits }) };
}
function s3Meter(req: S3Requests): Meter {
  return { read: () => ({ ...zero(), s3Tier1: req.tier1, s3Tier2: req.tier2, s3Delete: req.deletes }) };
}
function wireMeter(bytes: WireBytes, commands: { n: number }): Meter {
  return { read: () => ({ ...zero(), commands: commands.n, wireBytes: bytes.toServer + bytes.toClient }) };
}

/** Counts RESP commands (arrays of bulk strings) in the client → server stream. */
function respCommandCounter(commands: { n: number }): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let items = 0; // bulk strings left in the current command
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return;
      const line = pending.subarray(0, eol).toString('latin1');
      if (items === 0) {
        if (line[0] !== '*') throw new Error(`RESP: expected an array, got ${JSON.stringify(line.slice(0, 20))}`);
        items = Number(line.slice(1));
        commands.n++;
        pending = pending.subarray(eol + 2);
        continue;
      }
      if (line[0] !== '$') throw new Error('RESP: expected a bulk string');
      const len = Number(line.slice(1));
      if (pending.length < eol + 2 + len + 2) return;
      pending = pending.subarray(eol + 2 + len + 2);
      items--;
    }
  };
}

/** Counts memcached text-protocol commands in the client → server stream (data blocks are JSON, never a command line). */
function memcachedCommandCounter(commands: { n: number }): (chunk: Buffer) => void {
  let pending = '';
  let skip = 0; // bytes of a data block still to come
  return (chunk) => {
    pending += chunk.toString('latin1');
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.slice(n);
        skip -= n;
        if (skip > 0) return;
      }
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return;
      const line = pending.slice(0, eol);
      pending = pending.slice(eol + 2);
      const [verb, , , , bytes] = line.split(' ');
      commands.n++;
      if (['set', 'add', 'replace', 'append', 'prepend', 'cas'].includes(verb)) skip = Number(bytes) + 2;
    }
  };
}

/** One session's life, as a topology's app runs it. */
interface Visit {
  create(data: Record<string, unknown>): Promise<void>;
  read(): Promise<void>;
  modify(line: number): Promise<void>;
  logout(): Promise<void>;
}

/** A store (or a comparison) under test, with its meters. */
interface Running {
  visit(): Visit;
  meter: Meter;
  /** Moves the clock of the visits (ours); the comparisons run on the real clock. */
  advance(ms: number): void;
  /** CPU seconds the store's server has used so far (node-based stores). */
  serverCpuSeconds?(): Promise<number>;
  stop(): Promise<void>;
}

interface Target {
  readonly name: string;
  readonly kind: 'dynamodb' | 's3' | 'redis' | 'memcached' | 'postgres' | 'jwt' | 'memory';
  readonly ours: boolean;
  readonly sizes?: readonly number[];
  start(): Promise<Running>;
}

/** Visits through our SessionManager on a clock the bench moves. */
/**
 * Visits through our SessionManager on a clock the bench moves. With several stores (servers),
 * the requests of a visit go to them in turn, as behind a balancer without stickiness.
 */
function oursOn(stores: SessionStore | readonly SessionStore[], clock: { now: number }): () => Visit {
  const managers = (Array.isArray(stores) ? stores : [stores]).map(
    (store: SessionStore) =>
      new SessionManager({ store, secrets: [SECRET], secure: false, idleTimeoutSeconds: MIX.idleS, absoluteTimeoutSeconds: MIX.absoluteS, maxSessionBytes: 1 << 20, now: () => clock.now }),
  );
  let turn = 0;
  const next = () => managers[turn++ % managers.length];
  return () => {
    let s: Session | undefined;
    let cookie = '';
    return {
      create: async (data) => {
        const m = next();
        s = await m.create(data);
        cookie = m.setCookie(s).split(';')[0];
      },
      read: async () => {
        if ((await next().load(cookie)) === undefined) throw new Error('session vanished');
      },
      modify: async (line) => {
        const r = await next().modify(cookie, (d) => {
          (d.cart as number[]).push(line);
        });
        if (r === undefined) throw new Error('session vanished on modify');
      },
      logout: async () => {
        await next().destroy(s!);
      },
    };
  };
}

/** express 5 + express-session on `store`, over HTTP in this process. */
async function expressVisits(store: unknown): Promise<{ visit: () => Visit; close(): Promise<void> }> {
  const express = (await import('express')).default;
  const session = (await import('express-session')).default;
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.use(session({ store: store as never, secret: SECRET, resave: false, saveUninitialized: false, name: 'sid' }));
  type Sess = { user?: string; cart?: number[]; blob?: string };
  const s = (req: { session: unknown }) => req.session as Sess;
  app.post('/login', (req, res) => {
    Object.assign(s(req), req.body);
    res.json({ user: s(req).user });
  });
  app.get('/session', (req, res) => {
    if (s(req).user === undefined) res.status(401);
    res.json({ user: s(req).user, cart: s(req).cart });
  });
  app.post('/cart/items', (req, res) => {
    if (s(req).user === undefined) res.status(401);
    s(req).cart = [...(s(req).cart ?? []), Number(req.body?.line)];
    res.json({ cart: s(req).cart });
  });
  app.post('/logout', (req, res) => {
    req.session.destroy(() => res.status(204).end());
  });
  const server: Server = await new Promise((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, cookie: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`express ${method} ${path}: ${res.status}`);
    return res.headers.get('set-cookie')?.split(';')[0];
  };
  return {
    visit: () => {
      let cookie = '';
      return {
        create: async (data) => {
          cookie = (await call('POST', '/login', '', data)) ?? '';
        },
        read: async () => void (await call('GET', '/session', cookie)),
        modify: async (line) => void (await call('POST', '/cart/items', cookie, { line })),
        logout: async () => void (await call('POST', '/logout', cookie)),
      };
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** dynalite with its session table ACTIVE (it answers CreateTable before). */
async function startActiveDynalite() {
  const dyn = await startDynalite();
  const admin = dyn.client();
  try {
    await waitForTableActive(admin, dyn.table);
  } finally {
    admin.destroy();
  }
  return dyn;
}

const fixedClock = () => ({ now: Date.now() + 1000 });

/**
 * The DynamoDB store as it read before issue 18, for the same run's before/after: every load an
 * UpdateItem (ReturnValues=ALL_NEW) that slides the idle expiry, billed as a write on the whole
 * item, and no one-round-trip modify (load + compareAndSet). Inline data only.
 */
class DynamoDbStoreBefore extends DynamoDbStore {
  constructor(private readonly raw: DynamoDBClient, table: string) {
    super({ table, client: raw });
    Object.defineProperty(this, 'compareAndSetOrLoad', { value: undefined });
  }

  override async load(id: string, opts: LoadOptions): Promise<StoredSession | undefined> {
    const slidTo = opts.now + opts.idleTimeoutSeconds * 1000;
    try {
      const out = await this.raw.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: id } },
          UpdateExpression: 'SET #e = :e, #t = :t',
          ConditionExpression: 'attribute_exists(#id) AND #e > :now AND #c > :born',
          ExpressionAttributeNames: { '#id': 'id', '#e': 'expiresAt', '#t': 'ttl', '#c': 'createdAt' },
          ExpressionAttributeValues: {
            ':e': { N: String(slidTo) },
            ':t': { N: String(Math.ceil(slidTo / 1000)) },
            ':now': { N: String(opts.now) },
            ':born': { N: String(opts.now - opts.absoluteTimeoutSeconds * 1000) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = out.Attributes!;
      const createdAt = Number(item.createdAt.N);
      return {
        id,
        data: JSON.parse(item.data.S!) as Record<string, unknown>,
        version: Number(item.version.N),
        token: item.writeToken?.S ?? '',
        createdAt,
        expiresAt: Math.min(slidTo, createdAt + opts.absoluteTimeoutSeconds * 1000),
      };
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw err;
    }
  }
}

/** JWT with the DynamoDB denylist, its "not revoked" answers reused for `cacheMs` (SESSION_REVOCATION_CACHE_MS). */
function jwtTarget(cacheMs: number): Target {
  return {
    name: `jwt + denylist (ours, SESSION_REVOCATION_CACHE_MS=${cacheMs}${cacheMs === DEFAULTS.revocationCacheMs ? ', the default' : ''})`,
    kind: 'jwt',
    ours: true,
    sizes: [1024],
    start: async () => {
      const dyn = await startDenylistDynalite();
      const client = dyn.client();
      const units = newDynamoDbUnits();
      meterDynamoDb(client, units);
      const clock = fixedClock();
      const denylist = new DynamoDbDenylist({ table: REVOCATION_TABLE, client, notRevokedCacheMs: cacheMs, now: () => clock.now });
      const signer = await LocalKeySigner.generate();
      const svc = new JwtSessionService({ signer, issuer: 'https://shop.example', audience: 'shop', denylist, ttlSeconds: MIX.idleS, secure: false, now: () => clock.now });
      return {
        visit: () => {
          let token = '';
          return {
            create: async (data) => {
              token = (await svc.issue({ sub: 'u', cart: [data.blob], prefs: {} })).token;
            },
            read: async () => {
              await svc.verify(token);
            },
            modify: async (line) => {
              const s = await svc.verify(token);
              token = (await svc.renew(s, { cart: [...s.claims.cart, line], prefs: {} })).token;
            },
            logout: async () => {
              await svc.revoke(await svc.verify(token));
            },
          };
        },
        meter: dynamoMeter(units),
        advance: (ms) => void (clock.now += ms),
        stop: async () => {
          await denylist.close();
          client.destroy();
          await dyn.close();
        },
      };
    },
  };
}


/**
 * A redis-server behind a proxy that counts the bytes and commands on the wire (ElastiCache
 * Serverless bills ECPUs by them), plus the server's own CPU time (node-based pricing).
 */
async function startMeteredRedis() {
  const server = await RedisServer.start();
  const bytes: WireBytes = { toServer: 0, toClient: 0 };
  const commands = { n: 0 };
  const proxy = await countingProxy(server.port, bytes, respCommandCounter(commands));
  const admin = new Redis(server.url());
  return {
    url: `redis://127.0.0.1:${proxy.port}`,
    meter: wireMeter(bytes, commands),
    serverCpuSeconds: () => redisCpu(admin),
    stop: async () => {
      admin.disconnect();
      await proxy.close();
      await server.dispose();
    },
  };
}

/**
 * Our SessionManager on `servers` DynamoDB stores (taken in turn, as behind a balancer without
 * stickiness) over one metered client of an active dynalite.
 */
function oursOnDynamoDb(name: string, servers: number, makeStore: (client: DynamoDBClient, table: string) => SessionStore): Target {
  return {
    name,
    kind: 'dynamodb',
    ours: true,
    start: async () => {
      const dyn = await startActiveDynalite();
      const client = dyn.client();
      const units = newDynamoDbUnits();
      meterDynamoDb(client, units);
      const stores = Array.from({ length: servers }, () => makeStore(client, dyn.table));
      const clock = fixedClock();
      return {
        visit: oursOn(stores, clock),
        meter: dynamoMeter(units),
        advance: (ms) => void (clock.now += ms),
        stop: async () => {
          await Promise.all(stores.map((st) => st.close()));
          client.destroy();
          await dyn.close();
        },
      };
    },
  };
}

const TARGETS: Target[] = [
  oursOnDynamoDb('dynamodb (ours)', 1, (client, table) => new DynamoDbStore({ table, client })),
  oursOnDynamoDb('dynamodb (ours, 3 servers in turn: no stickiness)', 3, (client, table) => new DynamoDbStore({ table, client })),
  oursOnDynamoDb('dynamodb (ours before issue 18: UpdateItem reads)', 1, (client, table) => new DynamoDbStoreBefore(client, table)),
  {
    name: 'connect-dynamodb (express-session)',
    kind: 'dynamodb',
    ours: false,
    start: async () => {
      const dyn = await startActiveDynalite();
      const client = dyn.client();
      const units = newDynamoDbUnits();
      meterDynamoDb(client, units);
      const session = (await import('express-session')).default;
      const connectDynamo = require('connect-dynamodb') as (s: unknown) => new (opts: unknown) => unknown;
      const Store = connectDynamo({ session });
      const app = await expressVisits(new Store({ client, table: dyn.table, hashKey: 'id', prefix: 'es:' }));
      return {
        visit: app.visit,
        meter: dynamoMeter(units),
        advance: () => undefined,
        stop: async () => {
          await app.close();
          client.destroy();
          await dyn.close();
        },
      };
    },
  },
  {
    name: 's3 (ours)',
    kind: 's3',
    ours: true,
    start: async () => {
      const s3 = await startS3rver(['bench-cost']);
      const client: S3Client = s3.client();
      const req = newS3Requests();
      meterS3(client, req);
      const store = new S3Store({ bucket: 'bench-cost', client });
      const clock = fixedClock();
      return {
        visit: oursOn(store, clock),
        meter: s3Meter(req),
        advance: (ms) => void (clock.now += ms),
        stop: async () => {
          await store.close();
          client.destroy();
          await s3.close();
        },
      };
    },
  },
  {
    name: 'redis (ours)',
    kind: 'redis',
    ours: true,
    start: async () => {
      const redis = await startMeteredRedis();
      const store = new RedisStore({ url: redis.url });
      const clock = fixedClock();
      return {
        visit: oursOn(store, clock),
        meter: redis.meter,
        advance: (ms) => void (clock.now += ms),
        serverCpuSeconds: redis.serverCpuSeconds,
        stop: async () => {
          await store.close();
          await redis.stop();
        },
      };
    },
  },
  {
    name: 'connect-redis (express-session)',
    kind: 'redis',
    ours: false,
    start: async () => {
      const redis = await startMeteredRedis();
      const { createClient } = await import('redis');
      const { RedisStore: ConnectRedisStore } = await import('connect-redis');
      const client = createClient({ url: redis.url });
      await client.connect();
      const app = await expressVisits(new ConnectRedisStore({ client, prefix: 'es:' }));
      return {
        visit: app.visit,
        meter: redis.meter,
        advance: () => undefined,
        serverCpuSeconds: redis.serverCpuSeconds,
        stop: async () => {
          await app.close();
          await client.quit();
          await redis.stop();
        },
      };
    },
  },
  {
    name: 'memcached (ours)',
    kind: 'memcached',
    ours: true,
    start: async () => {
      const server = await MemcachedServer.start();
      const bytes: WireBytes = { toServer: 0, toClient: 0 };
      const commands = { n: 0 };
      const proxy = await countingProxy(server.port, bytes, memcachedCommandCounter(commands));
      const store = new MemcachedStore({ servers: [`127.0.0.1:${proxy.port}`] });
      const clock = fixedClock();
      return {
        visit: oursOn(store, clock),
        meter: wireMeter(bytes, commands),
        advance: (ms) => void (clock.now += ms),
        serverCpuSeconds: async () => {
          const stats = await server.raw('stats');
          const stat = (name: string) => Number(new RegExp(`STAT ${name} ([0-9.]+)`).exec(stats)?.[1]);
          return stat('rusage_user') + stat('rusage_system');
        },
        stop: async () => {
          await store.close();
          await proxy.close();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'postgres (ours)',
    kind: 'postgres',
    ours: true,
    start: async () => {
      const db = await ThrowawayDatabase.create('benchcost');
      const store = new PostgresStore({ connectionString: db.url, maxConnections: WIDE });
      await store.ensureSchema();
      const clock = fixedClock();
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      return {
        visit: oursOn(store, clock),
        meter: { read: zero },
        advance: (ms) => void (clock.now += ms),
        // The database's backends (the store's pooled connections), from /proc: PostgreSQL runs on this machine.
        serverCpuSeconds: async () => {
          const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
          return rows.reduce((n, r) => n + processCpuSeconds(r.pid), 0);
        },
        stop: async () => {
          await admin.end();
          await store.close();
          await db.drop();
        },
      };
    },
  },
  jwtTarget(DEFAULTS.revocationCacheMs),
  jwtTarget(60_000),
];

/** redis-server's own CPU seconds (user + system), from INFO cpu. */
async function redisCpu(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const stat = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1]);
  return stat('used_cpu_user') + stat('used_cpu_sys');
}

const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ
/** CPU seconds (user + system) of process `pid` so far; 0 when it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S; // utime, stime: fields 14 and 15 of stat
  } catch {
    return 0;
  }
}

/** Session data of about `bytes` bytes of JSON. */
function dataOf(bytes: number): Record<string, unknown> {
  const base = { user: 'ann@example.com', cart: [] as number[], blob: '' };
  return { ...base, blob: 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(base))) };
}

interface OpFigures {
  count: number;
  units: Units;
}
type PerOp = Record<Op, OpFigures>;

/**
 * Runs SESSIONS visits of `size` one request at a time, attributing every counter move to its
 * request's operation, after one visit that is not counted (connections, scripts loaded).
 * Returns the counts and the server CPU seconds of the counted visits.
 */
async function meterMix(r: Running, size: number): Promise<{ perOp: PerOp; serverCpuS?: number }> {
  const per = Object.fromEntries(OPS.map((op) => [op, { count: 0, units: zero() }])) as PerOp;
  const visit = async (timed: (op: Op, f: () => Promise<void>) => Promise<void>) => {
    const v = r.visit();
    await timed('create', () => v.create(dataOf(size)));
    for (let k = 1; k <= MIX.requests; k++) {
      r.advance(MIX.spacingS * 1000);
      const modify = MIX.modifyAt.includes(k);
      await timed(modify ? 'modify' : 'read', () => (modify ? v.modify(k) : v.read()));
    }
    await timed('logout', () => v.logout());
  };
  await visit((_, f) => f()); // warm-up
  const cpuBefore = await r.serverCpuSeconds?.();
  for (let i = 0; i < SESSIONS; i++) {
    await visit(async (op, f) => {
      const before = r.meter.read();
      await f();
      per[op].count++;
      per[op].units = add(per[op].units, minus(r.meter.read(), before));
    });
  }
  const cpuAfter = await r.serverCpuSeconds?.();
  return { perOp: per, serverCpuS: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

/** ECPUs of requests that sent `commands` commands and moved `bytes` bytes: at least one per command, one per KB. */
function ecpus(u: Units): number {
  return Math.max(u.commands, u.wireBytes / 1024);
}

interface Row {
  readonly name: string;
  readonly kind: Target['kind'];
  readonly size: number;
  readonly perOp: PerOp;
  readonly requests: number;
  /** Units per request at the mix. */
  readonly perRequest: Units;
  /** Requests per second one core of the store's server sustains: requests ÷ its CPU seconds, measured. */
  readonly reqPerS?: number;
  /** [label, $ per million requests, formula] */
  readonly prices: Array<[string, number, string]>;
}

function priceRow(t: Target, size: number, perOp: PerOp, serverCpuS: number | undefined): Row {
  const requests = OPS.reduce((n, op) => n + perOp[op].count, 0);
  const reqPerS = serverCpuS !== undefined && serverCpuS > 0 ? requests / serverCpuS : undefined;
  let total = zero();
  for (const op of OPS) total = add(total, { ...perOp[op].units, ecpu: perOp[op].count === 0 ? 0 : ecpusPerOp(perOp[op]) * perOp[op].count });
  const per: Units = Object.fromEntries(Object.entries(total).map(([k, v]) => [k, v / requests])) as unknown as Units;
  const M = 1e6;
  const prices: Array<[string, number, string]> = [];
  if (t.kind === 'dynamodb' || t.kind === 'jwt') {
    prices.push(['on-demand', M * (per.rru * PRICES.dynamoDbReadRequestUnit + per.wru * PRICES.dynamoDbWriteRequestUnit), `${fmt(per.rru)} RRU × $0.125 + ${fmt(per.wru)} WRU × $0.625`]);
  }
  if (t.kind === 's3') {
    prices.push(['S3 Standard', M * (per.s3Tier1 * PRICES.s3Tier1Request + per.s3Tier2 * PRICES.s3Tier2Request), `${fmt(per.s3Tier1)} PUT × $5 + ${fmt(per.s3Tier2)} GET × $0.40 (per million)`]);
  }
  if (t.kind === 'redis') {
    prices.push(['Serverless Valkey', M * per.ecpu * PRICES.ecpuValkey, `${fmt(per.ecpu)} ECPU × $0.0023`]);
    // Redis runs commands on one thread: one core of the node serves them; the replica serves none.
    if (reqPerS) prices.push(['2 × cache.t4g.small Valkey (primary + replica)', (M / (reqPerS * 3600)) * 2 * PRICES.nodeHourCacheT4gSmallValkey, `${fmt(M / (reqPerS * 3600))} node-h (${Math.round(reqPerS)} req/s per core) × 2 nodes × $0.0256`]);
  }
  if (t.kind === 'memcached') {
    prices.push(['Serverless Memcached', M * per.ecpu * PRICES.ecpuRedisOssOrMemcached, `${fmt(per.ecpu)} ECPU × $0.0034`]);
    // memcached is multi-threaded: both vCPUs of a t4g.small serve; every node serves its share of the sessions.
    if (reqPerS) prices.push(['cache.t4g.small nodes (2 vCPUs each)', (M / (2 * reqPerS * 3600)) * PRICES.nodeHourCacheT4gSmallMemcached, `${fmt(M / (2 * reqPerS * 3600))} node-h (${Math.round(reqPerS)} req/s per core × 2) × $0.032`]);
  }
  if (t.kind === 'postgres' && reqPerS) {
    // AWS does not say how much CPU an ACU is: one core-hour is priced as one ACU-hour, on the writer and on the reader that mirrors it.
    prices.push(['Aurora Serverless v2, writer + 1 reader', (M / (reqPerS * 3600)) * 2 * PRICES.auroraServerlessV2AcuHour, `${fmt(M / (reqPerS * 3600))} core-h (${Math.round(reqPerS)} req/s per core) as ACU-h × 2 instances × $0.12`]);
  }
  return { name: t.name, kind: t.kind, size, perOp, requests, perRequest: per, reqPerS, prices };
}

function ecpusPerOp(f: OpFigures): number {
  return f.count === 0 ? 0 : ecpus({ ...f.units, commands: f.units.commands / f.count, wireBytes: f.units.wireBytes / f.count });
}

function fmt(n: number): string {
  if (n === 0) return '0';
  if (n >= 100) return n.toFixed(0);
  if (n >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

/** The billed unit counts of one operation, in the store's units. */
function unitsText(kind: Target['kind'], f: OpFigures): string {
  if (f.count === 0) return '—';
  const u = f.units;
  const per = (n: number) => fmt(n / f.count);
  switch (kind) {
    case 'dynamodb':
    case 'jwt':
      return `${per(u.rru)} R / ${per(u.wru)} W`;
    case 's3':
      return `${per(u.s3Tier1)} PUT / ${per(u.s3Tier2)} GET / ${per(u.s3Delete)} DEL`;
    case 'redis':
    case 'memcached':
      return `${fmt(ecpusPerOp(f))} ECPU (${per(u.commands)} cmd, ${per(u.wireBytes)} B)`;
    default:
      return 'n/a';
  }
}

function render(rows: readonly Row[]): { console: string; markdown: string } {
  const head = `| store | session | create | read | modify | logout | units per request (mix) | $ per million requests | formula |`;
  const lines = [head, '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const mixUnits =
      r.kind === 'dynamodb' || r.kind === 'jwt'
        ? `${fmt(r.perRequest.rru)} RRU + ${fmt(r.perRequest.wru)} WRU`
        : r.kind === 's3'
          ? `${fmt(r.perRequest.s3Tier1)} PUT + ${fmt(r.perRequest.s3Tier2)} GET`
          : r.kind === 'redis' || r.kind === 'memcached'
            ? `${fmt(r.perRequest.ecpu)} ECPU`
            : r.kind === 'postgres'
              ? `${r.reqPerS ? Math.round(r.reqPerS) : '?'} req/s per core`
              : 'n/a';
    const prices = r.prices.length === 0 ? 'n/a' : r.prices.map(([label, usd]) => `$${usd >= 0.1 ? usd.toFixed(3) : usd.toPrecision(2)} (${label})`).join('<br>');
    const formulas = r.prices.map(([, , f]) => f).join('<br>') || '—';
    lines.push(`| ${r.name} | ${r.size / 1024} KB | ${OPS.map((op) => unitsText(r.kind, r.perOp[op])).join(' | ')} | ${mixUnits} | ${prices} | ${formulas} |`);
  }
  lines.push('| memory (sticky) | any | n/a | n/a | n/a | n/a | n/a: no store to bill; the instances are the cost | n/a | — |');
  const table = lines.join('\n');
  const preface = mixText();
  return { console: table, markdown: `${preface}\n\n${table}\n\n${readmeColumn(rows)}\n` };
}

/** The mix, the prices and the formula, as printed above the tables. */
function mixText(): string {
  return [
    `Mix per session (a visit): 1 create (login), ${MIX.requests - MIX.modifyAt.length} reads, ${MIX.modifyAt.length} modifies (cart appends, requests ${MIX.modifyAt.join(' and ')}), 1 logout; a request every ${MIX.spacingS} s, idle timeout ${MIX.idleS / 60} min (so the stores that slide at most once per half idle window slide once, ${MIX.idleS / 2 / 60} min after the last write); ${SESSIONS} sessions per size.`,
    `Prices: ${PRICES.region} on-demand list prices read ${PRICES.readOn} (bench/cost.ts, PRICES). $ per million requests = Σ units per request × unit price × 10^6;`,
    'node-based rows = node-hours per million requests at full CPU (10^6 ÷ (req/s per core × cores used × 3600); req/s per core = requests ÷ the server process\'s own CPU seconds over the mix) × nodes × $ per node-hour. t4g nodes sustain 20 % of each vCPU without burst credits: at that baseline, multiply those rows by 5.',
    'R/W = DynamoDB read/write request units (ReturnConsumedCapacity as dynalite reports it; failed conditional writes counted at the item size sent). ECPU = max(commands, KB on the wire) per operation.',
  ].join('\n');
}

/** README "Which topology should you use?": one line per topology, its $ per million requests at the mix, with the formula and units behind it. */
function readmeColumn(rows: readonly Row[]): string {
  const byName = new Map<string, Row[]>();
  for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  const usd = (n: number) => `$${n >= 0.1 ? n.toFixed(2) : n.toPrecision(2)}`;
  const lines = [
    '### $ per million requests, at the mix above (README "Which topology should you use?")',
    '',
    '| topology (store) | $ per million requests, 1 KB session | 8 KB session | formula (1 KB, units per request) |',
    '| --- | --- | --- | --- |',
    '| sticky-memory | n/a (no store) | n/a | the instances only |',
  ];
  for (const [name, rs] of byName) {
    const at = (size: number) => rs.find((r) => r.size === size);
    const cell = (r: Row | undefined) => (r === undefined ? 'n/a (a JWT cookie holds 4 KB)' : r.prices.map(([label, v]) => `${usd(v)} ${label}`).join('<br>') || 'n/a');
    const one = at(1024);
    lines.push(`| ${name} | ${cell(one)} | ${cell(at(8192))} | ${one?.prices.map(([, , f]) => f).join('<br>') ?? '—'} |`);
  }
  lines.push('| jwt (no denylist) | $0 (no store read; logout does not revoke) | n/a | — |');
  return lines.join('\n');
}

/** The README's generated cost blocks: `<!-- cost:<name>:begin -->` … `<!-- cost:<name>:end -->`. */
export const README_COST_BLOCKS = ['topologies', 'units'] as const;

/** The rows of the README's blocks: our stores at the deployed defaults, and the two express-session baselines. */
function readmeRows(rows: readonly Row[]): { topologies: string; units: string } {
  const usd = (n: number) => `$${n >= 0.1 ? n.toFixed(2) : n.toPrecision(2)}`;
  const find = (name: string, size: number) => rows.find((r) => r.name === name && r.size === size);
  const jwtDefault = rows.find((r) => r.kind === 'jwt' && r.name.includes('the default'))?.name;
  const cell = (r: Row | undefined) => (r === undefined ? 'n/a' : r.prices.map(([label, v]) => `${usd(v)} (${label})`).join('<br>') || 'n/a');
  const formula = (r: Row | undefined) => r?.prices.map(([, , f]) => f).join('<br>') ?? '—';
  // The lab's topology names (README "Which topology should you use?"), and the bench row of each.
  const topologies: Array<[string, string | undefined]> = [
    ['sticky-memory', undefined],
    ['redis', 'redis (ours)'],
    ['dynamodb', 'dynamodb (ours)'],
    ['s3', 's3 (ours)'],
    ['memcached', 'memcached (ours)'],
    ['postgres', 'postgres (ours)'],
    ['jwt (denylist on dynamodb)', jwtDefault],
    ['jwt (no denylist)', undefined],
  ];
  const t = [
    '| topology | $ per million requests, 1 KB session | $ per million requests, 8 KB session | units per request (1 KB) × unit price |',
    '| --- | --- | --- | --- |',
  ];
  for (const [topology, name] of topologies) {
    if (name === undefined) {
      t.push(topology === 'sticky-memory' ? `| ${topology} | n/a: no store; the instances are the cost | n/a | — |` : `| ${topology} | $0: no store read (logout does not revoke) | n/a | — |`);
      continue;
    }
    const one = find(name, 1024);
    const eight = find(name, 8192);
    t.push(`| ${topology} | ${cell(one)} | ${eight === undefined ? 'n/a (a JWT cookie holds 4 KB)' : cell(eight)} | ${formula(one)} |`);
  }
  const u = ['| store | session | create | read | modify | logout | units per request | $ per million requests |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    // The README describes the stores as they are: no rows of an earlier version of a store.
    if (r.name.includes('before')) continue;
    const mixUnits =
      r.kind === 'dynamodb' || r.kind === 'jwt'
        ? `${fmt(r.perRequest.rru)} RRU + ${fmt(r.perRequest.wru)} WRU`
        : r.kind === 's3'
          ? `${fmt(r.perRequest.s3Tier1)} PUT + ${fmt(r.perRequest.s3Tier2)} GET`
          : r.kind === 'redis' || r.kind === 'memcached'
            ? `${fmt(r.perRequest.ecpu)} ECPU`
            : r.kind === 'postgres'
              ? `${r.reqPerS ? Math.round(r.reqPerS) : '?'} req/s per core`
              : 'n/a';
    u.push(`| ${r.name} | ${r.size / 1024} KB | ${OPS.map((op) => unitsText(r.kind, r.perOp[op])).join(' | ')} | ${mixUnits} | ${cell(r)} |`);
  }
  const stamp = `\`npm run bench -- cost --readme\`, ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, ${require('node:os').cpus().length} cores; ${PRICES.region} on-demand list prices read ${PRICES.readOn} (\`PRICES\` in bench/cost.ts).`;
  return {
    topologies: `${stamp}\n\n${t.join('\n')}`,
    units: `${stamp}\n\n${mixText()}\n\n${u.join('\n')}`,
  };
}

export async function main(): Promise<Row[]> {
  console.log(`\n## cost — billed units and $ per million session requests (${PRICES.region} on-demand, prices read ${PRICES.readOn})`);
  const rows: Row[] = [];
  for (const t of TARGETS) {
    for (const size of t.sizes ?? SIZES) {
      const r = await t.start();
      try {
        const { perOp, serverCpuS } = await meterMix(r, size);
        rows.push(priceRow(t, size, perOp, serverCpuS));
        process.stdout.write(`  measured ${t.name}, ${size / 1024} KB\n`);
      } finally {
        await r.stop();
      }
    }
  }
  const out = render(rows);
  console.log(out.markdown);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cost.md');
  writeFileSync(file, `<!-- written by \`npm run bench -- cost\` on ${new Date().toISOString()}; do not edit by hand -->\n\n${out.markdown}`);
  console.log(`(markdown written to ${file})`);
  if (process.argv.includes('--readme')) {
    const readmeFile = join(__dirname, '..', 'README.md');
    const blocks = readmeRows(rows);
    let readme = readFileSync(readmeFile, 'utf8');
    for (const name of README_COST_BLOCKS) readme = replaceReadmeBlock(readme, `cost:${name}`, blocks[name]);
    writeFileSync(readmeFile, readme);
    console.log(`(README.md cost blocks rewritten: ${README_COST_BLOCKS.join(', ')})`);
  }
  return rows;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
