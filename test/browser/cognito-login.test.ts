/**
 * The session page's login form against a real credential check, as a deployed stack runs it:
 * SESSION_AUTH=cognito against cognito-local (test/support/cognito.ts), NODE_ENV=production,
 * Redis store, 2 instance servers behind haproxy, in Debian's chromium.
 */
import { Cluster } from '../../lab/cluster';
import { LOCAL_AWS_ENV } from '../support/app-backends';
import { removeInstanceBundle } from '../support/app-instance';
import { launchChromium, type Browser } from '../support/chromium';
import { CognitoLocal, type CognitoPool } from '../support/cognito';
import { TOPOLOGIES, type StoreHandle } from '../../lab/topologies';
import { SessionPage } from './session-page';

jest.setTimeout(90_000);

const PASSWORD = 'Correct-Horse-Battery-1';
let cognito: CognitoLocal;
let pool: CognitoPool;
let store: StoreHandle;
let cluster: Cluster;
let browser: Browser;

beforeAll(async () => {
  cognito = await CognitoLocal.start();
  pool = await cognito.createPool();
  await cognito.createUser(pool, 'alice', PASSWORD);
  store = await TOPOLOGIES.find((t) => t.name === 'redis')!.start();
  cluster = await Cluster.start({
    env: { ...store.env, ...LOCAL_AWS_ENV, ...cognito.env(pool), SESSION_COOKIE_SECURE: 'true', NODE_ENV: 'production' },
    stickiness: { kind: 'none' },
    instances: 2,
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
  await store?.stop();
  await cognito?.dispose();
  removeInstanceBundle();
});

test('SESSION_AUTH=cognito: a wrong password shows "Login failed" and sets no cookie; the right one logs in, and both instances know the session', async () => {
  const p = new SessionPage(await browser.newPage(), `http://localhost:${cluster.port}/`);
  expect((await p.open()).state).toBe('logged-out');
  const refused = await p.login('alice', 'wrong-password-1');
  expect(refused.state).toBe('logged-out');
  expect(refused.notice).toMatch(/^Login failed: login_failed: /);
  expect(await p.page.inputValue('#login-password')).toBe(''); // the password field is emptied either way
  expect((await p.page.context().cookies(p.url)).map((c) => c.name)).toEqual([]);

  const ok = await p.login('alice', PASSWORD);
  expect(ok.state).toBe('session');
  expect(ok.user).toBe('alice');
  expect(ok.notice).toBe('');
  const tally = await p.send20();
  expect(Object.keys(tally.counts).sort()).toEqual(['s1', 's2']);
  expect(tally.summary).toContain('Every answer held the same cart.');
});
