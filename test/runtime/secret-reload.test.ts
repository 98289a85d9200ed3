/**
 * Cookie secrets reloaded while the process runs (lambda/session/secret-reload.ts), so a rotation
 * that prepends a secret logs no one out: periodically, and at once (rate-limited) when a cookie's
 * signature matches none of the known secrets.
 *
 * The source is a real file (SESSION_COOKIE_SECRET_FILE), rewritten by the test; the Secrets
 * Manager source is exercised against test/support/app-secrets.ts, a local HTTP server that
 * answers the one GetSecretValue call through the real AWS SDK client. Secrets Manager itself is
 * not emulated here (there is no local emulator): its versions, stages and rotation Lambda are not
 * exercised; only what the runtime reads from it is.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createApp } from '../../lambda/app/app';
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { signSessionId } from '../../lambda/session/cookies';
import { parseSessionEnv } from '../../lambda/session/env';
import { cookieSecretSource, createSessionRuntime, type SessionRuntime } from '../../lambda/session/from-env';
import { SessionManager } from '../../lambda/session/manager';
import { CookieSecretReloader } from '../../lambda/session/secret-reload';
import { MemoryStore } from '../../lambda/session/stores/memory';
import { startSecretsStandIn } from '../support/app-secrets';
import { httpApiSend } from '../support/app-client';
import { startBlackhole } from '../support/outage';

const OLD = 'old-cookie-secret-0123456789abcdef-old';
const NEW = 'new-cookie-secret-0123456789abcdef-new';
const FORGER = 'a-secret-no-one-configured-0123456789';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
/** A new secret file holding `secrets` (comma list). */
function secretFile(...secrets: string[]): string {
  const f = join(dir, `cookie-${++seq}`);
  writeFileSync(f, secrets.join(','));
  return f;
}

const cookieFor = (id: string, secret: string) => `sid=${signSessionId(id, [secret])}`;

/** Warnings a test can read. */
function captureLog(): { warn(m: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m: string) => void lines.push(m) };
}

/** A manager whose secrets come from `file`, wired to a reloader as createSessionRuntime wires them, with a clock the test moves. */
async function fileBacked(file: string, opts: { intervalMs?: number; minGapMs?: number } = {}) {
  const clock = { now: 1_000_000 };
  const log = captureLog();
  const env = parseSessionEnv({ SESSION_COOKIE_SECRET_FILE: file, SESSION_COOKIE_SECURE: 'false' });
  const source = cookieSecretSource(env, () => {
    throw new Error('no Secrets Manager in a file-backed test');
  })!;
  const initial = await source.read();
  let reloader: CookieSecretReloader | undefined;
  const manager = new SessionManager({ store: new MemoryStore(), secrets: initial, secure: false, onUnknownSignature: () => reloader!.onUnknownSignature() });
  reloader = new CookieSecretReloader({ source: source.read, sourceName: source.name, initial, apply: (s) => manager.setSecrets(s), intervalMs: opts.intervalMs ?? 0, minGapMs: opts.minGapMs, logger: log, now: () => clock.now }).start();
  return { manager, reloader, clock, log };
}

async function until(ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await ok()); ) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('periodic reload: a secret prepended to the file verifies without a restart, the manager signs with it, and the old one still verifies', async () => {
  const file = secretFile(OLD);
  const { manager, reloader } = await fileBacked(file, { intervalMs: 50 });
  try {
    const s = await manager.create({ user: 'ada' });
    expect(manager.idFromCookies(cookieFor(s.id, NEW))).toBeUndefined();
    writeFileSync(file, `${NEW},${OLD}`);
    await until(() => manager.idFromCookies(cookieFor(s.id, NEW)) === s.id);
    expect(manager.idFromCookies(cookieFor(s.id, OLD))).toBe(s.id);
    expect(manager.setCookie(s)).toContain(`sid=${signSessionId(s.id, [NEW])};`);
    expect(reloader.secrets).toEqual([NEW, OLD]);
  } finally {
    reloader.stop();
  }
});

test('unknown signature: the request that carries it reloads at once and is served; further ones reload at most once per gap, however many arrive', async () => {
  const file = secretFile(OLD);
  const { manager, reloader, clock } = await fileBacked(file, { minGapMs: 10_000 });
  try {
    const s = await manager.create({ user: 'ada' });
    writeFileSync(file, `${NEW},${OLD}`); // the rotation, not yet seen here
    // The first cookie signed with the new secret reloads and is served in the same request.
    expect((await manager.load(cookieFor(s.id, NEW)))?.data).toEqual({ user: 'ada' });
    expect(reloader.reloads).toBe(1);
    // Forged cookies (well-formed, signed with a secret no one has) within the gap: no reload, no session.
    const forged = await Promise.all(Array.from({ length: 50 }, () => manager.load(cookieFor(s.id, FORGER))));
    expect(forged.every((f) => f === undefined)).toBe(true);
    expect(reloader.reloads).toBe(1);
    // Past the gap, 50 at once: one reload between them, and they all wait for it.
    clock.now += 10_000;
    await Promise.all(Array.from({ length: 50 }, () => manager.load(cookieFor(s.id, FORGER))));
    expect(reloader.reloads).toBe(2);
    // A malformed cookie is no signature at all: it never reloads.
    clock.now += 10_000;
    expect(await manager.load('sid=not-a-signed-value')).toBeUndefined();
    expect(await manager.modify('sid=not-a-signed-value', (d) => ({ ...d, x: 1 }))).toBeUndefined();
    expect(reloader.reloads).toBe(2);
  } finally {
    reloader.stop();
  }
});

test('through the app: a cookie signed with a secret not loaded yet gets 401 but is not cleared while reloads are rate-limited, and is served once the reload comes', async () => {
  const file = secretFile(OLD);
  const { manager, reloader, clock } = await fileBacked(file, { minGapMs: 10_000 });
  try {
    const send = httpApiSend(createApp({ manager, authenticator: new OpenAuthenticator(), servedBy: 'rotation' }));
    const get = (cookie: string) => send({ method: 'GET', path: '/session', headers: {}, cookies: [cookie] });
    const s = await manager.create({ user: 'ada' });
    // A forged cookie spends the reload of this gap; then the rotation lands in the source.
    expect((await get(cookieFor(s.id, FORGER))).status).toBe(401);
    writeFileSync(file, `${NEW},${OLD}`);
    const early = await get(cookieFor(s.id, NEW));
    expect(early.status).toBe(401);
    expect(early.setCookies).toEqual([]); // left in the browser: it may be signed with a newer secret
    clock.now += 10_000;
    const later = await get(cookieFor(s.id, NEW));
    expect(later.status).toBe(200);
    expect(later.json).toMatchObject({ user: 'ada' });
    // A cookie whose signature verifies but names no session is still cleared.
    await manager.destroy(s);
    const gone = await get(cookieFor(s.id, NEW));
    expect(gone.status).toBe(401);
    expect(gone.setCookies.join(';')).toMatch(/sid=;/);
  } finally {
    reloader.stop();
  }
});

test('unknown signature on a write (modify) reloads too, and the write lands on the session', async () => {
  const file = secretFile(OLD);
  const { manager, reloader } = await fileBacked(file);
  try {
    const s = await manager.create({ n: 0 });
    writeFileSync(file, `${NEW},${OLD}`);
    const after = await manager.modify(cookieFor(s.id, NEW), (d) => ({ ...d, n: 1 }));
    expect(after).toMatchObject({ id: s.id, version: 2, data: { n: 1 } });
  } finally {
    reloader.stop();
  }
});

test('a failed reload (file gone, no secrets, a secret under 32 bytes, not JSON) keeps the secrets in use, logs why, and a later good file is applied', async () => {
  const file = secretFile(OLD);
  const { manager, reloader, log } = await fileBacked(file);
  try {
    const s = await manager.create({ user: 'ada' });
    const bad: Array<[string, () => void, RegExp]> = [
      ['file gone', () => unlinkSync(file), /ENOENT/],
      ['no secrets', () => writeFileSync(file, '[]'), /holds no secrets/],
      ['short secret', () => writeFileSync(file, `short,${OLD}`), /at least 32 bytes/],
      ['broken JSON', () => writeFileSync(file, '{"current":'), /does not parse/],
    ];
    for (const [name, breakIt, why] of bad) {
      breakIt();
      log.lines.length = 0;
      await expect(reloader.reload()).resolves.toBe(false);
      expect({ name, log: log.lines }).toEqual({ name, log: [expect.stringMatching(why)] });
      expect(log.lines[0]).toContain(file);
      expect(log.lines[0]).not.toContain(OLD); // the secret itself is never logged
      expect(reloader.secrets).toEqual([OLD]);
      expect(manager.idFromCookies(cookieFor(s.id, OLD))).toBe(s.id);
    }
    writeFileSync(file, NEW);
    await expect(reloader.reload()).resolves.toBe(true);
    expect(manager.idFromCookies(cookieFor(s.id, NEW))).toBe(s.id);
    // Dropped from the list: cookies signed with it stop verifying at once.
    expect(manager.idFromCookies(cookieFor(s.id, OLD))).toBeUndefined();
  } finally {
    reloader.stop();
  }
});

test('SESSION_COOKIE_SECRET_ARN: a secret prepended in Secrets Manager (local GetSecretValue stand-in) is read on the first cookie it signed', async () => {
  const sm = await startSecretsStandIn();
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cookie-rotate-AbCdEf';
  let rt: SessionRuntime | undefined;
  try {
    sm.secrets.set(arn, JSON.stringify([OLD]));
    rt = await createSessionRuntime(parseSessionEnv({ SESSION_STORE: 'memory', SESSION_COOKIE_SECRET_ARN: arn, SESSION_COOKIE_SECURE: 'false' }), { secretsManager: sm.client(), logger: captureLog() });
    const s = await rt.manager.create({ user: 'ada' });
    expect(sm.calls.get(arn)).toBe(1);
    sm.secrets.set(arn, JSON.stringify([NEW, OLD]));
    expect((await rt.manager.load(cookieFor(s.id, NEW)))?.id).toBe(s.id);
    expect(sm.calls.get(arn)).toBe(2);
    expect(rt.cookieSecrets?.secrets).toEqual([NEW, OLD]);
  } finally {
    await rt?.close();
    await sm.close();
  }
});

test('a Secrets Manager endpoint that never answers: the request waits no longer than waitMs, the reload fails after readTimeoutMs and the next one can run', async () => {
  const blackhole = await startBlackhole();
  const client = new SecretsManagerClient({ endpoint: blackhole.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const log = captureLog();
  try {
    const env = parseSessionEnv({ SESSION_COOKIE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hung-AbCdEf' });
    const source = cookieSecretSource(env, () => client)!;
    const readTimeoutMs = 1500;
    const reloader = new CookieSecretReloader({ source: source.read, initial: [OLD], apply: () => undefined, waitMs: 200, readTimeoutMs, logger: log });
    const t0 = performance.now();
    await expect(reloader.onUnknownSignature()).resolves.toBe(false);
    // The request's wait is bounded by waitMs, well before the read's own timeout.
    expect(performance.now() - t0).toBeLessThan(readTimeoutMs);
    await expect(reloader.reload()).resolves.toBe(false); // joins the running read, which times out
    expect(log.lines).toEqual([expect.stringMatching(/no answer within 1500 ms/)]);
    expect(reloader.reloads).toBe(1);
    await expect(reloader.reload()).resolves.toBe(false); // not stuck on the hung read: a new one runs
    expect(reloader.reloads).toBe(2);
    expect(reloader.secrets).toEqual([OLD]);
  } finally {
    client.destroy();
    await blackhole.close();
  }
});
