/**
 * Builds the JWT runtime from the parsed environment (SESSION_STORE=jwt):
 * - signer: KMS (SESSION_JWT_KMS_KEY_ID; one GetPublicKey at start) or a local PEM
 *   (SESSION_JWT_PRIVATE_KEY, development and tests);
 * - previous keys that still verify: SESSION_JWT_PREVIOUS_KMS_KEY_IDS (GetPublicKey each) and/or
 *   SESSION_JWT_PREVIOUS_PUBLIC_KEYS (PEMs);
 * - denylist: SESSION_REVOCATION_TABLE (DynamoDB; AWS_ENDPOINT_URL_DYNAMODB for a local stand-in),
 *   consulted per SESSION_REVOCATION_CHECK;
 * - SESSION_ABSOLUTE_TIMEOUT: how long a session lives from login, however often it is renewed.
 * Once per process (cold start); the Lambda handlers memoize the app built on it.
 */
import { hostname } from 'node:os';
import { KMSClient } from '@aws-sdk/client-kms';
import type { SessionEnv } from '../env';
import { sdkClientConfig } from '../stores/aws-call';
import { timedStoreCall } from '../metrics';
import { DynamoDbDenylist } from './denylist';
import { LocalKeySigner, publicJwkFromPem } from './keys';
import type { JwtSigner, PublicJwk } from './keys';
import { KmsSigner, kmsPublicJwk } from './kms-signer';
import { JwtSessionService } from './service';

/** Options of {@link createJwtRuntime}. */
export interface JwtRuntimeOptions {
  /** @default - one client with the SDK's region/endpoint chain (AWS_ENDPOINT_URL_KMS), bounded timeouts */
  readonly kms?: KMSClient;
  /** Clock, epoch ms (tests). @default Date.now */
  readonly now?: () => number;
}

/** The stateless JWT session runtime of one process. */
export interface JwtRuntime {
  /** The environment it was built from. */
  readonly env: SessionEnv;
  /** Issues, verifies, renews and revokes session tokens: use it in your request handlers. */
  readonly sessions: JwtSessionService;
  /** SESSION_SERVED_BY, else the Lambda function name, else the host name. */
  readonly servedBy: string;
  /**
   * Closes the denylist's DynamoDB client and the KMS client the runtime created (one passed in
   * `opts.kms` is left to its owner). Afterwards nothing of the runtime keeps the event loop alive.
   * Call it once, at shutdown or at the end of a one-shot script.
   */
  close(): Promise<void>;
}

/**
 * Builds the stateless JWT session runtime (SESSION_STORE=jwt) from the parsed environment, as
 * the `JwtSessions` construct sets it: the signer (KMS key or local PEM), the keys of previous
 * signers that still verify, the revocation denylist and the lifetimes. This is the JWT
 * counterpart of `createSessionRuntime` (which builds stored sessions and refuses
 * SESSION_STORE=jwt). Throws when SESSION_STORE is not jwt, or when revocation is checked
 * (SESSION_REVOCATION_CHECK=always, the default) without SESSION_REVOCATION_TABLE.
 *
 * Imported from `cdk-sessions/runtime/jwt`. Once per process (cold start); reuse the result.
 *
 * @example
 * ```ts
 * import { parseSessionEnv } from 'cdk-sessions/runtime';
 * import { createJwtRuntime } from 'cdk-sessions/runtime/jwt';
 *
 * const { sessions } = await createJwtRuntime(parseSessionEnv(process.env));
 * // login: a token with the user's own claims, in the session cookie
 * const issued = await sessions.issue({ sub: 'alice', cart: [], prefs: {}, custom: { tenant: 'acme' } });
 * // later requests: undefined for no, expired or revoked token
 * const session = await sessions.load(request.headers.cookie);
 * // logout: every token of the session is refused from now on
 * if (session) await sessions.revoke(session);
 * ```
 */
export async function createJwtRuntime(env: SessionEnv, opts: JwtRuntimeOptions = {}): Promise<JwtRuntime> {
  const jwt = env.jwt;
  if (env.store !== 'jwt' || jwt === undefined) throw new Error('createJwtRuntime needs SESSION_STORE=jwt');
  if (jwt.revocationCheck === 'always' && jwt.revocationTable === undefined) {
    throw new Error('SESSION_REVOCATION_TABLE is required when SESSION_REVOCATION_CHECK=always (the default); set it to never to run without revocation');
  }
  const usesKms = jwt.kmsKeyId !== undefined || jwt.previousKmsKeyIds.length > 0;
  const kms = usesKms ? (opts.kms ?? new KMSClient(sdkClientConfig({ timeoutMs: env.storeTimeoutMs }))) : undefined;

  let signer: JwtSigner;
  if (jwt.kmsKeyId !== undefined) signer = await KmsSigner.create({ keyId: jwt.kmsKeyId, client: kms });
  else signer = await LocalKeySigner.fromPem(jwt.privateKeyPem!);
  const previousKeys: PublicJwk[] = [
    ...(await Promise.all(jwt.previousKmsKeyIds.map((id) => kmsPublicJwk(kms!, id)))),
    ...(await Promise.all((jwt.previousPublicKeyPems ?? []).map(publicJwkFromPem))),
  ];
  const denylist = jwt.revocationTable !== undefined ? new DynamoDbDenylist({
          table: jwt.revocationTable,
          timeoutMs: env.storeTimeoutMs,
          notRevokedCacheMs: jwt.revocationCacheMs,
          // Counted as store calls (StoreCalls/StoreErrors/StoreTimeouts/StoreLatency) when the runtime's metrics are on.
          observe: timedStoreCall,
        }) : undefined;
  const sessions = new JwtSessionService({
    signer,
    previousKeys,
    issuer: jwt.issuer,
    audience: jwt.audience,
    // A token is renewed on every change, so its lifetime is the idle limit: never longer than SESSION_IDLE_TIMEOUT.
    ttlSeconds: Math.min(jwt.ttlSeconds, env.idleTimeoutSeconds),
    absoluteTimeoutSeconds: env.absoluteTimeoutSeconds,
    denylist,
    revocationCheck: jwt.revocationCheck,
    cookieName: env.cookie.name,
    secure: env.cookie.secure,
    signTimeoutMs: env.storeTimeoutMs,
    now: opts.now,
  });
  return {
    env,
    sessions,
    servedBy: env.servedBy ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? hostname(),
    close: async () => {
      await sessions.close();
      if (opts.kms === undefined) kms?.destroy();
    },
  };
}
