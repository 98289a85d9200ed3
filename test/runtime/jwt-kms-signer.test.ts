/**
 * KmsSigner over the KMS JSON protocol, against a local protocol peer made of real node:crypto
 * keys (test/support/jwt-kms-peer.ts — not AWS: it shows the wire format, the DER → JOSE step and
 * the public-key path, nothing about KMS itself).
 */
import { createPublicKey } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { StoreUnavailableError } from '../../lambda/session/errors';
import { publicJwkOf } from '../../lambda/session/jwt/keys';
import { KmsSigner, kmsPublicJwk } from '../../lambda/session/jwt/kms-signer';
import { JwtSessionService } from '../../lambda/session/jwt/service';
import { signToken } from '../../lambda/session/jwt/token';
import { newP256, startKmsPeer, type KmsPeer, type KmsPeerKey } from '../support/jwt-kms-peer';

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('KmsSigner against a KMS protocol peer', () => {
  let peer: KmsPeer;
  let key: KmsPeerKey;
  let client: KMSClient;

  beforeAll(async () => {
    key = newP256();
    peer = await startKmsPeer({ [KEY_ID]: key, rsa: { ...newP256(), keySpec: 'RSA_2048' } });
    client = new KMSClient({ region: 'us-east-1', endpoint: peer.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await peer?.close();
  });
  beforeEach(() => {
    peer.failing = false;
    peer.requests.length = 0;
  });

  test('create() fetches the public key once; kid is the RFC 7638 thumbprint of the peer key', async () => {
    const signer = await KmsSigner.create({ keyId: KEY_ID, client });
    const jwk = key.publicKey.export({ format: 'jwk' });
    expect(signer.kid).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! }, 'sha256'));
    expect(signer.publicJwk()).toMatchObject({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, alg: 'ES256', use: 'sig' });
    expect(peer.requests.map((r) => r.target)).toEqual(['TrentService.GetPublicKey']);
  });

  test('a token signed through Sign (RAW, ECDSA_SHA_256, DER answer) verifies with jose against the public key', async () => {
    const signer = await KmsSigner.create({ keyId: KEY_ID, client });
    const token = await signToken(signer, { sub: 'ann', iat: 1, exp: 4_000_000_000 });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [{ ...signer.publicJwk() }] }), { algorithms: ['ES256'] });
    expect(payload.sub).toBe('ann');
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'session+jwt', kid: signer.kid });
    const sign = peer.requests.find((r) => r.target === 'TrentService.Sign')!;
    expect(sign.body).toMatchObject({ KeyId: KEY_ID, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(String(sign.body.Message), 'base64').toString()).toBe(token.split('.').slice(0, 2).join('.'));
  });

  test('100 signatures in a row all verify (DER lengths vary from signature to signature)', async () => {
    const signer = await KmsSigner.create({ keyId: KEY_ID, client });
    const jwks = createLocalJWKSet({ keys: [{ ...signer.publicJwk() }] });
    for (let i = 0; i < 100; i++) {
      const token = await signToken(signer, { sub: `u${i}`, n: i });
      await expect(jwtVerify(token, jwks, { algorithms: ['ES256'] })).resolves.toBeDefined();
    }
  });

  test('a signing input over the 4096-byte RAW limit is refused before any call to KMS', async () => {
    const signer = await KmsSigner.create({ keyId: KEY_ID, client });
    peer.requests.length = 0;
    await expect(signer.sign(Buffer.alloc(4097, 0x61))).rejects.toThrow(/at most 4096/);
    expect(peer.requests).toHaveLength(0);
  });

  test('GetPublicKey of a key that is not ECC_NIST_P256 is refused', async () => {
    await expect(kmsPublicJwk(client, 'rsa')).rejects.toThrow(/not ECC_NIST_P256/);
  });

  test('KMS failing (HTTP 500) while issuing is a StoreUnavailableError (→ 503), not a token', async () => {
    const signer = await KmsSigner.create({ keyId: KEY_ID, client });
    const sessions = new JwtSessionService({ signer, issuer: 'i', audience: 'a' });
    peer.failing = true;
    await expect(sessions.issue({ sub: 'ann', cart: [], prefs: {} })).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  test('the JWK from GetPublicKey is the same key node:crypto exports (SPKI → JWK path)', async () => {
    const fromKms = await kmsPublicJwk(client, KEY_ID);
    expect(fromKms).toEqual(await publicJwkOf(createPublicKey(key.privateKey)));
  });
});
