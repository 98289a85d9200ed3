/**
 * ES256 with an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY): the private key never leaves KMS.
 *
 * - sign: KMS `Sign` with MessageType RAW and ECDSA_SHA_256 (KMS hashes the signing input with
 *   SHA-256); KMS answers with a DER ECDSA-Sig-Value, which {@link derToJose} turns into the
 *   64-byte R || S that JWS wants. RAW messages are limited to 4096 bytes by KMS; a session
 *   token that fits a cookie is always below that, and a longer input is refused here, before the call.
 * - public key: KMS `GetPublicKey` (DER SubjectPublicKeyInfo) → JWK, once, when the signer is created.
 *   That is all a verifier needs, so verifiers get kms:GetPublicKey and never kms:Sign.
 */
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { derToJose } from './der';
import { JWT_ALG, publicJwkFromSpki } from './keys';
import type { JwtSigner, PublicJwk } from './keys';

/** KMS's limit on a RAW message to Sign. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

export interface KmsSignerOptions {
  /** Key id, key ARN, alias name or alias ARN. */
  readonly keyId: string;
  /** @default - a client with the SDK's region/endpoint chain (AWS_ENDPOINT_URL_KMS) and 2 attempts */
  readonly client?: KMSClient;
}

/** The public key of a KMS signing key, checked to be an ECC_NIST_P256 key that can sign with ECDSA_SHA_256. */
export async function kmsPublicJwk(client: KMSClient, keyId: string): Promise<PublicJwk> {
  const out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (out.KeySpec !== undefined && out.KeySpec !== 'ECC_NIST_P256') throw new Error(`KMS key ${keyId} is ${out.KeySpec}, not ECC_NIST_P256`);
  if (out.KeyUsage !== undefined && out.KeyUsage !== 'SIGN_VERIFY') throw new Error(`KMS key ${keyId} is for ${out.KeyUsage}, not SIGN_VERIFY`);
  if (out.SigningAlgorithms !== undefined && !out.SigningAlgorithms.includes('ECDSA_SHA_256')) {
    throw new Error(`KMS key ${keyId} cannot sign with ECDSA_SHA_256`);
  }
  if (!out.PublicKey) throw new Error(`KMS GetPublicKey for ${keyId} returned no public key`);
  return publicJwkFromSpki(out.PublicKey);
}

export class KmsSigner implements JwtSigner {
  readonly alg = JWT_ALG;

  private constructor(
    private readonly client: KMSClient,
    readonly keyId: string,
    private readonly jwk: PublicJwk,
  ) {}

  /** Fetches the public key (GetPublicKey) once and returns a ready signer. */
  static async create(opts: KmsSignerOptions): Promise<KmsSigner> {
    const client = opts.client ?? new KMSClient({ maxAttempts: 2 });
    return new KmsSigner(client, opts.keyId, await kmsPublicJwk(client, opts.keyId));
  }

  get kid(): string {
    return this.jwk.kid;
  }

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    if (signingInput.length > KMS_RAW_MESSAGE_LIMIT) {
      throw new Error(`the signing input is ${signingInput.length} bytes; KMS signs RAW messages of at most ${KMS_RAW_MESSAGE_LIMIT}`);
    }
    const out = await this.client.send(
      new SignCommand({ KeyId: this.keyId, Message: signingInput, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    if (!out.Signature) throw new Error('KMS Sign returned no signature');
    if (out.SigningAlgorithm !== undefined && out.SigningAlgorithm !== 'ECDSA_SHA_256') {
      throw new Error(`KMS signed with ${out.SigningAlgorithm}, not ECDSA_SHA_256`);
    }
    return derToJose(out.Signature);
  }

  publicJwk(): PublicJwk {
    return this.jwk;
  }
}
