/**
 * derToJose against real ECDSA signatures from node:crypto (OpenSSL): sign with dsaEncoding
 * 'der', convert, and the result must verify as 'ieee-p1363' and re-encode to the very same DER.
 * Keys and messages come from a seeded generator (ECDSA nonces are still random, so each run sees
 * fresh signatures); the loop keeps going until it has seen R and S with stripped leading zero
 * bytes and with 0x00 pad bytes, and the test asserts those cases were among the ones checked.
 */
import { createECDH, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { derToJose, DerSignatureError } from '../../lambda/session/jwt/der';

/** xorshift128+ style PRNG (deterministic keys and messages). */
function prng(seed: number): (n: number) => Buffer {
  let a = seed >>> 0 || 1;
  let b = 0x9e3779b9;
  const next = () => {
    let t = a ^ (a << 11);
    a = b;
    b = (b ^ (b >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return b;
  };
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = next() & 0xff;
    return out;
  };
}

/** A P-256 key from a 32-byte seed scalar. */
function keyFromScalar(d: Buffer): { priv: KeyObject; pub: KeyObject } {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pt = ecdh.getPublicKey(); // 0x04 || X || Y
  const jwk = { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pt.subarray(1, 33).toString('base64url'), y: pt.subarray(33).toString('base64url') };
  const priv = createPrivateKey({ key: jwk, format: 'jwk' });
  return { priv, pub: createPublicKey(priv) };
}

/** Independent minimal DER encoder, the inverse of derToJose (test-side reference). */
function joseToDer(jose: Buffer): Buffer {
  const int = (v: Buffer) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    let body = v.subarray(i);
    if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(jose.subarray(0, 32)), int(jose.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

/** DER lengths of r and s in an ECDSA-Sig-Value with short-form lengths. */
function intLengths(der: Buffer): { r: number; s: number } {
  const r = der[3];
  return { r, s: der[4 + r + 1] };
}

describe('derToJose on node:crypto signatures', () => {
  test('3000+ seeded keys and messages: DER → R||S verifies as ieee-p1363 and re-encodes to the same DER, incl. leading-zero and 0x00-padded R and S', () => {
    const rand = prng(20240607);
    const seen = { rShort: 0, sShort: 0, rPadded: 0, sPadded: 0, rFull: 0 };
    let checked = 0;
    let key = keyFromScalar(rand(32));
    for (let i = 0; i < 20_000; i++) {
      if (i % 3 === 0) key = keyFromScalar(rand(32)); // ~1000+ keys, 3 messages each
      const msg = rand(1 + (rand(1)[0] % 200));
      const der = sign('sha256', msg, { key: key.priv, dsaEncoding: 'der' });
      const jose = derToJose(der);
      expect(jose).toHaveLength(64);
      expect(verify('sha256', msg, { key: key.pub, dsaEncoding: 'ieee-p1363' }, jose)).toBe(true);
      expect(joseToDer(jose).equals(der)).toBe(true);
      const { r, s } = intLengths(der);
      if (r < 32) seen.rShort++;
      if (s < 32) seen.sShort++;
      if (r === 33) seen.rPadded++;
      if (s === 33) seen.sPadded++;
      if (r === 32) seen.rFull++;
      checked++;
      if (checked >= 3000 && seen.rShort > 0 && seen.sShort > 0) break;
    }
    expect(checked).toBeGreaterThanOrEqual(3000);
    // Leading zero byte stripped (R or S < 2^248, ~1 in 256 each) and 0x00 pads (top bit set, ~1 in 2).
    expect(seen.rShort).toBeGreaterThan(0);
    expect(seen.sShort).toBeGreaterThan(0);
    expect(seen.rPadded).toBeGreaterThan(0);
    expect(seen.sPadded).toBeGreaterThan(0);
    expect(seen.rFull).toBeGreaterThan(0);
  });

  test('a short R is left-padded with zeros to 32 bytes (hand-made R = 1, S = 2^255)', () => {
    const s = Buffer.alloc(32);
    s[0] = 0x80;
    const der = Buffer.concat([Buffer.from([0x30, 3 + 35, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00]), s]);
    const jose = derToJose(der);
    expect(jose.subarray(0, 31).every((b) => b === 0)).toBe(true);
    expect(jose[31]).toBe(1);
    expect(jose.subarray(32).equals(s)).toBe(true);
  });
});

describe('derToJose rejects malformed DER', () => {
  // One fixed signature (ECDSA is randomized, so it is made once and reused by every case).
  const reference = sign('sha256', Buffer.from('x'), { key: keyFromScalar(Buffer.alloc(32, 7)).priv, dsaEncoding: 'der' });
  const good = (): Buffer => Buffer.from(reference);
  const int = (bytes: number[]) => Buffer.from([0x02, bytes.length, ...bytes]);
  const seq = (...parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  };
  const cases: Array<[string, () => Buffer, RegExp]> = [
    ['empty input', () => Buffer.alloc(0), /truncated/],
    ['not a SEQUENCE', () => Buffer.from([0x31, ...good().subarray(1)]), /not a SEQUENCE/],
    ['SEQUENCE length too long', () => Buffer.from([0x30, good()[1] + 1, ...good().subarray(2)]), /does not match/],
    ['truncated input', () => good().subarray(0, good().length - 1), /does not match/],
    ['trailing byte after the SEQUENCE', () => Buffer.concat([good(), Buffer.from([0])]), /does not match/],
    ['trailing bytes inside the SEQUENCE', () => seq(int([1]), int([2]), Buffer.from([0x05, 0x00])), /trailing bytes/],
    ['r is not an INTEGER', () => seq(Buffer.from([0x04, 1, 1]), int([2])), /r is not an INTEGER/],
    ['s missing', () => seq(int([1])), /truncated at s tag/],
    ['empty INTEGER', () => seq(Buffer.from([0x02, 0]), int([2])), /r is empty/],
    ['negative r', () => seq(int([0x80, 1]), int([2])), /r is negative/],
    ['non-minimal leading zero on s', () => seq(int([1]), int([0x00, 0x7f])), /s has a non-minimal leading zero/],
    ['zero r', () => seq(int([0x00]), int([2])), /r is zero/],
    ['r of 33 bytes without a pad', () => seq(int(Array(33).fill(0x11)), int([2])), /r is longer than 32 bytes/],
    ['r of 34 bytes with a pad', () => seq(int([0, ...Array(33).fill(0x81)]), int([2])), /r is longer than 32 bytes/],
    ['INTEGER running past the end', () => Buffer.from([0x30, 4, 0x02, 9, 1, 1]), /runs past the end/],
    ['long-form length that is not minimal', () => Buffer.from([0x30, 0x81, 0x06, 0x02, 1, 1, 0x02, 1, 2]), /non-minimal length/],
    ['unsupported length form', () => Buffer.from([0x30, 0x82, 0x00, 0x06, 0x02, 1, 1, 0x02, 1, 2]), /unsupported length form/],
  ];
  test.each(cases)('%s', (_name, make, message) => {
    expect(() => derToJose(make())).toThrow(DerSignatureError);
    expect(() => derToJose(make())).toThrow(message);
  });

  test('the well-formed reference signature used above is accepted (so the cases differ only in the defect)', () => {
    expect(derToJose(good())).toHaveLength(64);
    expect(derToJose(seq(int([1]), int([2])))).toHaveLength(64);
  });
});
