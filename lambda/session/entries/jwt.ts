/**
 * `cdk-sessions/runtime/jwt`: stateless JWT sessions (SESSION_STORE=jwt). The session lives in a
 * short-lived ES256 token in the cookie, signed locally or by KMS, verified with jose, revoked
 * through a DynamoDB denylist. Build it from the environment with {@link createJwtRuntime}
 * (createSessionRuntime is for stored sessions and refuses SESSION_STORE=jwt).
 *
 * @example
 * ```ts
 * import { parseSessionEnv } from 'cdk-sessions/runtime';
 * import { createJwtRuntime } from 'cdk-sessions/runtime/jwt';
 *
 * const jwt = await createJwtRuntime(parseSessionEnv(process.env));
 * const issued = await jwt.sessions.issue({ sub: 'alice', cart: [], prefs: {}, custom: { tenant: 'acme' } });
 * // response header: Set-Cookie: issued.setCookie
 * const session = await jwt.sessions.load(request.headers.cookie); // session?.claims.custom.tenant === 'acme'
 * await jwt.close(); // at shutdown
 * ```
 */
export * from '../jwt';
