/**
 * createJwtRuntime from SESSION_* variables: KMS keys (current + previous) over the KMS protocol
 * peer (test/support/jwt-kms-peer.ts — real node:crypto keys, not AWS), and the configuration
 * mistakes it refuses at start.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { parseSessionEnv, SessionEnvError } from '../../lambda/session/env';
import { createJwtRuntime } from '../../lambda/session/jwt/from-env';
import { KmsSigner } from '../../lambda/session/jwt/kms-signer';
import { JwtSessionService } from '../../lambda/session/jwt/service';
import { newP256, startKmsPeer, type KmsPeer } from '../support/jwt-kms-peer';

const BASE = { SESSION_STORE: 'jwt', SESSION_JWT_ISSUER: 'iss', SESSION_JWT_AUDIENCE: 'aud', SESSION_REVOCATION_CHECK: 'never' };

describe('createJwtRuntime', () => {
  let peer: KmsPeer;
  let kms: KMSClient;
  beforeAll(async () => {
    peer = await startKmsPeer({ 'key-new': newP256(), 'key-old': newP256() });
    kms = new KMSClient({ region: 'us-east-1', endpoint: peer.endpoint, credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    kms?.destroy();
    await peer?.close();
  });

  test('KMS rotation from the environment: signs with SESSION_JWT_KMS_KEY_ID, still verifies tokens of SESSION_JWT_PREVIOUS_KMS_KEY_IDS', async () => {
    const oldSigner = await KmsSigner.create({ keyId: 'key-old', client: kms });
    const oldToken = (await new JwtSessionService({ signer: oldSigner, issuer: 'iss', audience: 'aud' }).issue({ sub: 'ann', cart: [], prefs: {} })).token;
    const rt = await createJwtRuntime(parseSessionEnv({ ...BASE, SESSION_JWT_KMS_KEY_ID: 'key-new', SESSION_JWT_PREVIOUS_KMS_KEY_IDS: 'key-old' }), { kms });
    try {
      const newSigner = await KmsSigner.create({ keyId: 'key-new', client: kms });
      expect(rt.sessions.jwks().keys.map((k) => k.kid)).toEqual([newSigner.kid, oldSigner.kid]);
      const issued = await rt.sessions.issue({ sub: 'bob', cart: [], prefs: {} });
      expect(issued.kid).toBe(newSigner.kid);
      expect((await rt.sessions.verify(issued.token)).claims.sub).toBe('bob');
      expect((await rt.sessions.verify(oldToken)).kid).toBe(oldSigner.kid);
    } finally {
      await rt.close();
    }
  });

  test('SESSION_ABSOLUTE_TIMEOUT reaches JWT mode: a token issued at the start of the session expires with it, however long the token TTL', async () => {
    let now = Date.UTC(2030, 0, 1);
    const rt = await createJwtRuntime(parseSessionEnv({ ...BASE, SESSION_JWT_KMS_KEY_ID: 'key-new', SESSION_JWT_TTL: '900', SESSION_IDLE_TIMEOUT: '120', SESSION_ABSOLUTE_TIMEOUT: '120' }), { kms, now: () => now });
    try {
      expect(rt.sessions.absoluteTimeoutSeconds).toBe(120);
      const login = await rt.sessions.issue({ sub: 'ann', cart: [], prefs: {} });
      expect(login.claims.exp).toBe(now / 1000 + 120);
      now += 120_000;
      await expect(rt.sessions.verify(login.token)).rejects.toMatchObject({ reason: 'absolute_timeout' });
    } finally {
      await rt.close();
    }
  });

  test('SESSION_IDLE_TIMEOUT reaches JWT mode: a token lives at most the idle timeout, and an untouched session ends with it', async () => {
    let now = Date.UTC(2030, 0, 1);
    const rt = await createJwtRuntime(parseSessionEnv({ ...BASE, SESSION_JWT_KMS_KEY_ID: 'key-new', SESSION_JWT_TTL: '900', SESSION_IDLE_TIMEOUT: '60', SESSION_ABSOLUTE_TIMEOUT: '3600' }), { kms, now: () => now });
    try {
      const login = await rt.sessions.issue({ sub: 'ann', cart: [], prefs: {} });
      expect(login.claims.exp).toBe(now / 1000 + 60);
      now += 30_000;
      expect((await rt.sessions.verify(login.token)).claims.sub).toBe('ann');
      now += 60_000; // 90 s idle, past the 60 s idle timeout and the verifier's clock tolerance
      await expect(rt.sessions.verify(login.token)).rejects.toThrow();
    } finally {
      await rt.close();
    }
  });

  test('SESSION_REVOCATION_CHECK=always (the default) without SESSION_REVOCATION_TABLE is refused at start', async () => {
    const env = parseSessionEnv({ ...BASE, SESSION_REVOCATION_CHECK: 'always', SESSION_JWT_KMS_KEY_ID: 'key-new' });
    await expect(createJwtRuntime(env, { kms })).rejects.toThrow(/SESSION_REVOCATION_TABLE is required/);
  });

  test('SESSION_JWT_PREVIOUS_PUBLIC_KEYS without a PEM block is a SessionEnvError naming the variable', () => {
    expect(() => parseSessionEnv({ ...BASE, SESSION_JWT_KMS_KEY_ID: 'k', SESSION_JWT_PREVIOUS_PUBLIC_KEYS: 'not a pem' })).toThrow(SessionEnvError);
    expect(() => parseSessionEnv({ ...BASE, SESSION_JWT_KMS_KEY_ID: 'k', SESSION_JWT_PREVIOUS_PUBLIC_KEYS: 'not a pem' })).toThrow(/SESSION_JWT_PREVIOUS_PUBLIC_KEYS must hold one or more PEM blocks/);
  });

  test('a KMS key id that does not exist fails the start (GetPublicKey NotFound), no half-built runtime', async () => {
    await expect(createJwtRuntime(parseSessionEnv({ ...BASE, SESSION_JWT_KMS_KEY_ID: 'missing' }), { kms })).rejects.toThrow(/not found/);
  });
});
