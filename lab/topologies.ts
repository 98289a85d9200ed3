/**
 * The topology list: one entry per way of running the reference app that the seed's table
 * names. Adding a topology = one entry here: how to start its store (if any), the environment
 * the instances get (the seam, lambda/session/env.ts), how to take the store away for the
 * outage scenario, and how the load balancer pins clients.
 *
 * Every entry runs 3 instance servers (child processes, test/support/app-instance) behind
 * haproxy (test/support/haproxy); the store servers are the same stand-ins the tests use.
 */
import { execFileSync } from 'node:child_process';
import { baseEnv, LOCAL_AWS_ENV, waitForActiveTable } from '../test/support/app-backends';
import { startDynalite } from '../test/support/dynalite';
import type { Stickiness } from '../test/support/haproxy';
import { REVOCATION_TABLE, startDenylistDynalite } from '../test/support/jwt-denylist';
import { MemcachedServer } from '../test/support/memcached-server';
import { createSessionSchema, PostgresCluster } from '../test/support/postgres';
import { RedisServer } from '../test/support/redis-server';
import { startS3rver } from '../test/support/s3rver';


/** The rows of the seed's table "Which Session Handling Method Should You Use?". */
export type SeedRow = 'Sticky Sessions (LB-based)' | 'Centralized Session Storage (Redis, DB, S3)' | 'JWT (Stateless Sessions)';

/** A running store (or none) and what the instances need to use it. */
export interface StoreHandle {
  /** SESSION_* (and AWS_*) variables for the instance servers. */
  readonly env: Record<string, string>;
  /** How {@link down} takes the store away, for the table. */
  readonly outage?: string;
  /** Take the store away (hung or stopped); data kept unless `outage` says otherwise. */
  down?(): Promise<void>;
  /** Bring it back on the same port. */
  up?(): Promise<void>;
  /** Hang the store (SIGSTOP: connections stay open, nothing answers), for `outage-long`; resolves once it is stopped. @default - it cannot be hung here */
  freeze?(): Promise<void>;
  /** Undo {@link freeze} (SIGCONT). */
  thaw?(): Promise<void>;
  /** The redis-server, for Redis-only scenarios. */
  readonly redis?: RedisServer;
  /** The memcached nodes (in SESSION_MEMCACHED_SERVERS order), for Memcached-only scenarios. */
  readonly memcached?: readonly MemcachedServer[];
  stop(): Promise<void>;
}

export interface Topology {
  readonly name: string;
  readonly seedRow: SeedRow;
  readonly stickiness: Stickiness;
  /** Why it cannot run here (its server is not installed), or undefined. @default - it can always run */
  unavailable?(): string | undefined;
  start(): Promise<StoreHandle>;
}

function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const memoryTopology = (name: string, stickiness: Stickiness): Topology => ({
  name,
  seedRow: 'Sticky Sessions (LB-based)',
  stickiness,
  start: async () => ({ env: baseEnv({ SESSION_STORE: 'memory' }), stop: async () => undefined }),
});

export const TOPOLOGIES: readonly Topology[] = [
  memoryTopology('sticky-memory (AWSALB)', { kind: 'lb-cookie', cookieName: 'AWSALB' }),
  memoryTopology('sticky-memory (app cookie)', { kind: 'app-cookie', appCookieName: 'sid' }),
  {
    name: 'redis',
    seedRow: 'Centralized Session Storage (Redis, DB, S3)',
    stickiness: { kind: 'none' },
    unavailable: () => (hasBinary('redis-server') ? undefined : 'redis-server is not installed'),
    start: async () => {
      const redis = await RedisServer.start();
      return {
        env: baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url() }),
        redis,
        outage: 'SIGSTOP 5 s (hung: connections open, no answers), SIGCONT',
        down: async () => redis.pause(),
        up: async () => redis.resume(),
        freeze: () => redis.pause(),
        thaw: async () => redis.resume(),
        stop: () => redis.dispose(),
      };
    },
  },
  {
    name: 'dynamodb',
    seedRow: 'Centralized Session Storage (Redis, DB, S3)',
    stickiness: { kind: 'none' },
    start: async () => {
      const dyn = await startDynalite('lab-sessions');
      await waitForActiveTable(dyn);
      return {
        env: baseEnv({ SESSION_STORE: 'dynamodb', SESSION_TABLE: dyn.table, AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint, ...LOCAL_AWS_ENV }),
        outage: 'dynalite stopped 5 s (connections refused), restarted on the same port with its data',
        down: () => dyn.stop(),
        up: () => dyn.restart(),
        stop: () => dyn.close(),
      };
    },
  },
  {
    name: 's3',
    seedRow: 'Centralized Session Storage (Redis, DB, S3)',
    stickiness: { kind: 'none' },
    start: async () => {
      const s3 = await startS3rver(['lab-sessions']);
      return {
        env: baseEnv({ SESSION_STORE: 's3', SESSION_BUCKET: 'lab-sessions', AWS_ENDPOINT_URL_S3: s3.endpoint, ...LOCAL_AWS_ENV }),
        outage: 's3rver stopped 5 s, restarted on the same port with its data',
        down: () => s3.stop(),
        up: () => s3.restart(),
        stop: () => s3.close(),
      };
    },
  },
  {
    name: 'memcached',
    seedRow: 'Centralized Session Storage (Redis, DB, S3)',
    stickiness: { kind: 'none' },
    unavailable: () => (hasBinary('memcached') ? undefined : 'memcached is not installed'),
    start: async () => {
      // Two nodes, as a node-based ElastiCache cluster lists them: the runtime spreads the
      // sessions over both (rendezvous hashing), and `nodeloss` takes one away.
      const nodes = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
      return {
        env: baseEnv({ SESSION_STORE: 'memcached', SESSION_MEMCACHED_SERVERS: nodes.map((n) => n.address).join(',') }),
        memcached: nodes,
        outage: 'both nodes SIGSTOP 5 s, SIGCONT (a memcached restart would lose its sessions: no persistence, no replication)',
        down: async () => {
          await Promise.all(nodes.map((n) => n.pause()));
        },
        up: async () => nodes.forEach((n) => n.resume()),
        freeze: async () => {
          await Promise.all(nodes.map((n) => n.pause()));
        },
        thaw: async () => nodes.forEach((n) => n.resume()),
        stop: async () => {
          await Promise.all(nodes.map((n) => n.stop()));
        },
      };
    },
  },
  {
    name: 'postgres',
    seedRow: 'Centralized Session Storage (Redis, DB, S3)',
    stickiness: { kind: 'none' },
    unavailable: () => {
      try {
        require('../test/support/postgres').postgresBinDir();
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
    start: async () => {
      // A cluster of our own (never the machine's server), so the outage can stop it.
      const pg = await PostgresCluster.start();
      await createSessionSchema(pg.url); // the explicit schema step: the runtime only checks it
      return {
        env: baseEnv({ SESSION_STORE: 'postgres', SESSION_DATABASE_URL: pg.url }),
        outage: 'pg_ctl stop -m fast 5 s (connections ended), start on the same port and data',
        down: () => pg.stop('fast'),
        up: () => pg.restart(),
        stop: () => pg.dispose(),
      };
    },
  },
  {
    name: 'jwt (denylist on dynamodb)',
    seedRow: 'JWT (Stateless Sessions)',
    stickiness: { kind: 'none' },
    start: () => startJwt('always'),
  },
  {
    name: 'jwt (no denylist)',
    seedRow: 'JWT (Stateless Sessions)',
    stickiness: { kind: 'none' },
    start: () => startJwt('never'),
  },
];

/** JWT tokens for the lab: local P-256 key, 15-minute tokens, the denylist on dynalite when `check` is always. */
async function startJwt(check: 'always' | 'never'): Promise<StoreHandle> {
  const { LocalKeySigner } = require('../lambda/session/jwt/keys') as typeof import('../lambda/session/jwt/keys');
  const key = await LocalKeySigner.generate();
  const common = {
    SESSION_AUTH: 'open',
    SESSION_STORE: 'jwt',
    SESSION_COOKIE_SECURE: 'false',
    SESSION_STORE_TIMEOUT_MS: '1000',
    SESSION_JWT_PRIVATE_KEY: key.privatePem(),
    SESSION_JWT_ISSUER: 'https://lab.test',
    SESSION_JWT_AUDIENCE: 'lab',
    SESSION_JWT_TTL: '900',
    SESSION_REVOCATION_CHECK: check,
  };
  if (check === 'never') return { env: common, stop: async () => undefined };
  const dyn = await startDenylistDynalite();
  return {
    env: { ...common, SESSION_REVOCATION_TABLE: REVOCATION_TABLE, AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint, ...LOCAL_AWS_ENV },
    outage: 'denylist dynalite stopped 5 s, restarted on the same port',
    down: () => dyn.stop(),
    up: () => dyn.restart(),
    stop: () => dyn.close(),
  };
}
