/**
 * A body over the limit gets its 413, not a connection reset: the instance server answers at
 * once, reads and drops the rest of the body (up to a bound), and only then closes. Closing a
 * socket with unread bytes makes the kernel send RST, and a client that has not read the 413 by
 * then loses it. Proven on a real instance process (`node main.js`), directly and through
 * haproxy (the ALB's stand-in), with two kinds of client: one that reads while it sends (Node's
 * http client, like browsers) and one that reads only after sending everything (the worst case).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { baseEnv } from '../support/app-backends';
import { Client, httpSend } from '../support/app-client';
import { removeInstanceBundle, startInstance, type InstanceProcess } from '../support/app-instance';
import { Haproxy } from '../support/haproxy';

const MB = 1024 * 1024;
/** The instance server's default discard bound: 4 MiB (8 × the 16 KiB body limit is less). */
const DISCARD_BOUND = 4 * MB;
const TRIES = 20;

let inst: InstanceProcess;
let haproxy: Haproxy;

beforeAll(async () => {
  inst = await startInstance(baseEnv({ SESSION_STORE: 'memory', SESSION_SERVED_BY: 'big' }));
  haproxy = await Haproxy.start({ backends: [inst.port] });
});
afterAll(async () => {
  await haproxy?.stop();
  await inst?.dispose();
  removeInstanceBundle();
});

const head = (port: number, size: number) =>
  `POST /cart/items HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;

/** Node's http client (reads the answer while it sends): the status, or `error <code>`. */
function nodeClient(port: number, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/cart/items', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(res.statusCode === 413 && !/"body_too_large"/.test(text) ? '413 without the JSON error' : String(res.statusCode)));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    req.end(body);
  });
}

/** A client that reads nothing until its whole request is written: the status line it then reads, or `error <code>` / `closed`. */
function sendAllThenRead(port: number, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.pause();
    let data = '';
    let settled = false;
    const done = (outcome: string) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(outcome);
    };
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})[^]*\r\n\r\n/.exec(data);
      if (m) done(m[1]);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => done(`error ${e.code ?? e.message}`));
    sock.on('close', () => done(data === '' ? 'closed' : `closed after ${JSON.stringify(data.slice(0, 40))}`));
    sock.on('connect', () => {
      sock.write(head(port, body.length));
      sock.write(body, () => sock.resume());
    });
  });
}

const tally = (outcomes: string[]) => Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length]));

describe.each([
  ['directly', () => inst.port],
  ['through haproxy', () => haproxy.port],
])('%s', (_name, port) => {
  test(`a 2 MB JSON body to /cart/items gets 413 body_too_large on all ${TRIES} tries, with a client that reads while sending and one that reads only after`, async () => {
    const body = Buffer.from(JSON.stringify({ sku: 'big', qty: 1, pad: 'p'.repeat(2 * MB) }));
    const reading: string[] = [];
    const afterwards: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      reading.push(await nodeClient(port(), body));
      afterwards.push(await sendAllThenRead(port(), body));
    }
    expect({ reading: tally(reading), afterwards: tally(afterwards) }).toEqual({ reading: { 413: TRIES }, afterwards: { 413: TRIES } });
  });

  test('a body past the discard bound (16 MiB announced) ends in the 413 or a closed connection (EPIPE or reset), never a hang or another status; the server serves on', async () => {
    const body = Buffer.alloc(4 * DISCARD_BOUND, 0x61);
    const reading: string[] = [];
    const afterwards: string[] = [];
    for (let i = 0; i < 5; i++) {
      reading.push(await nodeClient(port(), body));
      afterwards.push(await sendAllThenRead(port(), body));
    }
    // Past the bound the server answers 413 and closes without reading: a client still sending meets a
    // closed connection, and reads the 413 only if it got to it first (measured: mostly EPIPE).
    const allowed = /^(413|error (EPIPE|ECONNRESET)|closed)$/;
    expect([...reading, ...afterwards].filter((o) => !allowed.test(o))).toEqual([]);
    const c = new Client(httpSend(port()));
    expect((await c.post('/login', { user: 'after-big' })).status).toBe(200);
    expect((await c.post('/cart/items', { sku: 'small', qty: 1 })).json).toEqual({ cart: [{ sku: 'small', qty: 1 }] });
  });
});
