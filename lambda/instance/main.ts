/**
 * Starts the instance server from the environment (design.md lists the variables):
 * `npm run serve`, or `node main.js` on an ASG instance. SIGTERM/SIGINT shut it down
 * gracefully (what the ALB deregistration delay relies on), close the store and exit 0.
 * SHUTDOWN_GRACE_MS (instance-only, default 25000) bounds how long in-flight requests may take.
 */
import { hostname } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import type { App } from '../app/app';
import { createAppFromEnv } from '../app/from-env';
import { parseSessionEnv } from '../session/env';
import { startRuntimeMetrics } from '../session/metrics';
import { BatchedLogger } from './log';
import { createInstanceServer } from './server';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'cdk-sessions';
const powertools = new Logger({ serviceName });
// Powertools' line shape, with the per-request info lines written in batches (see ./log).
const logger = new BatchedLogger({ delegate: powertools, fields: { service: serviceName, sampling_rate: samplingRate() } });
// The runtime's metrics (SESSION_METRICS=on): EMF lines every SESSION_METRICS_INTERVAL_SECONDS (60), and at exit.
const metrics = startRuntimeMetrics(process.env, { serviceName });
process.on('exit', () => {
  metrics.stop();
  logger.flush();
});

/** POWERTOOLS_LOGGER_SAMPLE_RATE as Powertools reports it in `sampling_rate` (0 when unset or invalid). */
function samplingRate(): number {
  const n = Number(process.env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? 0);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
}

async function main(): Promise<void> {
  const env = parseSessionEnv(process.env);
  let resolveApp!: (a: App) => void;
  const app = new Promise<App>((r) => (resolveApp = r));
  const instance = createInstanceServer({ app, logger });
  const port = await instance.listen(env.port);
  const servedBy = env.servedBy ?? `${hostname()}:${port}`;
  const runtime = await createAppFromEnv(env, { logger, servedBy });
  resolveApp(runtime.app);
  logger.info('listening', { port, servedBy, store: env.store });

  const graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? 25_000);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    let code = 0;
    try {
      await instance.shutdown(graceMs);
      await runtime.close();
    } catch (err) {
      logger.error('shutdown failed', { error: err instanceof Error ? err : new Error(String(err)) });
      code = 1;
    }
    logger.info('stopped', { code });
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  logger.error('failed to start', { error: err instanceof Error ? err : new Error(String(err)) });
  process.exit(1);
});
