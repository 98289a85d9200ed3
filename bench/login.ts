/**
 * How long a refused login takes, for a wrong password and for an unknown user, against
 * cognito-local through the reference app (HTTP API adapter, memory store): with the
 * authenticator's minimum failure time (the default) and without it (minFailureMs 0), to show
 * what the floor hides. Not a test: it prints numbers. `npm run bench -- login`
 */
import { createApp } from '../lambda/app/app';
import { CognitoAuthenticator, DEFAULT_MIN_FAILURE_MS } from '../lambda/session/auth/cognito';
import { SessionManager } from '../lambda/session/manager';
import { MemoryStore } from '../lambda/session/stores/memory';
import { TEST_SECRET } from '../test/support/app-backends';
import { Client, httpApiSend } from '../test/support/app-client';
import { CognitoLocal } from '../test/support/cognito';
import { quantile } from './stats';

const ROUNDS = Number(process.env.BENCH_LOGIN_ROUNDS ?? 40);

export async function main(): Promise<void> {
  const cognito = await CognitoLocal.start();
  const saved = process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER;
  process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = cognito.endpoint;
  try {
    const pool = await cognito.createPool();
    await cognito.createUser(pool, 'alice', 'Correct-Horse-Battery-1');
    console.log(`\n## Refused logins (cognito-local, ${ROUNDS} of each, interleaved; ms from request to answer)\n`);
    console.log('| minimum failure time | wrong password p50 / p90 | unknown user p50 / p90 | p50 difference |');
    console.log('| --- | --- | --- | --- |');
    for (const minFailureMs of [0, DEFAULT_MIN_FAILURE_MS]) {
      const authenticator = new CognitoAuthenticator({ ...pool, region: 'local', timeoutMs: 3000, minFailureMs });
      const app = createApp({ manager: new SessionManager({ store: new MemoryStore(), secrets: [TEST_SECRET], secure: false }), authenticator, servedBy: 'bench' });
      const c = new Client(httpApiSend(app));
      const times = { wrong: [] as number[], unknown: [] as number[] };
      const once = async (user: string) => {
        const t = process.hrtime.bigint();
        const r = await c.post('/login', { user, password: 'Wrong-Password-9' });
        if (r.status !== 401) throw new Error(`expected 401, got ${r.status}`);
        return Number(process.hrtime.bigint() - t) / 1e6;
      };
      await once('alice'); // warm the connection
      for (let i = 0; i < ROUNDS; i++) {
        times.wrong.push(await once('alice'));
        times.unknown.push(await once('mallory'));
      }
      authenticator.close();
      const w = times.wrong.sort((a, b) => a - b);
      const u = times.unknown.sort((a, b) => a - b);
      const f = (n: number) => n.toFixed(1);
      console.log(`| ${minFailureMs} ms | ${f(quantile(w, 0.5))} / ${f(quantile(w, 0.9))} | ${f(quantile(u, 0.5))} / ${f(quantile(u, 0.9))} | ${f(quantile(w, 0.5) - quantile(u, 0.5))} |`);
    }
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER;
    else process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = saved;
    await cognito.dispose();
  }
}

if (require.main === module) main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
