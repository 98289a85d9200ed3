/** Stateless JWT sessions: ES256 tokens signed locally or by KMS, verified with jose, revoked through a DynamoDB denylist. */
export { derToJose, DerSignatureError, P256_COORDINATE_BYTES } from './der';
export { JWT_ALG, LocalKeySigner, publicJwkFromPem, publicJwkFromSpki, publicJwkOf } from './keys';
export type { JwtSigner, PublicJwk } from './keys';
export { KmsSigner, kmsPublicJwk, KMS_RAW_MESSAGE_LIMIT } from './kms-signer';
export type { KmsSignerOptions } from './kms-signer';
export { checkCustomClaims, newJti, RESERVED_CLAIMS, SESSION_TOKEN_TYP, signToken, signingInput, tokenHeader, tokenPayload, TokenRejectedError, TokenVerifier } from './token';
export type { RejectReason, SessionClaims, TokenVerifierOptions } from './token';
export { DynamoDbDenylist, jtiKey, sidKey, userKey } from './denylist';
export type { Denylist, DenylistSubject, DenylistVerdict, DynamoDbDenylistOptions } from './denylist';
export { JwtSessionService, MAX_COOKIE_BYTES } from './service';
export type { IssuedToken, JwtSession, JwtSessionServiceOptions, SessionContent, SessionData } from './service';
export { createJwtRuntime } from './from-env';
export type { JwtRuntime, JwtRuntimeOptions } from './from-env';
