/**
 * dynalite (a DynamoDB stand-in) in-process on a free port, with the session table created.
 * dynalite has no TTL API (UpdateTimeToLive / expiry deletes) and no transactions; tests that
 * need an expired item write it directly. Its data lives in a temp directory (LevelDB), so a
 * stopped and restarted server keeps its tables and items, like a DynamoDB outage would.
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { listenOnLoopback, type LoopbackServer } from './loopback-server';
import { freePort } from './ports';

// dynalite ships no type declarations; this is the part of its API the harness uses.
const dynalite: (opts: { createTableMs?: number; path?: string }) => Server = require('dynalite');

/** Dummy credentials: dynalite does not check signatures. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_AWS_REGION = 'us-east-1';

/** The server's port and endpoint; `stop()` keeps tables and items for `restart()`. */
export interface Dynalite extends LoopbackServer {
  /** The session table (pk `id` S, on-demand). */
  readonly table: string;
  /** A new DynamoDB client for this server; the caller destroys it. */
  client(): DynamoDBClient;
}

/** Creates an on-demand table whose partition key is the string attribute `key`. */
export async function createHashKeyTable(client: DynamoDBClient, table: string, key: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    }),
  );
}

/** dynalite answers CreateTable before the table is ACTIVE; a request in between gets ResourceNotFound. */
export async function waitForTableActive(client: DynamoDBClient, table: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await client.send(new DescribeTableCommand({ TableName: table })).catch(() => undefined);
    if (out?.Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${table} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startDynalite(table = 'sessions'): Promise<Dynalite> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dynalite-'));
  const server = await listenOnLoopback(dynalite({ createTableMs: 0, path: dir }), port, dir);
  const client = () => new DynamoDBClient({ region: LOCAL_AWS_REGION, endpoint: server.endpoint, credentials: LOCAL_AWS_CREDENTIALS });
  const admin = client();
  try {
    await createHashKeyTable(admin, table, 'id');
  } finally {
    admin.destroy();
  }
  return { ...server, table, client };
}
