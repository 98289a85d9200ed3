/**
 * Signers and public keys for ES256 session tokens.
 *
 * A {@link JwtSigner} turns a JWS signing input into a JOSE (R || S) signature and tells its
 * public key. Two exist: {@link LocalKeySigner} (a P-256 private key in this process, for
 * development and tests) and `KmsSigner` (./kms-signer.ts, the private key never leaves KMS).
 * A key's `kid` is its RFC 7638 JWK thumbprint (SHA-256), so the same key always gets the same
 * kid wherever it is loaded, and a verifier can name a previous key without knowing how it was stored.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';

/** The one algorithm session tokens use. */
export const JWT_ALG = 'ES256' as const;

/** A public P-256 key as a JWK, ready for a JWKS (kid, alg and use filled in). */
export interface PublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: typeof JWT_ALG;
  readonly use: 'sig';
}

export interface JwtSigner {
  /** RFC 7638 thumbprint of the public key; goes into the token header. */
  readonly kid: string;
  readonly alg: typeof JWT_ALG;
  /** JOSE signature (64 bytes, R || S) over the JWS signing input `base64url(header).base64url(payload)`. */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
  /** The public key that verifies this signer's signatures. */
  publicJwk(): PublicJwk;
}

/** A P-256 public key (any KeyObject form node:crypto accepts) as a {@link PublicJwk} with its thumbprint kid. */
export async function publicJwkOf(key: KeyObject): Promise<PublicJwk> {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ec' || pub.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`session tokens need a P-256 (prime256v1) EC key, got ${pub.asymmetricKeyType ?? pub.type} ${pub.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
  const jwk = pub.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new Error('the key does not export as a P-256 JWK');
  }
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, 'sha256');
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg: JWT_ALG, use: 'sig' };
}

/** A public JWK from a PEM (SPKI public key, or a PKCS#8 / SEC1 private key whose public half is taken). */
export function publicJwkFromPem(pem: string): Promise<PublicJwk> {
  return publicJwkOf(createPublicKey(pem));
}

/** A public JWK from DER SubjectPublicKeyInfo bytes (what KMS GetPublicKey returns). */
export function publicJwkFromSpki(spki: Uint8Array): Promise<PublicJwk> {
  return publicJwkOf(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }));
}

/** ES256 with a P-256 private key held in this process (development, tests, benchmarks). */
export class LocalKeySigner implements JwtSigner {
  readonly alg = JWT_ALG;

  private constructor(
    private readonly key: KeyObject,
    private readonly jwk: PublicJwk,
  ) {}

  get kid(): string {
    return this.jwk.kid;
  }

  /** From a PKCS#8 (or SEC1) PEM private key; `\n` escapes are accepted for environment variables. */
  static async fromPem(pem: string): Promise<LocalKeySigner> {
    const key = createPrivateKey(pem.replace(/\\n/g, '\n'));
    return new LocalKeySigner(key, await publicJwkOf(key));
  }

  /** A fresh random P-256 key. */
  static async generate(): Promise<LocalKeySigner> {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return new LocalKeySigner(privateKey, await publicJwkOf(privateKey));
  }

  /** The private key as PKCS#8 PEM (to hand to SESSION_JWT_PRIVATE_KEY in tests). */
  privatePem(): string {
    return this.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    return nodeSign('sha256', signingInput, { key: this.key, dsaEncoding: 'ieee-p1363' });
  }

  publicJwk(): PublicJwk {
    return this.jwk;
  }
}
