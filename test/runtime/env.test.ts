import { parseSessionEnv, SessionEnvError, SessionEnvVars as V } from '../../lambda/session/env';

const SECRET = 's'.repeat(32);

describe('parseSessionEnv (the seam between constructs and runtime)', () => {
  it('defaults to the memory store with secure cookies and the documented timeouts', () => {
    const env = parseSessionEnv({ [V.COOKIE_SECRET]: SECRET });
    expect(env).toMatchObject({
      store: 'memory',
      port: 8080,
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 43200,
      storeTimeoutMs: 2000,
      cookie: { secrets: [SECRET], secure: true, name: 'sid' },
    });
  });

  it('SESSION_STORE unset is memory outside production, and an error naming the variable and every allowed value with NODE_ENV=production', () => {
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, NODE_ENV: 'development' }).store).toBe('memory');
    const prod = { [V.COOKIE_SECRET]: SECRET, NODE_ENV: 'production', [V.AUTH]: 'cognito', [V.COGNITO_USER_POOL_ID]: 'eu-west-1_AbC', [V.COGNITO_CLIENT_ID]: 'client1' };
    let problems: readonly string[] = [];
    try {
      parseSessionEnv(prod);
    } catch (err) {
      problems = (err as SessionEnvError).problems;
    }
    expect(problems).toEqual([
      'SESSION_STORE is required when NODE_ENV=production: set it to one of memory, redis, dynamodb, s3, memcached, postgres, jwt (memory keeps sessions in this process only)',
    ]);
    // Said explicitly, memory is still allowed in production (sticky instances keep their own sessions).
    expect(parseSessionEnv({ ...prod, [V.STORE]: 'memory' }).store).toBe('memory');
  });

  it('reads a rotation list of cookie secrets, first one first', () => {
    const other = 'o'.repeat(40);
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: `${SECRET}, ${other}` }).cookie.secrets).toEqual([SECRET, other]);
  });

  it('accepts a cookie secret ARN instead of a plain secret', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:cookie-AbCdEf';
    expect(parseSessionEnv({ [V.COOKIE_SECRET_ARN]: arn }).cookie).toMatchObject({ secrets: [], secretArn: arn });
  });

  it('accepts a cookie secret file instead, reloads both every 5 minutes unless told otherwise, and refuses an ARN and a file together', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:cookie-AbCdEf';
    expect(parseSessionEnv({ [V.COOKIE_SECRET_FILE]: '/run/secrets/cookie' }).cookie).toMatchObject({ secrets: [], secretFile: '/run/secrets/cookie', reloadSeconds: 300 });
    expect(parseSessionEnv({ [V.COOKIE_SECRET_ARN]: arn, [V.COOKIE_SECRET_RELOAD_SECONDS]: '0' }).cookie.reloadSeconds).toBe(0);
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET_ARN]: arn, [V.COOKIE_SECRET_RELOAD_SECONDS]: 'soon' })).toThrow(/SESSION_COOKIE_SECRET_RELOAD_SECONDS must be a whole number from 0 to 86400/);
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET_ARN]: arn, [V.COOKIE_SECRET_FILE]: '/f' })).toThrow(/set SESSION_COOKIE_SECRET_ARN or SESSION_COOKIE_SECRET_FILE, not both/);
  });

  it('parses each store kind with its own settings', () => {
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 'redis', [V.REDIS_URL]: 'rediss://h:6380', [V.REDIS_CLUSTER]: 'true' }).redis).toEqual({
      url: 'rediss://h:6380',
      authSecretArn: undefined,
      cluster: true,
    });
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 'dynamodb', [V.TABLE]: 't', [V.OVERFLOW_BUCKET]: 'b' }).dynamodb).toEqual({ table: 't', overflowBucket: 'b' });
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 's3', [V.BUCKET]: 'b' }).s3).toEqual({ bucket: 'b', prefix: 'sessions/' });
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 'memcached', [V.MEMCACHED_SERVERS]: 'a:11211,b:11212' }).memcached).toEqual({ servers: ['a:11211', 'b:11212'], tls: false });
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 'memcached', [V.MEMCACHED_SERVERS]: 'a:11211', [V.MEMCACHED_TLS]: 'true' }).memcached).toEqual({ servers: ['a:11211'], tls: true });
    expect(parseSessionEnv({ [V.STORE]: 'jwt', [V.JWT_PRIVATE_KEY]: 'pem', [V.JWT_ISSUER]: 'i', [V.JWT_AUDIENCE]: 'a' }).jwt).toMatchObject({ issuer: 'i', audience: 'a', ttlSeconds: 900, revocationCheck: 'always' });
  });

  it('lists every problem at once in one error', () => {
    let err: unknown;
    try {
      parseSessionEnv({
        [V.STORE]: 'redis',
        [V.PORT]: '99999',
        [V.IDLE_TIMEOUT]: 'soon',
        [V.COOKIE_SECURE]: 'yes',
        [V.COOKIE_NAME]: 'AWSALBAPP-0',
        [V.COOKIE_SECRET]: 'short',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SessionEnvError);
    const problems = (err as SessionEnvError).problems.join('\n');
    expect(problems).toContain(V.PORT);
    expect(problems).toContain(V.IDLE_TIMEOUT);
    expect(problems).toContain(V.COOKIE_SECURE);
    expect(problems).toContain('AWSALB');
    expect(problems).toContain('at least 32 bytes');
    expect(problems).toContain(`${V.REDIS_URL} is required`);
    expect((err as SessionEnvError).problems).toHaveLength(6);
  });

  it('rejects an unknown store, a non-redis URL and an absolute timeout shorter than the idle one', () => {
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 'mongo' })).toThrow(/SESSION_STORE must be one of/);
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.STORE]: 'redis', [V.REDIS_URL]: 'http://x' })).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.IDLE_TIMEOUT]: '600', [V.ABSOLUTE_TIMEOUT]: '60' })).toThrow(/must not be shorter/);
  });

  it('reads the written-sessions budget (unset: the runtime picks it) and refuses a bad one', () => {
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET }).writtenCacheChars).toBeUndefined();
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.WRITTEN_CACHE_CHARS]: '0' }).writtenCacheChars).toBe(0);
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.WRITTEN_CACHE_CHARS]: '1048576' }).writtenCacheChars).toBe(1048576);
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.WRITTEN_CACHE_CHARS]: '-1' })).toThrow(/SESSION_WRITTEN_CACHE_CHARS must be a whole number/);
  });

  it('requires a cookie secret unless the store is jwt', () => {
    expect(() => parseSessionEnv({})).toThrow(/SESSION_COOKIE_SECRET, SESSION_COOKIE_SECRET_ARN or SESSION_COOKIE_SECRET_FILE is required/);
  });

  it('reads SESSION_ALLOWED_ORIGINS as normalized origins (none by default) and names each entry that is not a bare origin', () => {
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET }).allowedOrigins).toEqual([]);
    expect(parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.ALLOWED_ORIGINS]: 'https://WWW.Example.com, http://localhost:3000,https://a.example:443/' }).allowedOrigins).toEqual([
      'https://www.example.com',
      'http://localhost:3000',
      'https://a.example',
    ]);
    expect(() => parseSessionEnv({ [V.COOKIE_SECRET]: SECRET, [V.ALLOWED_ORIGINS]: 'www.example.com,https://x.example/app,*' })).toThrow(
      /"www\.example\.com" must be an origin[\s\S]*"https:\/\/x\.example\/app" must be an origin[\s\S]*"\*" must be an origin/,
    );
  });
});
