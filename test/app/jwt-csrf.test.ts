/**
 * Cross-site refusal in JWT mode: the same check as in store mode (lambda/app/csrf.ts, applied
 * once by createSessionApp) guards the JWT app's own routes, /logout/everywhere included, through
 * both Lambda adapters and the instance server. Denylist on dynalite, as in jwt-routes.test.ts.
 */
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import type { App } from '../../lambda/app/app';
import { createJwtApp } from '../../lambda/app/jwt-app';
import { createInstanceServer, type InstanceServer } from '../../lambda/instance/server';
import { parseSessionEnv } from '../../lambda/session/env';
import { createJwtRuntime, type JwtRuntime } from '../../lambda/session/jwt/from-env';
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import { albSend, Client, httpApiSend, httpSend, type Send } from '../support/app-client';
import type { Dynalite } from '../support/dynalite';
import { jwtEnv } from '../support/jwt-app';
import { startDenylistDynalite } from '../support/jwt-denylist';

let dyn: Dynalite;
let runtime: JwtRuntime;
let app: App;
let instance: InstanceServer;
let port: number;
let env: Record<string, string>;
const saved = { ...process.env };

beforeAll(async () => {
  dyn = await startDenylistDynalite();
  const key = await LocalKeySigner.generate();
  env = jwtEnv(key, dyn);
  Object.assign(process.env, env); // the SDK's endpoint and credential chains read process.env
  runtime = await createJwtRuntime(parseSessionEnv(env));
  app = createJwtApp({ sessions: runtime.sessions, authenticator: new OpenAuthenticator(), servedBy: 'jwt-csrf' });
  instance = createInstanceServer({ app });
  port = await instance.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await instance?.shutdown(1000);
  await runtime?.close();
  await dyn?.close();
  for (const k of Object.keys(env ?? {})) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe.each([
  ['http-api', () => httpApiSend(app)],
  ['alb', () => albSend(app)],
  ['http', () => httpSend(port)],
] as Array<[string, () => Send]>)('via %s', (name, sendOf) => {
  // One user per transport: "log out everywhere" ends every earlier token of its user.
  const user = `jay-${name}`;
  test('a cross-site form post to every JWT route (logout, logout everywhere, login, cart, prefs) is a 403; the token keeps working; same-origin logout everywhere works', async () => {
    const c = new Client(sendOf());
    expect((await c.post('/login', { user })).status).toBe(200);
    const token = c.cookieHeader;
    const forged = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' };
    const routes: Array<[string, string]> = [
      ['POST', '/logout/everywhere'],
      ['POST', '/logout'],
      ['POST', '/login'],
      ['POST', '/cart/items'],
      ['PUT', '/prefs'],
    ];
    const outcomes = [];
    for (const [method, path] of routes) {
      const r = await c.req({ method, path, body: 'user=mallory&sku=evil&qty=1', headers: forged });
      outcomes.push([method, path, r.status, r.json?.error?.code, r.setCookies.length]);
    }
    expect(outcomes).toEqual(routes.map(([m, p]) => [m, p, 403, 'cross_site_request', 0]));
    expect(c.cookieHeader).toBe(token);
    expect((await c.get('/session')).json).toMatchObject({ user, cart: [] });
    expect((await c.post('/logout/everywhere')).status).toBe(204);
    expect((await c.get('/session', { cookie: token })).status).toBe(401);
  });
});
