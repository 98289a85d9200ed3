/*
 * `@aws-cdk/aws-elasticache-alpha` is an optional package your app installs: only the serverless caches
 * (RedisSessionStore / MemcachedSessionStore with `serverless: true`) use it, so it is loaded
 * when one is built, and an app without it synthesizes every other store. Not exported.
 *
 * It is not listed in package.json's peerDependencies: jsii makes every peer a dependency of the
 * assembly (a required install in Python, Java, .NET and Go) and refuses a range ("*") that an
 * alpha version does not satisfy. The public API names no alpha type (the stores expose the
 * aws-cdk-lib resources under the alpha constructs), so the assembly does not need it.
 */
import type * as ElastiCacheAlpha from '@aws-cdk/aws-elasticache-alpha';

const MODULE = '@aws-cdk/aws-elasticache-alpha';
/** The oldest alpha this library is tested with. */
const MIN_ALPHA = '2.235.1-alpha.0';

/**
 * The alpha module, loaded now. Throws an error that names the package and what needs it when
 * the app does not have it installed.
 *
 * @param feature what needs it, e.g. "RedisSessionStore with serverless: true"
 */
export function loadElastiCacheAlpha(feature: string): typeof ElastiCacheAlpha {
  let alpha: typeof ElastiCacheAlpha;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    alpha = require(MODULE);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(MODULE)) throw err;
    throw new Error(
      `cdk-sessions: ${feature} needs ${MODULE}, which is not installed (cdk-sessions loads it only for serverless caches). ` +
        `Install the version made for your aws-cdk-lib (npm install ${MODULE}@<your aws-cdk-lib version>-alpha.0), ` +
        'or use a provisioned cache (serverless: false).',
    );
  }
  // No version range is declared (npm matches none across alpha versions); older alphas lack these.
  if (typeof alpha.ServerlessCache !== 'function' || alpha.CacheEngine?.VALKEY_8 === undefined || alpha.UserEngine?.VALKEY === undefined) {
    throw new Error(`cdk-sessions: ${feature} needs ${MODULE} ${MIN_ALPHA} or newer (ServerlessCache with Valkey 8 and Valkey users).`);
  }
  return alpha;
}
