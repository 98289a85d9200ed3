/**
 * The instance server's BatchedLogger (lambda/instance/log.ts): the info lines it writes are the
 * lines Powertools' Logger would print (same keys, same order, same values but the timestamp),
 * written in batches (every 50 ms, or once per turn of the event loop) instead of once per line; warnings and errors go
 * through Powertools after the pending lines, so the order of lines is kept.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchedLogger } from '../../lambda/instance/log';

const nextTurn = () => new Promise((r) => setImmediate(r));

/** What a Powertools Logger made now prints for `fn`, one string per line. */
function powertoolsLines(opts: ConstructorParameters<typeof Logger>[0], fn: (l: Logger) => void): string[] {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk).replace(/\n$/, ''));
    return true;
  });
  try {
    fn(new Logger(opts)); // its Console is bound to process.stdout when it is made
  } finally {
    spy.mockRestore();
  }
  return lines;
}

test('an info line has the shape and key order of the line Powertools prints for the same call', async () => {
  const attrs = { requestId: 'r-1', method: 'GET', path: '/session', status: 200, session: undefined, ms: 3, note: 'q"uote\n' };
  const [theirs] = powertoolsLines({ serviceName: 'svc' }, (l) => l.info('request', attrs));
  const written: string[] = [];
  const ours = new BatchedLogger({ delegate: new Logger({ serviceName: 'svc' }), fields: { service: 'svc', sampling_rate: 0 }, write: (s) => written.push(s), flushIntervalMs: 0 });
  ours.info('request', attrs);
  await nextTurn();
  expect(written).toHaveLength(1);
  const mine = JSON.parse(written[0]) as Record<string, unknown>;
  const expected = JSON.parse(theirs) as Record<string, unknown>;
  expect(Object.keys(mine)).toEqual(Object.keys(expected));
  expect({ ...mine, timestamp: 'T' }).toEqual({ ...expected, timestamp: 'T' });
  expect(Date.parse(mine.timestamp as string)).toBeGreaterThan(Date.now() - 60_000);
  expect(written[0].endsWith('}\n')).toBe(true);
});

test('the lines logged within flushIntervalMs leave in one write, and are written once it has passed', async () => {
  const written: string[] = [];
  const log = new BatchedLogger({ delegate: { level: 12, info: jest.fn(), warn: jest.fn(), error: jest.fn() }, fields: {}, write: (s) => written.push(s), flushIntervalMs: 100 });
  const t0 = Date.now();
  log.info('a', {});
  await nextTurn();
  log.info('b', {});
  await nextTurn();
  if (Date.now() - t0 < 90) expect(written).toEqual([]); // (unless this machine paused the test for most of the interval)
  while (written.length === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
  expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  expect(written).toHaveLength(1);
  expect(written[0].split('\n').filter(Boolean).map((l) => JSON.parse(l).message)).toEqual(['a', 'b']);
});

test('with flushIntervalMs 0 the lines of one turn leave in one write; a warning first writes what is pending, then goes through Powertools', async () => {
  const written: string[] = [];
  const delegated: string[] = [];
  const delegate = { level: 12, info: jest.fn(), warn: (m: string) => delegated.push(`warn ${m} after ${written.length}`), error: jest.fn() };
  const log = new BatchedLogger({ delegate, fields: {}, write: (s) => written.push(s), flushIntervalMs: 0 });
  log.info('a', { n: 1 });
  log.info('b', {});
  expect(written).toEqual([]);
  await nextTurn();
  expect(written).toHaveLength(1);
  expect(written[0].split('\n').filter(Boolean).map((l) => JSON.parse(l).message)).toEqual(['a', 'b']);
  log.info('c', {});
  log.warn('careful');
  expect(delegated).toEqual(['warn careful after 2']);
  expect(JSON.parse(written[1]).message).toBe('c');
  log.flush();
  await nextTurn();
  expect(written).toHaveLength(2); // nothing left to write
});

test('info lines are dropped when the Powertools level is above INFO; BigInt attributes go through Powertools', async () => {
  const written: string[] = [];
  const quiet = new BatchedLogger({ delegate: { level: 16, info: jest.fn(), warn: jest.fn(), error: jest.fn() }, fields: {}, write: (s) => written.push(s) });
  quiet.info('dropped', {});
  await nextTurn();
  expect(written).toEqual([]);

  const info = jest.fn();
  const log = new BatchedLogger({ delegate: { level: 12, info, warn: jest.fn(), error: jest.fn() }, fields: {}, write: (s) => written.push(s) });
  log.info('big', { n: 1n });
  expect(info).toHaveBeenCalledWith('big', { n: 1n });
});
