/**
 * Stateless JWT sessions, measured:
 *  1. ES256 sign/s and verify/s with a local P-256 key (node:crypto signing, jose verification);
 *     KMS signing is a network call per token and is not measured here (no AWS account).
 *  2. Cookie bytes (`name=value` of the Set-Cookie) for 1, 10 and 50 cart lines: our JWT beside
 *     iron-session's sealed cookie of the same data (sealData; unsealData checked) and beside our
 *     server-side session cookie (a signed id: constant size whatever the session holds).
 *  3. What the denylist check adds, on dynalite: verify-only vs verify + denylist (one consistent
 *     BatchGetItem of the token, session and user entries), median and p99 over N sequential verifications.
 * Numbers are printed, never asserted.
 *
 * Run: npx ts-node --transpile-only bench/jwt.ts
 */
import { performance } from 'node:perf_hooks';
import { sealData, unsealData } from 'iron-session';
import { newSessionId, signSessionId } from '../lambda/session/cookies';
import { DynamoDbDenylist } from '../lambda/session/jwt/denylist';
import { LocalKeySigner } from '../lambda/session/jwt/keys';
import { JwtSessionService, MAX_COOKIE_BYTES } from '../lambda/session/jwt/service';
import { startDenylistDynalite, REVOCATION_TABLE } from '../test/support/jwt-denylist';
import { quantile } from './stats';

const SIGN_N = 3000;
const VERIFY_N = 3000;
const DENYLIST_N = 1000;
const COOKIE_NAME = '__Host-sid';
const SECRET = 'bench-cookie-secret-0123456789abcdef0123456789';

function cart(lines: number) {
  return Array.from({ length: lines }, (_, i) => ({ sku: `SKU-${String(i).padStart(5, '0')}`, qty: 1 + (i % 3) }));
}


export async function main(): Promise<Record<string, unknown>> {
  console.log('\n## jwt — stateless sessions (ES256)');
  const signer = await LocalKeySigner.generate();
  const sessions = new JwtSessionService({ signer, issuer: 'https://shop.example', audience: 'shop' });
  const content = { sub: 'ann@example.com', cart: cart(3), prefs: { theme: 'dark' } };

  // 1. sign/s, verify/s
  for (let i = 0; i < 200; i++) await sessions.verify((await sessions.issue(content)).token); // warm-up
  let t = performance.now();
  let token = '';
  for (let i = 0; i < SIGN_N; i++) token = (await sessions.issue(content)).token;
  const signPerS = SIGN_N / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < VERIFY_N; i++) await sessions.verify(token);
  const verifyPerS = VERIFY_N / ((performance.now() - t) / 1000);
  console.log(`issue (claims + ES256 sign, local key): ${signPerS.toFixed(0)}/s   verify (jose jwtVerify, ES256): ${verifyPerS.toFixed(0)}/s   (1 core, sequential)`);

  // 2. cookie bytes
  const serverSide = Buffer.byteLength(`${COOKIE_NAME}=${signSessionId(newSessionId(), [SECRET])}`);
  const sizes: Record<number, { jwt: number | string; iron: number; serverSide: number }> = {};
  console.log(`\ncookie name=value bytes (limit ${MAX_COOKIE_BYTES}); data = {user, cart, prefs}:`);
  console.log('cart lines | our JWT (ES256) | iron-session sealData | server-side session id');
  for (const lines of [1, 10, 50]) {
    const data = { sub: content.sub, cart: cart(lines), prefs: content.prefs };
    let jwt: number | string;
    try {
      const issued = await sessions.issue(data);
      jwt = Buffer.byteLength(issued.setCookie.split(';')[0]);
    } catch (err) {
      jwt = `over the limit (${(err as Error).message.match(/\d+/)?.[0]} bytes → 413)`;
    }
    const sealed = await sealData({ user: data.sub, cart: data.cart, prefs: data.prefs }, { password: SECRET, ttl: 900 });
    const back = await unsealData<{ cart: unknown[] }>(sealed, { password: SECRET, ttl: 900 });
    if (back.cart.length !== lines) throw new Error('iron-session round trip lost data');
    const iron = Buffer.byteLength(`${COOKIE_NAME}=${sealed}`);
    sizes[lines] = { jwt, iron, serverSide };
    console.log(`${String(lines).padStart(10)} | ${String(jwt).padStart(15)} | ${String(iron).padStart(21)} | ${serverSide}`);
  }
  let maxLines = 0;
  for (let n = 1; n < 1000; n++) {
    try {
      await sessions.issue({ ...content, cart: cart(n) });
      maxLines = n;
    } catch {
      break;
    }
  }
  console.log(`most cart lines that fit one 4096-byte JWT cookie: ${maxLines}`);

  // 3. denylist latency on dynalite
  const dyn = await startDenylistDynalite();
  const client = dyn.client();
  let denylistStats: Record<string, number> = {};
  try {
    const denylist = new DynamoDbDenylist({ table: REVOCATION_TABLE, client, timeoutMs: 2000 });
    const checked = new JwtSessionService({ signer, issuer: 'https://shop.example', audience: 'shop', denylist, revocationCheck: 'always' });
    const unchecked = new JwtSessionService({ signer, issuer: 'https://shop.example', audience: 'shop' });
    const tok = (await checked.issue(content)).token;
    for (let i = 0; i < 100; i++) await checked.verify(tok); // warm-up (connections, JIT)
    const run = async (s: JwtSessionService) => {
      const ms: number[] = [];
      for (let i = 0; i < DENYLIST_N; i++) {
        const a = performance.now();
        await s.verify(tok);
        ms.push(performance.now() - a);
      }
      return ms.sort((x, y) => x - y);
    };
    const only = await run(unchecked);
    const withDeny = await run(checked);
    denylistStats = {
      verifyOnlyMedianMs: quantile(only, 0.5),
      verifyOnlyP99Ms: quantile(only, 0.99),
      withDenylistMedianMs: quantile(withDeny, 0.5),
      withDenylistP99Ms: quantile(withDeny, 0.99),
    };
    console.log(`\nverification latency over ${DENYLIST_N} sequential requests, dynalite on loopback (not DynamoDB: only the shape of the cost):`);
    console.log(`verify only:        median ${denylistStats.verifyOnlyMedianMs.toFixed(3)} ms   p99 ${denylistStats.verifyOnlyP99Ms.toFixed(3)} ms`);
    console.log(`verify + denylist:  median ${denylistStats.withDenylistMedianMs.toFixed(3)} ms   p99 ${denylistStats.withDenylistP99Ms.toFixed(3)} ms`);
    console.log(`added by the check: median +${(denylistStats.withDenylistMedianMs - denylistStats.verifyOnlyMedianMs).toFixed(3)} ms   p99 +${(denylistStats.withDenylistP99Ms - denylistStats.verifyOnlyP99Ms).toFixed(3)} ms`);
  } finally {
    client.destroy();
    await dyn.close();
  }
  return { signPerS, verifyPerS, sizes, maxLines, ...denylistStats };
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
