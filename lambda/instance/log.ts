/**
 * The instance server's logger: the same JSON lines Powertools' Logger prints, but the info lines
 * (one per request) are written in batches — the lines logged within `flushIntervalMs` (50 ms)
 * leave in a single write — instead of one synchronous write(2) per line, which on a busy
 * instance costs more CPU than the rest of the request. A process killed with SIGKILL loses at
 * most that interval's lines; on a normal exit (and before any warning or error) they are written.
 *
 * - info: `{"level":"INFO","message":…,"timestamp":…,<fields>,<attributes>}`, the shape and key order
 *   of Powertools' default formatter; dropped when the Powertools logger's level, as it is when
 *   this logger is made (POWERTOOLS_LOG_LEVEL), is above INFO.
 * - warn and error: handed to the Powertools logger (they carry Error objects, which it formats),
 *   after the pending info lines are written, so lines keep their order.
 * - flush(): writes what is pending, synchronously; call it before the process exits.
 */
import { LogLevelThreshold, type Logger } from '@aws-lambda-powertools/logger';
import type { AppLogger } from '../app/types';

export interface BatchedLoggerOptions {
  /** Formats and writes warnings and errors; its level decides whether info lines are written. */
  readonly delegate: Pick<Logger, 'info' | 'warn' | 'error' | 'level'>;
  /** Keys every info line carries after `timestamp`, as Powertools prints them (e.g. `service`, `sampling_rate`). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Where a batch of lines goes (newline-terminated). @default - stdout */
  readonly write?: (lines: string) => void;
  /** A batch this large is written at once, bytes (UTF-16 units). @default 65536 */
  readonly maxPending?: number;
  /** Longest a line waits to be written, ms; 0 writes each turn's lines on setImmediate. @default 50 */
  readonly flushIntervalMs?: number;
}

const ignore = (): void => undefined;

export class BatchedLogger implements AppLogger {
  private readonly delegate: BatchedLoggerOptions['delegate'];
  private readonly infoEnabled: boolean;
  private readonly fields: string;
  private readonly write: (lines: string) => void;
  private readonly maxPending: number;
  private readonly flushIntervalMs: number;
  private pending = '';
  private scheduled = false;
  private timer?: NodeJS.Timeout;
  /** The timestamp of the last line, kept for the lines logged in the same millisecond. */
  private stampMs = 0;
  private stamp = '';

  constructor(opts: BatchedLoggerOptions) {
    this.delegate = opts.delegate;
    // Read once: Powertools' level getter consults the environment on every call.
    this.infoEnabled = opts.delegate.level <= LogLevelThreshold.INFO;
    const f = JSON.stringify(opts.fields);
    this.fields = f === '{}' ? '' : `,${f.slice(1, -1)}`;
    this.maxPending = opts.maxPending ?? 65536;
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    if (opts.write) this.write = opts.write;
    else {
      const stdout = process.stdout;
      this.write = (lines) => {
        // As a Console does (Powertools writes through one): a write error, e.g. EPIPE, is ignored, not thrown.
        stdout.once('error', ignore);
        try {
          stdout.write(lines, ignore);
        } finally {
          stdout.removeListener('error', ignore);
        }
      };
    }
  }

  info(message: string, attributes: Record<string, unknown> = {}): void {
    if (!this.infoEnabled) return;
    let attrs: string;
    try {
      attrs = JSON.stringify(attributes);
    } catch {
      // Something JSON cannot hold (a BigInt, a cycle): Powertools' replacer knows what to do.
      this.flush();
      this.delegate.info(message, attributes);
      return;
    }
    const rest = attrs === '{}' ? '}' : `,${attrs.slice(1)}`;
    this.pending += `{"level":"INFO","message":${JSON.stringify(message)},"timestamp":"${this.timestamp()}"${this.fields}${rest}\n`;
    if (this.pending.length >= this.maxPending) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (this.flushIntervalMs === 0) setImmediate(() => this.flush());
      else this.timer = setTimeout(() => this.flush(), this.flushIntervalMs).unref(); // the 'exit' handler writes the rest
    }
  }

  warn(message: string, ...extra: unknown[]): void {
    this.flush();
    this.delegate.warn(message, ...(extra as []));
  }

  error(message: string, ...extra: unknown[]): void {
    this.flush();
    this.delegate.error(message, ...(extra as []));
  }

  private timestamp(): string {
    const now = Date.now();
    if (now !== this.stampMs) {
      this.stampMs = now;
      this.stamp = new Date(now).toISOString();
    }
    return this.stamp;
  }

  /** Writes the pending lines now. */
  flush(): void {
    this.scheduled = false;
    clearTimeout(this.timer);
    if (this.pending === '') return;
    const lines = this.pending;
    this.pending = '';
    this.write(lines);
  }
}
