/**
 * ECDSA signature encodings: KMS (like OpenSSL) returns the ASN.1 DER form
 *
 *   ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
 *
 * while JWS (RFC 7518 §3.4) wants R and S as fixed-size big-endian octets, concatenated. DER
 * INTEGERs are minimal and signed: a value whose top bit is set gets a 0x00 pad byte, and a
 * value with leading zero bytes loses them, so R or S may be anywhere from 1 to size + 1 bytes.
 * {@link derToJose} is strict: anything that is not exactly one minimal, positive, in-range
 * SEQUENCE of two INTEGERs is rejected with {@link DerSignatureError}.
 */

/** The DER input is not a well-formed ECDSA signature for the curve size. */
export class DerSignatureError extends Error {
  constructor(message: string) {
    super(`malformed DER ECDSA signature: ${message}`);
    this.name = 'DerSignatureError';
  }
}

/** Bytes of R and of S for P-256 (ES256). */
export const P256_COORDINATE_BYTES = 32;

/**
 * DER ECDSA-Sig-Value → JOSE `R || S`, each left-padded to `size` bytes (32 for ES256).
 * Throws {@link DerSignatureError} on anything malformed.
 */
export function derToJose(der: Uint8Array, size: number = P256_COORDINATE_BYTES): Buffer {
  let pos = 0;
  const byte = (what: string): number => {
    if (pos >= der.length) throw new DerSignatureError(`truncated at ${what}`);
    return der[pos++];
  };
  const length = (what: string): number => {
    const first = byte(`${what} length`);
    if (first < 0x80) return first;
    // Long form: only 0x81 (one length byte) can occur for curves up to P-521, and DER
    // requires it only for lengths of 128 and above.
    if (first !== 0x81) throw new DerSignatureError(`unsupported length form 0x${first.toString(16)} in ${what}`);
    const n = byte(`${what} length`);
    if (n < 0x80) throw new DerSignatureError(`non-minimal length in ${what}`);
    return n;
  };
  const integer = (name: 'r' | 's'): Buffer => {
    if (byte(`${name} tag`) !== 0x02) throw new DerSignatureError(`${name} is not an INTEGER`);
    const len = length(name);
    if (len === 0) throw new DerSignatureError(`${name} is empty`);
    if (pos + len > der.length) throw new DerSignatureError(`${name} runs past the end`);
    let value = der.subarray(pos, pos + len);
    pos += len;
    if (value[0] & 0x80) throw new DerSignatureError(`${name} is negative`);
    if (value[0] === 0x00) {
      // A pad byte is only allowed (and then required) in front of a byte with its top bit set.
      if (value.length === 1) throw new DerSignatureError(`${name} is zero`);
      if (!(value[1] & 0x80)) throw new DerSignatureError(`${name} has a non-minimal leading zero`);
      value = value.subarray(1);
    }
    if (value.length > size) throw new DerSignatureError(`${name} is longer than ${size} bytes`);
    const out = Buffer.alloc(size);
    out.set(value, size - value.length);
    return out;
  };

  if (byte('SEQUENCE tag') !== 0x30) throw new DerSignatureError('not a SEQUENCE');
  const seqLen = length('SEQUENCE');
  if (pos + seqLen !== der.length) throw new DerSignatureError('SEQUENCE length does not match the input');
  const r = integer('r');
  const s = integer('s');
  if (pos !== der.length) throw new DerSignatureError('trailing bytes inside the SEQUENCE');
  return Buffer.concat([r, s]);
}
