/**
 * The construct half's copy of the seam (lib/core/session-env.ts, which jsii carries to every
 * language) and the runtime's (lambda/session/env.ts, which must not load aws-cdk-lib) hold the
 * same names, store kinds and defaults.
 */
import { DEFAULTS, SessionEnvVars as RuntimeEnvVars, STORE_KINDS as RUNTIME_STORE_KINDS } from '../../../lambda/session/env';
import { RUNTIME_DEFAULTS, SessionEnvVars, SessionStoreKind, STORE_KINDS } from '../../../lib/core/session-env';
import { PropsValidation, PropsValidationError } from '../../../lib/core/validate';
import { S3SessionStore, SessionStoreDefaults } from '../../../lib/stores';
import {
  DEFAULT_AURORA_POSTGRES_VERSION,
  DEFAULT_MEMCACHED_ENGINE_VERSION,
  DEFAULT_MEMCACHED_PORT,
  DEFAULT_REPLICATION_GROUP_PORT,
  RDS_PROXY_POSTGRES_PORT,
  REVOCATION_TABLE_PARTITION_KEY,
  REVOCATION_TABLE_TTL_ATTRIBUTE,
  S3_REQUEST_METRICS_ID,
  SESSION_TABLE_PARTITION_KEY,
  SESSION_TABLE_TTL_ATTRIBUTE,
} from '../../../lib/stores';
import { newStack } from '../helpers';

/** The static string members of a class, name → value. */
function staticStrings(c: object): { [name: string]: unknown } {
  return Object.fromEntries(Object.getOwnPropertyNames(c).filter((n) => !['length', 'name', 'prototype'].includes(n) && !n.startsWith('__')).map((n) => [n, (c as any)[n]]));
}

test('SessionEnvVars of the constructs has every runtime name, with the same value, and no other', () => {
  expect(staticStrings(SessionEnvVars)).toEqual({ ...RuntimeEnvVars });
});

test('SessionStoreKind is the runtime store kinds, in the same order', () => {
  expect(Object.values(SessionStoreKind)).toEqual([...RUNTIME_STORE_KINDS]);
  expect([...STORE_KINDS]).toEqual([...RUNTIME_STORE_KINDS]);
});

test('the runtime defaults the constructs apply are the runtime\'s', () => {
  for (const [name, value] of Object.entries(RUNTIME_DEFAULTS)) expect([name, value]).toEqual([name, (DEFAULTS as any)[name]]);
});

test('SessionStoreDefaults carries the TypeScript constants to every language', () => {
  expect(staticStrings(SessionStoreDefaults)).toEqual({
    REPLICATION_GROUP_PORT: DEFAULT_REPLICATION_GROUP_PORT,
    MEMCACHED_PORT: DEFAULT_MEMCACHED_PORT,
    MEMCACHED_ENGINE_VERSION: DEFAULT_MEMCACHED_ENGINE_VERSION,
    AURORA_POSTGRES_VERSION: DEFAULT_AURORA_POSTGRES_VERSION,
    RDS_PROXY_POSTGRES_PORT,
    SESSION_TABLE_PARTITION_KEY,
    SESSION_TABLE_TTL_ATTRIBUTE,
    REVOCATION_TABLE_PARTITION_KEY,
    REVOCATION_TABLE_TTL_ATTRIBUTE,
    S3_REQUEST_METRICS_ID,
  });
});

describe('PropsValidation tells the props error apart in every language', () => {
  const thrown = (): unknown => {
    try {
      new S3SessionStore(newStack(), 'S', { prefix: '' });
    } catch (e) {
      return e;
    }
    return undefined;
  };

  test('a store with bad props throws a PropsValidationError; PropsValidation names its problems and path', () => {
    const e = thrown();
    expect(e).toBeInstanceOf(PropsValidationError);
    expect(PropsValidation.isPropsValidationError(e)).toBe(true);
    expect(PropsValidation.problemsOf(e)).toEqual([expect.stringMatching(/prefix/)]);
    expect(PropsValidation.constructPathOf(e)).toMatch(/\/S$/);
  });

  test('another error is not one: no problems, no path', () => {
    for (const e of [new Error('Invalid props for x'), { problems: ['forged'], constructPath: 'x' }, undefined, 'text']) {
      expect(PropsValidation.isPropsValidationError(e)).toBe(false);
      expect(PropsValidation.problemsOf(e)).toEqual([]);
      expect(PropsValidation.constructPathOf(e)).toBeUndefined();
    }
  });
});
