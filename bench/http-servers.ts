/**
 * The comparison servers of bench/http.ts, one per child process (so that the load generator
 * in the bench process and the server under test each get their own core):
 *
 *   node -r ts-node/register/transpile-only bench/http-servers.ts <kind> <port> [redis url | dynamodb endpoint]
 *
 * kinds: `bare` (node:http, the same JSON, no session: the ceiling), `redis-get` (node:http +
 * one ioredis GET of the cookie's key), `express-redis` (express 5 + express-session +
 * connect-redis 9 on node-redis), `express-dynamodb` (express-session + connect-dynamodb),
 * `dynalite` (dynalite with the session table, for the DynamoDB comparison).
 * Prints `READY <port>` once it listens. Our instance server is lambda/instance/main.ts itself
 * (test/support/app-instance).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const SECRET = 'bench-secret-0123456789abcdef0123456789';
const [kind, portArg, target] = process.argv.slice(2);
const port = Number(portArg);

type Sess = { user?: string; cart?: Array<{ sku: string; qty: number }> };

async function expressApp(store: unknown): Promise<void> {
  const express = require('express') as typeof import('express');
  const session = require('express-session') as typeof import('express-session');
  const app = express();
  app.use(express.json());
  app.use(session({ store: store as never, secret: SECRET, resave: false, saveUninitialized: false, name: 'sid' }));
  const s = (req: { session: unknown }) => req.session as Sess;
  app.post('/login', (req, res) => {
    s(req).user = String(req.body?.user ?? 'u');
    s(req).cart = [];
    res.json({ user: s(req).user });
  });
  app.get('/session', (req, res) => {
    if (s(req).user === undefined) {
      res.status(401).json({ error: { code: 'no_session' } });
      return;
    }
    res.json({ user: s(req).user, cart: s(req).cart ?? [], prefs: {}, servedBy: 'express' });
  });
  app.post('/cart/items', (req, res) => {
    if (s(req).user === undefined) {
      res.status(401).json({ error: { code: 'no_session' } });
      return;
    }
    s(req).cart = [...(s(req).cart ?? []), { sku: String(req.body?.sku), qty: Number(req.body?.qty ?? 1) }];
    res.json({ cart: s(req).cart });
  });
  const srv = app.listen(port, '127.0.0.1', () => console.log(`READY ${(srv.address() as AddressInfo).port}`));
}

async function main(): Promise<void> {
  switch (kind) {
    case 'bare': {
      const body = JSON.stringify({ user: 'u', cart: [], prefs: {}, servedBy: 'bare' });
      const srv = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      });
      srv.keepAliveTimeout = 65_000;
      srv.listen(port, '127.0.0.1', () => console.log(`READY ${port}`));
      return;
    }
    case 'redis-get': {
      const { Redis } = require('ioredis') as typeof import('ioredis');
      const redis = new Redis(target);
      const srv = createServer((req, res) => {
        req.resume();
        const key = /(?:^|;\s*)k=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'none';
        redis.get(`s:${key}`).then(
          (v) => {
            const body = v ?? '{}';
            res.writeHead(v === null ? 401 : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
            res.end(body);
          },
          () => {
            res.writeHead(503);
            res.end();
          },
        );
      });
      srv.keepAliveTimeout = 65_000;
      srv.listen(port, '127.0.0.1', () => console.log(`READY ${port}`));
      return;
    }
    case 'express-redis': {
      const { createClient } = require('redis') as typeof import('redis');
      const { RedisStore } = require('connect-redis') as typeof import('connect-redis');
      const client = createClient({ url: target });
      await client.connect();
      await expressApp(new RedisStore({ client, prefix: 'es:' }));
      return;
    }
    case 'express-dynamodb': {
      const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
      const session = require('express-session') as typeof import('express-session');
      const connectDynamo = require('connect-dynamodb') as (s: unknown) => new (opts: unknown) => unknown;
      const DynamoDBStore = connectDynamo({ session });
      const client = new DynamoDBClient({ endpoint: target, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await expressApp(new DynamoDBStore({ client, table: 'bench-sessions', hashKey: 'id', prefix: 'es:' }));
      return;
    }
    case 'dynalite': {
      const { startDynalite } = require('../test/support/dynalite') as typeof import('../test/support/dynalite');
      const { waitForActiveTable } = require('../test/support/app-backends') as typeof import('../test/support/app-backends');
      const dyn = await startDynalite('bench-sessions');
      await waitForActiveTable(dyn);
      console.log(`READY ${dyn.port}`);
      return;
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
