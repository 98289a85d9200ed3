/**
 * Counters of what AWS bills, taken at the client (DynamoDB capacity units, S3 requests by type)
 * or on the wire (bytes per command for ElastiCache Serverless ECPUs). Used by `npm run bench -- cost`
 * and by the DynamoDB store's test that checks what a read costs.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { dynamoDbItemSize } from '../lambda/session/stores/aws-dynamodb-item-size';

/** Capacity units DynamoDB reported, by kind, and the requests that carried them. */
export interface DynamoDbUnits {
  /** Read units (GetItem, BatchGetItem, Query, Scan). */
  readUnits: number;
  /** Write units (PutItem, UpdateItem, DeleteItem, BatchWriteItem), including failed conditional writes (estimated, see below). */
  writeUnits: number;
  /** Requests sent, by command name (GetItemCommand, …). */
  readonly requests: Record<string, number>;
  /** Conditional writes that failed: billed by AWS, not reported by DynamoDB (nor by dynalite). */
  failedConditionalWrites: number;
  /** Every operation's units in order, for per-read distributions: [command, read units, write units]. */
  readonly log: Array<[string, number, number]>;
}

const READ_COMMANDS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);

export function newDynamoDbUnits(): DynamoDbUnits {
  return { readUnits: 0, writeUnits: 0, requests: {}, failedConditionalWrites: 0, log: [] };
}

/**
 * Asks every request of `client` for ReturnConsumedCapacity=TOTAL and adds what comes back to
 * `units`. A conditional write that fails carries no ConsumedCapacity, yet AWS bills it ("the
 * write still consumes write capacity units", by the size of the existing item, at least 1): it
 * is counted at the size of the item sent (PutItem) or 1 (others), and listed apart.
 */
export function meterDynamoDb(client: DynamoDBClient, units: DynamoDbUnits): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string; Item?: Record<string, AttributeValue> };
      input.ReturnConsumedCapacity = 'TOTAL';
      const command = context.commandName ?? 'unknown';
      units.requests[command] = (units.requests[command] ?? 0) + 1;
      try {
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }).ConsumedCapacity;
        const total = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
        const read = READ_COMMANDS.has(command) ? total : 0;
        const write = READ_COMMANDS.has(command) ? 0 : total;
        units.readUnits += read;
        units.writeUnits += write;
        units.log.push([command, read, write]);
        return out;
      } catch (err) {
        if ((err as { name?: string }).name === 'ConditionalCheckFailedException') {
          const estimate = input.Item ? Math.max(1, Math.ceil(dynamoDbItemSize(input.Item) / 1024)) : 1;
          units.failedConditionalWrites += 1;
          units.writeUnits += estimate;
          units.log.push([command, 0, estimate]);
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'costMeterDynamoDb', override: true },
  );
}

/** S3 requests by the price tier they are billed in. */
export interface S3Requests {
  /** PUT, COPY, POST, LIST. */
  tier1: number;
  /** GET, HEAD and the rest but DELETE. */
  tier2: number;
  /** DELETE: free. */
  deletes: number;
  readonly byCommand: Record<string, number>;
}

export function newS3Requests(): S3Requests {
  return { tier1: 0, tier2: 0, deletes: 0, byCommand: {} };
}

const S3_TIER1 = new Set(['PutObjectCommand', 'CopyObjectCommand', 'ListObjectsV2Command', 'ListObjectsCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand']);

/** Counts every request `client` sends (failed ones too: S3 bills a 412 PUT as a PUT). */
export function meterS3(client: S3Client, requests: S3Requests): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      requests.byCommand[command] = (requests.byCommand[command] ?? 0) + 1;
      if (command.startsWith('Delete')) requests.deletes++;
      else if (S3_TIER1.has(command)) requests.tier1++;
      else requests.tier2++;
      return next(args);
    },
    { step: 'initialize', name: 'costMeterS3', override: true },
  );
}

/** Bytes through a TCP proxy, each direction. */
export interface WireBytes {
  toServer: number;
  toClient: number;
}

/** A loopback TCP proxy in front of `port` that counts the bytes it forwards; `onClientData` sees what clients send. */
export async function countingProxy(port: number, bytes: WireBytes, onClientData?: (chunk: Buffer) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (b: Buffer) => {
      bytes.toServer += b.length;
      onClientData?.(b);
      upstream.write(b);
    });
    upstream.on('data', (b: Buffer) => {
      bytes.toClient += b.length;
      client.write(b);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
