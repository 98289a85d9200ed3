import { cookieKeys, cookieName, newSessionId, readCookie, serializeCookie, signSessionId, verifySignedSessionId } from '../../lambda/session/cookies';
import { SessionManager } from '../../lambda/session/manager';
import { MemoryStore } from '../../lambda/session/stores/memory';

// The module object itself (not an import-star copy), so spies see the runtime's calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const crypto = require('node:crypto') as typeof import('node:crypto');

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('session ids', () => {
  it('carry at least 128 bits from crypto.randomBytes', () => {
    const spy = jest.spyOn(crypto, 'randomBytes');
    const id = newSessionId();
    expect(spy).toHaveBeenCalledWith(expect.any(Number));
    expect(spy.mock.calls[0][0] as number).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    spy.mockRestore();
  });

  it('do not repeat across 10,000 draws', () => {
    const ids = new Set(Array.from({ length: 10000 }, newSessionId));
    expect(ids.size).toBe(10000);
  });
});

describe('signed session cookie', () => {
  const id = newSessionId();

  it('verifies with the secret that signed it', () => {
    expect(verifySignedSessionId(signSessionId(id, [A]), [A])).toBe(id);
  });

  it('rotation: the first secret signs, every listed secret verifies', () => {
    const old = signSessionId(id, [B]);
    expect(verifySignedSessionId(old, [A, B])).toBe(id);
    expect(signSessionId(id, [A, B])).toBe(signSessionId(id, [A]));
    expect(verifySignedSessionId(old, [A])).toBeUndefined(); // B retired: its cookies stop working
  });

  it('treats tampered, unsigned, truncated and garbage values as no session without throwing', () => {
    const good = signSessionId(id, [A]);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = [
      flip(good, 0), // id changed
      flip(good, good.length - 2), // signature changed
      id, // unsigned
      good.slice(0, -1),
      `${id}.`,
      `.${good}`,
      '',
      '....',
      'é'.repeat(50),
      'x'.repeat(10000),
      `${good}.extra`,
    ];
    for (const v of bad) expect(verifySignedSessionId(v, [A])).toBeUndefined();
    // The last character's 2 padding bits: other spellings decode to the same bytes, yet are refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twins = [...alphabet].map((c) => good.slice(0, -1) + c).filter((v) => v !== good && Buffer.from(v.split('.')[1], 'base64url').equals(Buffer.from(good.split('.')[1], 'base64url')));
    expect(twins).toHaveLength(3);
    for (const v of twins) expect(verifySignedSessionId(v, [A])).toBeUndefined();
    expect(verifySignedSessionId(undefined, [A])).toBeUndefined();
  });

  it('keys made once with cookieKeys sign and verify exactly as the secret texts do', () => {
    const keys = cookieKeys([A, B]);
    expect(signSessionId(id, keys)).toBe(signSessionId(id, [A]));
    expect(verifySignedSessionId(signSessionId(id, [B]), keys)).toBe(id);
    expect(verifySignedSessionId(signSessionId(id, [B]), cookieKeys([A]))).toBeUndefined();
  });

  it('compares signatures with crypto.timingSafeEqual, for every secret (constant time)', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    verifySignedSessionId(signSessionId(id, [B]), [A, B]);
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });
});

describe('cookie header handling', () => {
  it('finds the named cookie in a header or an API Gateway cookies array, and survives bad escapes', () => {
    expect(readCookie('a=1; sid=abc; b=2', 'sid')).toBe('abc');
    expect(readCookie(['a=1', 'sid=xyz'], 'sid')).toBe('xyz');
    expect(readCookie('sid=%E0%A4%A', 'sid')).toBeUndefined();
    expect(readCookie('nothing-here', 'sid')).toBeUndefined();
    expect(readCookie(undefined, 'sid')).toBeUndefined();
    expect(readCookie(' a=1 ;  sid = "v%20w" ; sid=second', 'sid')).toBe('v w'); // trimmed, unquoted, decoded; the first wins
    expect(readCookie('xsid=1; sidx=2; =3; sid', 'sid')).toBeUndefined();
    expect(readCookie(['a=1; sid=%E0%A4%A', 'sid=later'], 'sid')).toBeUndefined(); // the first one is bad: no session
    expect(readCookie(['a=1', 'b=2; sid=z'], 'sid')).toBe('z');
  });

  it('sets HttpOnly, Path=/, SameSite=Lax, and Secure with the __Host- prefix over HTTPS', () => {
    expect(cookieName('sid', true)).toBe('__Host-sid');
    expect(serializeCookie('__Host-sid', 'v', { secure: true, maxAgeSeconds: 60 })).toBe('__Host-sid=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60');
    expect(serializeCookie('sid', 'v', { secure: false })).toBe('sid=v; Path=/; HttpOnly; SameSite=Lax');
  });

  it('the manager reads back the cookie it sets, and an attacker-chosen id is not a session', async () => {
    const m = new SessionManager({ store: new MemoryStore(), secrets: [A] });
    const s = await m.create({ user: 'ada' });
    const setCookie = m.setCookie(s);
    expect(setCookie).toMatch(/^__Host-sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=(43200|4319\d)$/);
    const pair = setCookie.split(';')[0];
    expect((await m.load(pair))?.data).toEqual({ user: 'ada' });
    expect(await m.load(`__Host-sid=${s.id}`)).toBeUndefined(); // raw id without signature
    expect(m.clearCookie()).toContain('Max-Age=0');
  });
});
