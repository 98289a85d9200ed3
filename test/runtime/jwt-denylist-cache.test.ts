/**
 * The denylist's "not revoked" cache (SESSION_REVOCATION_CACHE_MS), on dynalite: how many
 * denylist reads it saves, and the revocation delay it costs — exactly the configured bound for
 * a revocation made through another instance, none for one made through this instance. Requests
 * are counted at the client (SDK middleware); the clock is injected, so the bounds are exact.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULTS, parseSessionEnv, SessionEnvError, SessionEnvVars as V } from '../../lambda/session/env';
import { DynamoDbDenylist, type DenylistSubject } from '../../lambda/session/jwt/denylist';
import { meterDynamoDb, newDynamoDbUnits, type DynamoDbUnits } from '../../bench/cost-meters';
import type { Dynalite } from '../support/dynalite';
import { REVOCATION_TABLE, startDenylistDynalite } from '../support/jwt-denylist';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0, 0);
const CACHE_MS = 1000;

describe('denylist "not revoked" cache (dynalite)', () => {
  let dyn: Dynalite;
  let client: DynamoDBClient;
  let units: DynamoDbUnits;
  let now = T0;
  let n = 0;
  const token = (): DenylistSubject => ({ jti: `jti-${++n}`, sid: `sid-${n}`, sub: `user-${n}@example.com`, sst: T0 - 60_000 });
  const reads = () => units.requests.BatchGetItemCommand ?? 0;
  const denylist = (notRevokedCacheMs: number) => new DynamoDbDenylist({ table: REVOCATION_TABLE, client, notRevokedCacheMs, now: () => now });

  beforeAll(async () => {
    dyn = await startDenylistDynalite();
    client = dyn.client();
    units = newDynamoDbUnits();
    meterDynamoDb(client, units);
  });
  afterAll(async () => {
    client?.destroy();
    await dyn?.close();
  });

  it('a burst of checks of one token within the cache time costs one denylist read (3 read units), not one per check', async () => {
    const here = denylist(CACHE_MS);
    const t = token();
    const before = { reads: reads(), rru: units.readUnits };
    for (let i = 0; i < 5; i++) {
      now += 100;
      expect(await here.check(t)).toBe('ok');
    }
    expect(reads() - before.reads).toBe(1);
    expect(units.readUnits - before.rru).toBe(3); // a consistent read of each of the 3 keys, present or not (dynalite reports it)
    now += CACHE_MS; // past the cache time: asked again
    expect(await here.check(t)).toBe('ok');
    expect(reads() - before.reads).toBe(2);
  });

  it('a revocation made through another instance is refused here at most SESSION_REVOCATION_CACHE_MS later, and exactly then', async () => {
    const here = denylist(CACHE_MS);
    const elsewhere = denylist(CACHE_MS);
    const t = token();
    const askedAt = now;
    expect(await here.check(t)).toBe('ok');
    now += 10;
    await elsewhere.revokeSession(t.sid, Math.ceil(now / 1000) + 3600);
    expect(await elsewhere.check(t)).toBe('revoked_session');
    now = askedAt + CACHE_MS - 1;
    expect(await here.check(t)).toBe('ok'); // within the documented delay
    now = askedAt + CACHE_MS;
    expect(await here.check(t)).toBe('revoked_session');
    const r = reads();
    expect(await here.check(t)).toBe('revoked_session'); // a revoked answer is not cached: asked again, still revoked
    expect(reads() - r).toBe(1);
  });

  it('a revocation made through this instance is refused here at once (token, session and log-out-everywhere)', async () => {
    const here = denylist(60_000);
    const [a, b, c] = [token(), token(), token()];
    for (const t of [a, b, c]) expect(await here.check(t)).toBe('ok');
    await here.revokeToken(a.jti, Math.ceil(now / 1000) + 3600);
    expect(await here.check(a)).toBe('revoked');
    await here.revokeSession(b.sid, Math.ceil(now / 1000) + 3600);
    expect(await here.check(b)).toBe('revoked_session');
    await here.revokeUser(c.sub, now, Math.ceil(now / 1000) + 3600);
    expect(await here.check(c)).toBe('revoked_user');
  });

  it('with 0 every check reads the denylist', async () => {
    const here = denylist(0);
    const t = token();
    const r = reads();
    for (let i = 0; i < 3; i++) expect(await here.check(t)).toBe('ok');
    expect(reads() - r).toBe(3);
  });

  it(`SESSION_REVOCATION_CACHE_MS: ${DEFAULTS.revocationCacheMs} ms unless set, 0-60000, anything else refused`, () => {
    const base = { [V.STORE]: 'jwt', [V.JWT_PRIVATE_KEY]: 'pem', [V.JWT_ISSUER]: 'i', [V.JWT_AUDIENCE]: 'a' };
    expect(parseSessionEnv(base).jwt?.revocationCacheMs).toBe(1000);
    expect(parseSessionEnv({ ...base, [V.REVOCATION_CACHE_MS]: '0' }).jwt?.revocationCacheMs).toBe(0);
    expect(parseSessionEnv({ ...base, [V.REVOCATION_CACHE_MS]: '250' }).jwt?.revocationCacheMs).toBe(250);
    expect(() => parseSessionEnv({ ...base, [V.REVOCATION_CACHE_MS]: '60001' })).toThrow(SessionEnvError);
    expect(() => parseSessionEnv({ ...base, [V.REVOCATION_CACHE_MS]: '-1' })).toThrow(/SESSION_REVOCATION_CACHE_MS must be a whole number from 0 to 60000/);
  });
});
