/**
 * RedisStore against real redis-server processes: the shared conformance suite on a plain
 * server, on a TLS-only server with requirepass, and with an ACL user; plus the TLS and AUTH
 * checks that show the security settings are really applied.
 */
import { StoreUnavailableError } from '../../lambda/session/errors';
import { RedisStore } from '../../lambda/session/stores/redis';
import { describeStoreConformance } from '../support/conformance';
import { RedisServer } from '../support/redis-server';

const quiet = { warn: () => undefined }; // reconnect warnings are expected where a test refuses a connection
const PASSWORD = 'test-auth-token-0123456789abcdef';

describe('redis store on a plain redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  describeStoreConformance('redis (plain)', () => ({ makeStore: async () => new RedisStore({ url: server.url() }) }));
});

describe('redis store on a TLS-only redis-server with requirepass (AUTH token)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start({ tls: true, password: PASSWORD });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  describeStoreConformance('redis (TLS + AUTH)', () => ({
    makeStore: async () => new RedisStore({ url: server.url(), credentials: { password: PASSWORD }, tls: { ca: server.certificates!.ca } }),
  }));

  it('refuses a server whose certificate is not signed by a trusted CA (no CA given → system CAs)', async () => {
    const store = new RedisStore({ url: server.url({ password: PASSWORD }), commandTimeoutMs: 1000, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('refuses a client without the AUTH token (StoreUnavailableError, not a crash)', async () => {
    const store = new RedisStore({ url: server.url(), tls: { ca: server.certificates!.ca }, commandTimeoutMs: 1000, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('takes the AUTH token from a rediss://:token@host URL', async () => {
    const store = new RedisStore({ url: server.url({ password: PASSWORD }), tls: { ca: server.certificates!.ca } });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('redis store with an ACL user (username + password)', () => {
  let server: RedisServer;
  const user = { username: 'sessions-app', password: 'acl-password-0123456789' };
  beforeAll(async () => {
    server = await RedisServer.start({ password: 'default-user-password-xyz', users: [user] });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  describeStoreConformance('redis (ACL user)', () => ({ makeStore: async () => new RedisStore({ url: server.url(), credentials: user }) }));

  it('a wrong ACL password is refused with StoreUnavailableError', async () => {
    const store = new RedisStore({ url: server.url(), credentials: { ...user, password: 'wrong' }, commandTimeoutMs: 1000, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
