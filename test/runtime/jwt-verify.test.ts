/**
 * Token verification refuses every forgery and misuse the JWT mode must stop, each its own case,
 * and accepts the genuine token (so each refusal is caused by the one defect it names).
 * Keys are real P-256 keys (node:crypto); verification is jose's jwtVerify behind TokenVerifier.
 */
import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { LocalKeySigner, publicJwkFromPem, publicJwkFromSpki } from '../../lambda/session/jwt/keys';
import type { JwtSigner } from '../../lambda/session/jwt/keys';
import { JwtSessionService } from '../../lambda/session/jwt/service';
import { signingInput, signToken, TokenRejectedError, TokenVerifier } from '../../lambda/session/jwt/token';
import type { RejectReason } from '../../lambda/session/jwt/token';

const ISS = 'https://issuer.test';
const AUD = 'shop';
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0); // ms

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('TokenVerifier', () => {
  let signer: LocalKeySigner;
  let other: LocalKeySigner;
  let now: number;
  let sessions: JwtSessionService;
  const verifier = () => new TokenVerifier({ keys: [signer.publicJwk()], issuer: ISS, audience: AUD, now: () => now });

  /** Claims as the service issues them at `t` (ms). */
  const claims = (t = now, extra: Record<string, unknown> = {}) => ({
    sub: 'ann',
    cart: [{ sku: 'A-1', qty: 1 }],
    prefs: {},
    sid: 'sid-1',
    sst: t,
    iat: Math.floor(t / 1000),
    nbf: Math.floor(t / 1000),
    exp: Math.floor(t / 1000) + 900,
    jti: 'jti-1',
    iss: ISS,
    aud: AUD,
    ...extra,
  });
  /** Signs `payload` under an arbitrary header with `by`. */
  const signWith = async (by: JwtSigner, header: Record<string, unknown>, payload: Record<string, unknown>) => {
    const input = signingInput(header, payload);
    return `${input}.${Buffer.from(await by.sign(Buffer.from(input))).toString('base64url')}`;
  };
  const expectRejected = async (token: string, reason: RejectReason, v = verifier()) => {
    const err = await v.verify(token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TokenRejectedError);
    expect((err as TokenRejectedError).reason).toBe(reason);
  };

  beforeAll(async () => {
    signer = await LocalKeySigner.generate();
    other = await LocalKeySigner.generate();
  });
  beforeEach(() => {
    now = T0;
    sessions = new JwtSessionService({ signer, issuer: ISS, audience: AUD, now: () => now });
  });

  test('the genuine token verifies and its claims come back (baseline for every refusal below)', async () => {
    const { token, claims: c } = await sessions.issue({ sub: 'ann', cart: [{ sku: 'A-1', qty: 2 }], prefs: { theme: 'dark' } });
    const { claims: got, kid } = await verifier().verify(token);
    expect(got).toEqual(c);
    expect(kid).toBe(signer.kid);
    expect(got).toMatchObject({ sub: 'ann', iss: ISS, aud: AUD, exp: Math.floor(T0 / 1000) + 900, cart: [{ sku: 'A-1', qty: 2 }], prefs: { theme: 'dark' } });
  });

  test('tampered payload (sub changed, signature kept) is refused: bad_signature', async () => {
    const { token } = await sessions.issue({ sub: 'ann', cart: [], prefs: {} });
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${b64({ ...payload, sub: 'admin' })}.${s}`;
    await expectRejected(forged, 'bad_signature');
  });

  test('tampered header (extra parameter, typ, kid and alg kept, signature kept) is refused: bad_signature', async () => {
    const { token } = await sessions.issue({ sub: 'ann', cart: [], prefs: {} });
    const [, p, s] = token.split('.');
    await expectRejected(`${b64({ alg: 'ES256', typ: 'session+jwt', kid: signer.kid, x: 1 })}.${p}.${s}`, 'bad_signature');
  });

  test.each(['JWT', 'at+jwt', undefined])('explicit typing (RFC 8725 §3.11): a validly signed JWT with typ %s is refused: wrong_typ', async (typ) => {
    await expectRejected(await signWith(signer, { alg: 'ES256', ...(typ === undefined ? {} : { typ }), kid: signer.kid }, claims()), 'wrong_typ');
  });

  test("the typ check does not rest on our header pre-check alone: jose with typ pinned refuses typ JWT too", async () => {
    const token = await signWith(signer, { alg: 'ES256', typ: 'JWT', kid: signer.kid }, claims());
    await expect(jwtVerify(token, createLocalJWKSet({ keys: [{ ...signer.publicJwk() }] }), { algorithms: ['ES256'], typ: 'session+jwt' })).rejects.toMatchObject({ claim: 'typ' });
  });

  test('a key carried in the header (jwk of an attacker key, jku, x5u) is never used: signed by that key under our kid, refused: bad_signature', async () => {
    const attacker = other.publicJwk();
    const forged = await signWith(other, { alg: 'ES256', typ: 'session+jwt', kid: signer.kid, jwk: attacker, jku: 'https://evil.test/jwks', x5u: 'https://evil.test/cert' }, claims());
    await expectRejected(forged, 'bad_signature');
  });

  test('an unknown critical header parameter (crit) is refused: malformed', async () => {
    await expectRejected(await signWith(signer, { alg: 'ES256', typ: 'session+jwt', kid: signer.kid, crit: ['exp-ext'], 'exp-ext': 1 }, claims()), 'malformed');
  });

  test('signed by the wrong key under the right kid is refused: bad_signature', async () => {
    const forged = await signWith(other, { alg: 'ES256', typ: 'session+jwt', kid: signer.kid }, claims());
    await expectRejected(forged, 'bad_signature');
  });

  test('alg none (unsigned, empty signature) is refused: alg_not_allowed', async () => {
    const forged = `${b64({ alg: 'none', typ: 'session+jwt', kid: signer.kid })}.${b64(claims())}.`;
    await expectRejected(forged, 'alg_not_allowed');
  });

  test('algorithm confusion (HS256 keyed with the public key) is refused by our check and by jose alone', async () => {
    const pubPem = createPublicKey(signer.privatePem()).export({ format: 'pem', type: 'spki' }).toString();
    const input = signingInput({ alg: 'HS256', typ: 'session+jwt', kid: signer.kid }, claims());
    const forged = `${input}.${createHmac('sha256', pubPem).update(input).digest('base64url')}`;
    await expectRejected(forged, 'alg_not_allowed');
    // Defence in depth: jose with the algorithm pinned refuses it too, even without our header check.
    await expect(jwtVerify(forged, createLocalJWKSet({ keys: [{ ...signer.publicJwk() }] }), { algorithms: ['ES256'] })).rejects.toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  });

  test('expired (past exp plus the 5 s tolerance) is refused: expired; within the tolerance it still verifies', async () => {
    const { token, claims: c } = await sessions.issue({ sub: 'ann', cart: [], prefs: {} });
    now = c.exp * 1000 + 4000;
    await expect(verifier().verify(token)).resolves.toBeDefined();
    now = c.exp * 1000 + 6000;
    await expectRejected(token, 'expired');
  });

  test('not yet valid (nbf a minute ahead) is refused: not_yet_valid', async () => {
    const future = await signToken(signer, claims(T0 + 60_000));
    await expectRejected(future, 'not_yet_valid');
    now = T0 + 60_000;
    await expect(verifier().verify(future)).resolves.toBeDefined();
  });

  test('wrong audience is refused: wrong_audience', async () => {
    await expectRejected(await signToken(signer, claims(T0, { aud: 'other-app' })), 'wrong_audience');
  });

  test('wrong issuer is refused: wrong_issuer', async () => {
    await expectRejected(await signToken(signer, claims(T0, { iss: 'https://evil.test' })), 'wrong_issuer');
  });

  test('missing kid is refused before any signature work: missing_kid', async () => {
    await expectRejected(await signWith(signer, { alg: 'ES256', typ: 'session+jwt' }, claims()), 'missing_kid');
  });

  test('unknown kid (a key that is not configured, correctly signed by it) is refused: unknown_kid', async () => {
    await expectRejected(await signToken(other, claims()), 'unknown_kid');
  });

  test.each(['jti', 'sid', 'sst', 'exp', 'nbf', 'iat', 'sub', 'iss', 'aud'])('a validly signed token without %s is refused: bad_claims', async (claim) => {
    const c: Record<string, unknown> = claims();
    delete c[claim];
    await expectRejected(await signToken(signer, c), 'bad_claims');
  });

  test.each([['sst in seconds with a fraction', { sst: 1.5 }], ['sst as a string', { sst: '1' }], ['empty sid', { sid: '' }]])('a validly signed token with %s is refused: bad_claims', async (_what, extra) => {
    await expectRejected(await signToken(signer, claims(T0, extra)), 'bad_claims');
  });

  test.each(['', 'a.b', 'a.b.c.d', '!!!.e30.x', `${'A'.repeat(9000)}.e30.x`])('garbage %# is refused as malformed, never thrown as another error', async (garbage) => {
    await expectRejected(garbage, 'malformed');
  });
});

describe('keys (RFC 8725 §3.2 appropriate algorithms, §2.5/§3.4 invalid curve)', () => {
  test('only P-256 keys are taken: a P-384, an RSA and an Ed25519 key are refused as signer and as verification key', async () => {
    const pems = [
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ];
    for (const pem of pems) {
      await expect(LocalKeySigner.fromPem(pem)).rejects.toThrow(/P-256/);
      await expect(publicJwkFromPem(pem)).rejects.toThrow(/P-256/);
    }
    await expect(LocalKeySigner.fromPem((await LocalKeySigner.generate()).privatePem())).resolves.toBeDefined(); // baseline
  });

  test('a public key whose point is not on the curve (invalid-curve attack) is refused when loaded', async () => {
    const spki = createPublicKey((await LocalKeySigner.generate()).privatePem()).export({ format: 'der', type: 'spki' });
    await expect(publicJwkFromSpki(spki)).resolves.toBeDefined(); // baseline
    const offCurve = Buffer.from(spki);
    offCurve[offCurve.length - 1] ^= 0x01; // last byte of y: the point leaves the curve
    await expect(Promise.resolve().then(() => publicJwkFromSpki(offCurve))).rejects.toThrow();
  });
});

describe('key rotation', () => {
  test('a token signed before rotation verifies after it (old key as previous) until it expires; after the old key is removed it is unknown', async () => {
    const oldKey = await LocalKeySigner.generate();
    const newKey = await LocalKeySigner.generate();
    let now = T0;
    const before = new JwtSessionService({ signer: oldKey, issuer: ISS, audience: AUD, now: () => now });
    const { token: oldToken, claims } = await before.issue({ sub: 'ann', cart: [{ sku: 'A-1', qty: 1 }], prefs: {} });

    // Rotation: deploy with the new key signing and the old one as previous.
    now = T0 + 60_000;
    const during = new JwtSessionService({ signer: newKey, previousKeys: [oldKey.publicJwk()], issuer: ISS, audience: AUD, now: () => now });
    expect((await during.verify(oldToken)).kid).toBe(oldKey.kid);
    const { token: newToken } = await during.issue({ sub: 'ann', cart: [], prefs: {} });
    expect((await during.verify(newToken)).kid).toBe(newKey.kid);
    expect(during.jwks().keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);

    // Until it expires, and not after.
    now = claims.exp * 1000 - 1000;
    await expect(during.verify(oldToken)).resolves.toBeDefined();
    now = claims.exp * 1000 + 6000;
    await expect(during.verify(oldToken)).rejects.toMatchObject({ reason: 'expired' });

    // After ≥ TTL the old key is removed: its tokens are unknown, new ones still verify.
    const after = new JwtSessionService({ signer: newKey, issuer: ISS, audience: AUD, now: () => T0 + 120_000 });
    await expect(after.verify(oldToken)).rejects.toMatchObject({ reason: 'unknown_kid' });
    await expect(after.verify(newToken)).resolves.toBeDefined();
  });
});
