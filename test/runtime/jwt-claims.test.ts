/**
 * A JWT session carries the app's own claims (roles, tenant, ...) beside the service's, and they
 * can never override the security claims: a reserved name is refused before anything is signed.
 * The cookie size limit counts them. Real P-256 keys (node:crypto), jose verification.
 */
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import type { JwtSigner } from '../../lambda/session/jwt/keys';
import { JwtSessionService, MAX_COOKIE_BYTES } from '../../lambda/session/jwt/service';
import { RESERVED_CLAIMS } from '../../lambda/session/jwt/token';
import { SessionTooLargeError } from '../../lambda/session/errors';

const ISS = 'https://issuer.test';
const AUD = 'shop';
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** Counts signatures, so a test can see that a refused token was never signed. */
class CountingSigner implements JwtSigner {
  readonly alg = 'ES256' as const;
  signed = 0;
  constructor(private readonly inner: LocalKeySigner) {}
  get kid() {
    return this.inner.kid;
  }
  publicJwk() {
    return this.inner.publicJwk();
  }
  async sign(input: Uint8Array) {
    this.signed++;
    return this.inner.sign(input);
  }
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe('JWT custom claims', () => {
  let signer: CountingSigner;
  let sessions: JwtSessionService;
  beforeAll(async () => {
    signer = new CountingSigner(await LocalKeySigner.generate());
  });
  beforeEach(() => {
    signer.signed = 0;
    sessions = new JwtSessionService({ signer, issuer: ISS, audience: AUD, now: () => T0 });
  });

  test("the app's own claims are signed at the top level of the payload and come back verified as claims.custom", async () => {
    const custom = { tenant: 'acme', roles: ['admin', 'billing'], plan: { tier: 2 } };
    const issued = await sessions.issue({ sub: 'ann', cart: [], prefs: {}, custom });
    expect(payloadOf(issued.token)).toMatchObject({ ...custom, sub: 'ann', iss: ISS, aud: AUD });
    expect(payloadOf(issued.token)).not.toHaveProperty('custom');
    const verified = await sessions.verify(issued.token);
    expect(verified.claims.custom).toEqual(custom);
    expect(verified.claims).toEqual(issued.claims);
  });

  test('a renewal keeps the custom claims unless it gives new ones; without any, custom is {}', async () => {
    const login = await sessions.verify((await sessions.issue({ sub: 'ann', cart: [], prefs: {}, custom: { tenant: 'acme' } })).token);
    const kept = await sessions.verify((await sessions.renew(login, { cart: [{ sku: 'A-1', qty: 1 }], prefs: {} })).token);
    expect(kept.claims.custom).toEqual({ tenant: 'acme' });
    const replaced = await sessions.verify((await sessions.renew(kept, { cart: [], prefs: {}, custom: { tenant: 'globex' } })).token);
    expect(replaced.claims.custom).toEqual({ tenant: 'globex' });
    expect((await sessions.verify((await sessions.issue({ sub: 'bob', cart: [], prefs: {} })).token)).claims.custom).toEqual({});
  });

  test.each(RESERVED_CLAIMS)('a custom claim named "%s" is refused with a TypeError naming it, before anything is signed', async (name) => {
    const err = await sessions.issue({ sub: 'ann', cart: [], prefs: {}, custom: { ok: 1, [name]: 'attacker-chosen' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toContain(`"${name}"`);
    expect(signer.signed).toBe(0);
  });

  test('a renewal cannot smuggle a reserved claim in either: exp stays the service’s', async () => {
    const login = await sessions.verify((await sessions.issue({ sub: 'ann', cart: [], prefs: {} })).token);
    await expect(sessions.renew(login, { cart: [], prefs: {}, custom: { exp: 4102444800, sub: 'admin' } })).rejects.toThrow(/"exp", "sub"/);
    expect(login.claims.exp).toBe(Math.floor(T0 / 1000) + 900);
  });

  test('custom values must be JSON: a BigInt is refused with a TypeError', async () => {
    await expect(sessions.issue({ sub: 'ann', cart: [], prefs: {}, custom: { n: BigInt(1) } })).rejects.toBeInstanceOf(TypeError);
  });

  test(`custom claims count against the ${MAX_COOKIE_BYTES}-byte cookie: too many is a SessionTooLargeError (413), nothing signed`, async () => {
    const err = await sessions.issue({ sub: 'ann', cart: [], prefs: {}, custom: { blob: 'x'.repeat(MAX_COOKIE_BYTES) } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionTooLargeError);
    expect(signer.signed).toBe(0);
  });
});
