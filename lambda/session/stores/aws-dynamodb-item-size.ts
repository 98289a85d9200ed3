/**
 * DynamoDB item size, computed as AWS bills and limits it, so a store can refuse (or move to S3)
 * a session before it writes anything.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The hard limit on one DynamoDB item, names and values together: 400 KB. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/**
 * Bytes of an item made of string and integer attributes: for each attribute the UTF-8 length of
 * its name plus its value. A string counts its UTF-8 bytes. An integer counts one byte of
 * exponent plus its significant digits stored two per byte, pairs aligned on the decimal point
 * (so a leading digit at an even power of ten sits alone in its byte), plus one byte if negative.
 * Other types are not used by the stores and are refused.
 */
export function dynamoDbItemSize(item: Readonly<Record<string, AttributeValue>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += integerSize(value.N);
    else throw new Error(`dynamoDbItemSize: attribute "${name}" is neither S nor N`);
  }
  return bytes;
}

function integerSize(n: string): number {
  const m = /^(-?)0*(\d*)$/.exec(n);
  if (m === null) throw new Error(`dynamoDbItemSize: "${n}" is not an integer`);
  const [, sign, magnitude] = m;
  if (magnitude === '') return 1; // zero
  const exponent = magnitude.length - 1;
  const significant = magnitude.replace(/0+$/, '').length;
  const pairs = Math.ceil((significant + (exponent % 2 === 0 ? 1 : 0)) / 2);
  return 1 + pairs + (sign === '-' ? 1 : 0);
}
