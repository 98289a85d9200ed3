/**
 * dynalite (a DynamoDB stand-in) in-process on a free port, with the session table created.
 * dynalite has no TTL API (UpdateTimeToLive / expiry deletes) and no transactions; tests that
 * need an expired item write it directly. Its data lives in a temp directory (LevelDB), so a
 * stopped and restarted server keeps its tables and items, like a DynamoDB outage would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort } from './ports';

// dynalite ships no type declarations; this is the part of its API the harness uses.
const dynalite: (opts: { createTableMs?: number; path?: string }) => Server = require('dynalite');

/** Dummy credentials: dynalite does not check signatures. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_AWS_REGION = 'us-east-1';

export interface Dynalite {
  readonly port: number;
  readonly endpoint: string;
  /** The session table (pk `id` S, on-demand). */
  readonly table: string;
  /** A new DynamoDB client for this server; the caller destroys it. */
  client(): DynamoDBClient;
  /** Stop listening (connections dropped); data and port are kept for {@link restart}. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  restart(): Promise<void>;
  /** Stop and remove the data directory. */
  close(): Promise<void>;
}

export async function startDynalite(table = 'sessions'): Promise<Dynalite> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dynalite-'));
  const server = dynalite({ createTableMs: 0, path: dir });
  let listening = false;
  const listen = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    listening = true;
  };
  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = () => new DynamoDBClient({ region: LOCAL_AWS_REGION, endpoint, credentials: LOCAL_AWS_CREDENTIALS });

  await listen();
  const admin = client();
  try {
    await admin.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
  } finally {
    admin.destroy();
  }
  return {
    port,
    endpoint,
    table,
    client,
    stop,
    restart: listen,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
