/**
 * A KMS protocol peer for tests — NOT AWS KMS. A tiny node:http server that answers the KMS JSON
 * protocol (`X-Amz-Target: TrentService.<Op>`, application/x-amz-json-1.1) for the two operations
 * the KmsSigner uses, with real node:crypto P-256 keys:
 *   GetPublicKey → the key's DER SubjectPublicKeyInfo (base64), KeySpec ECC_NIST_P256, SIGN_VERIFY
 *   Sign         → node:crypto ECDSA-SHA256 over the RAW message, DER-encoded as KMS does
 * It only stands in for the wire format; it says nothing about KMS latency, IAM or quotas.
 * Every request is recorded so a test can check what the signer sent.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KmsPeerKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Answer GetPublicKey with this KeySpec instead (to test the signer's checks). */
  readonly keySpec?: string;
}

export interface KmsPeer {
  readonly endpoint: string;
  readonly keys: Map<string, KmsPeerKey>;
  readonly requests: Array<{ target: string; body: Record<string, unknown> }>;
  /** Answer every request with HTTP 500 while true (a failing service). */
  failing: boolean;
  close(): Promise<void>;
}

export function newP256(): KmsPeerKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey };
}

export async function startKmsPeer(keys: Record<string, KmsPeerKey>): Promise<KmsPeer> {
  const peer: KmsPeer = { endpoint: '', keys: new Map(Object.entries(keys)), requests: [], failing: false, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        body = {};
      }
      peer.requests.push({ target, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'peer' });
        res.end(JSON.stringify(payload));
      };
      if (peer.failing) return reply(500, { __type: 'KMSInternalException', message: 'the test peer is failing on purpose' });
      const key = peer.keys.get(String(body.KeyId));
      if (!key) return reply(400, { __type: 'NotFoundException', message: `key ${String(body.KeyId)} not found` });
      if (target === 'TrentService.GetPublicKey') {
        return reply(200, {
          KeyId: body.KeyId,
          KeySpec: key.keySpec ?? 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ['ECDSA_SHA_256'],
          PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        });
      }
      if (target === 'TrentService.Sign') {
        if (body.SigningAlgorithm !== 'ECDSA_SHA_256' || body.MessageType !== 'RAW') {
          return reply(400, { __type: 'ValidationException', message: 'the peer signs RAW messages with ECDSA_SHA_256 only' });
        }
        const message = Buffer.from(String(body.Message), 'base64');
        const signature = sign('sha256', message, { key: key.privateKey, dsaEncoding: 'der' });
        return reply(200, { KeyId: body.KeyId, SigningAlgorithm: 'ECDSA_SHA_256', Signature: signature.toString('base64') });
      }
      return reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(peer, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
  return peer;
}
