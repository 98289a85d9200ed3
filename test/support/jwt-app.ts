/**
 * The JWT-mode reference app served the two ways it is deployed, for attack tests over HTTP:
 * through the Lambda adapter (API Gateway HTTP API v2 handler, in process) and as the instance
 * server (a child process on a loopback port). Both are built from the same SESSION_* environment,
 * use the real clock and the same dynalite denylist; and {@link forgeToken} signs arbitrary
 * headers and claims with the app's own key, so each attack differs from a genuine token by one defect.
 */
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { createJwtApp } from '../../lambda/app/jwt-app';
import { parseSessionEnv } from '../../lambda/session/env';
import { createJwtRuntime } from '../../lambda/session/jwt/from-env';
import type { JwtSigner } from '../../lambda/session/jwt/keys';
import { newJti, SESSION_TOKEN_TYP, signingInput } from '../../lambda/session/jwt/token';
import { LOCAL_AWS_ENV } from './app-backends';
import { Client, httpApiSend, httpSend, type Send } from './app-client';
import { startInstance } from './app-instance';
import type { Dynalite } from './dynalite';
import { REVOCATION_TABLE } from './jwt-denylist';

export const JWT_ISSUER = 'https://shop.test';
export const JWT_AUDIENCE = 'shop';

/** SESSION_STORE=jwt with a local key, the denylist on `dyn`, checked always; `extra` overrides. */
export function jwtEnv(key: { privatePem(): string }, dyn: Dynalite, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SESSION_STORE: 'jwt',
    SESSION_COOKIE_SECURE: 'false',
    SESSION_JWT_PRIVATE_KEY: key.privatePem(),
    SESSION_JWT_ISSUER: JWT_ISSUER,
    SESSION_JWT_AUDIENCE: JWT_AUDIENCE,
    SESSION_JWT_TTL: '900',
    SESSION_REVOCATION_TABLE: REVOCATION_TABLE,
    SESSION_REVOCATION_CHECK: 'always',
    SESSION_STORE_TIMEOUT_MS: '2000',
    AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint,
    ...LOCAL_AWS_ENV,
    ...extra,
  };
}

export type JwtTransport = 'lambda http-api adapter' | 'instance server';
export const JWT_TRANSPORTS: readonly JwtTransport[] = ['lambda http-api adapter', 'instance server'];

export interface ServedJwtApp {
  readonly transport: JwtTransport;
  /** A fresh browser-like client of this app. */
  client(): Client;
  close(): Promise<void>;
}

/**
 * The app from `env`, served over `transport`. The in-process runtime's AWS SDK reads the
 * endpoint and credentials from process.env, so the caller sets them (see {@link withProcessEnv}).
 */
export async function serveJwtApp(transport: JwtTransport, env: Record<string, string>): Promise<ServedJwtApp> {
  if (transport === 'instance server') {
    const inst = await startInstance({ ...env, SESSION_SERVED_BY: 'instance-jwt' });
    return { transport, client: () => new Client(httpSend(inst.port)), close: () => inst.dispose() };
  }
  const runtime = await createJwtRuntime(parseSessionEnv(env));
  const send: Send = httpApiSend(createJwtApp({ sessions: runtime.sessions, authenticator: new OpenAuthenticator(), servedBy: 'lambda-jwt' }));
  return { transport, client: () => new Client(send), close: () => runtime.close() };
}

/** Sets `vars` in process.env; the returned function restores what was there. */
export function withProcessEnv(vars: Record<string, string>): () => void {
  const saved = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Logs `user` in on `c` (the one place the tests say how a login is made). */
export async function jwtLogin(c: Client, user: string) {
  return c.post('/login', { user });
}

/**
 * A token as the app would issue it now for `sub` (new sid and jti, session starting now),
 * signed by `by`, with `claims` and `header` merged over the genuine ones; a value of
 * `undefined` removes that claim or header parameter.
 */
export async function forgeToken(by: JwtSigner, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, sub = 'mallory'): Promise<string> {
  const nowMs = Date.now();
  const t = Math.floor(nowMs / 1000);
  const payload = dropUndefined({ sub, cart: [], prefs: {}, sid: newJti(), sst: nowMs, iat: t, nbf: t, exp: t + 900, jti: newJti(), iss: JWT_ISSUER, aud: JWT_AUDIENCE, ...claims });
  const input = signingInput(dropUndefined({ alg: 'ES256', typ: SESSION_TOKEN_TYP, kid: by.kid, ...header }), payload);
  return `${input}.${Buffer.from(await by.sign(Buffer.from(input))).toString('base64url')}`;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
