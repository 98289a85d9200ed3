/**
 * Cookie secrets that follow their source (Secrets Manager, or a file) while the process runs,
 * so that a rotation logs no one out: during a rolling deploy that prepends a new secret, a new
 * instance signs with it at once, and an old instance must learn it before it sees such a cookie.
 *
 * The list is read again from the source
 * - every `intervalMs` (5 minutes by default), and
 * - when a well-formed cookie verifies against no known secret ({@link CookieSecretReloader.onUnknownSignature}):
 *   at most once per `minGapMs` (10 s by default), so forged cookies cannot turn into a flood
 *   of Secrets Manager calls. Requests that arrive while that reload runs wait for it (bounded by
 *   `waitMs`) and are verified again against the new list.
 *
 * A reload that fails (the source throws, or holds no valid list) keeps the list in use and
 * logs a warning; it never throws and never stops the timer.
 */
/** Where a failed reload is reported (a Powertools Logger fits). */
export interface ReloadLogger {
  warn(message: string, ...extra: unknown[]): void;
}

/** Reads the current cookie secrets (the first signs, all verify); throws when it cannot. */
export type CookieSecretSource = () => Promise<readonly string[]>;

export interface CookieSecretReloaderOptions {
  /** Where the list comes from. */
  readonly source: CookieSecretSource;
  /** The list in use now (read at start). */
  readonly initial: readonly string[];
  /** Takes a list that differs from the one in use; may throw to refuse it (the old list stays). */
  readonly apply: (secrets: readonly string[]) => void;
  /** Time between periodic reloads, ms; 0 turns them off. @default 300000 */
  readonly intervalMs?: number;
  /** Least time between two reloads that unknown signatures ask for, ms. @default 10000 */
  readonly minGapMs?: number;
  /** Longest a request waits on a reload before it is answered with the list in use, ms. @default 2000 */
  readonly waitMs?: number;
  /** Longest a read of the source may take before the reload counts as failed, ms. @default 10000 */
  readonly readTimeoutMs?: number;
  /** Where a failed reload is reported. @default console */
  readonly logger?: ReloadLogger;
  /** What the warnings name as the source, e.g. the secret ARN or file. @default 'the cookie secret source' */
  readonly sourceName?: string;
  /** Clock, epoch ms (tests). @default Date.now */
  readonly now?: () => number;
}

/** Default time between periodic reloads, ms. */
export const DEFAULT_RELOAD_INTERVAL_MS = 5 * 60 * 1000;
/** Default least time between reloads asked for by unknown signatures, ms. */
export const DEFAULT_RELOAD_MIN_GAP_MS = 10 * 1000;

export class CookieSecretReloader {
  private current: readonly string[];
  private inFlight?: Promise<boolean>;
  /** When an unknown signature last started a reload (epoch ms); -Infinity: never. */
  private lastAsked = -Infinity;
  private timer?: NodeJS.Timeout;
  private readonly intervalMs: number;
  private readonly minGapMs: number;
  private readonly waitMs: number;
  private readonly readTimeoutMs: number;
  private readonly logger: ReloadLogger;
  private readonly sourceName: string;
  private readonly now: () => number;
  /** Reloads that read the source, whatever their outcome (tests and metrics). */
  reloads = 0;

  constructor(private readonly opts: CookieSecretReloaderOptions) {
    this.current = [...opts.initial];
    this.intervalMs = opts.intervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
    this.minGapMs = opts.minGapMs ?? DEFAULT_RELOAD_MIN_GAP_MS;
    this.waitMs = opts.waitMs ?? 2000;
    this.readTimeoutMs = opts.readTimeoutMs ?? 10_000;
    this.logger = opts.logger ?? console;
    this.sourceName = opts.sourceName ?? 'the cookie secret source';
    this.now = opts.now ?? Date.now;
    if (![this.intervalMs, this.minGapMs, this.waitMs].every((n) => n >= 0) || !(this.readTimeoutMs > 0)) {
      throw new RangeError('intervalMs, minGapMs and waitMs must be 0 or more, readTimeoutMs more than 0');
    }
  }

  /** The list in use. */
  get secrets(): readonly string[] {
    return this.current;
  }

  /** Starts the periodic reloads (the timer does not keep the process alive). */
  start(): this {
    if (this.intervalMs > 0 && this.timer === undefined) {
      this.timer = setInterval(() => void this.reload(), this.intervalMs);
      this.timer.unref();
    }
    return this;
  }

  /** Stops the periodic reloads (graceful shutdown). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads the source now (joining a reload already running) and applies the list when it
   * changed. Resolves true when the list in use changed; never rejects.
   */
  reload(): Promise<boolean> {
    this.inFlight ??= this.readAndApply().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * A cookie verified against no known secret: reload, unless an unknown signature already
   * started one within `minGapMs` (a reload still running is joined). Resolves true when the
   * list changed, within `waitMs` (false past it; the reload goes on and applies its list).
   */
  onUnknownSignature(): Promise<boolean> {
    if (this.inFlight === undefined) {
      const now = this.now();
      if (now - this.lastAsked < this.minGapMs) return Promise.resolve(false);
      this.lastAsked = now;
    }
    const reload = this.reload();
    return this.waitMs === 0 ? Promise.resolve(false) : within(reload, this.waitMs, () => false);
  }

  private async readAndApply(): Promise<boolean> {
    this.reloads++;
    let next: readonly string[];
    try {
      next = await within(this.opts.source(), this.readTimeoutMs, () => {
        throw new Error(`no answer within ${this.readTimeoutMs} ms`);
      });
      if (sameList(next, this.current)) return false;
      this.opts.apply(next);
    } catch (err) {
      this.logger.warn(`cookie secrets not reloaded from ${this.sourceName}; the ${this.current.length} in use stay: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    this.current = [...next];
    return true;
  }
}

/** `p`, or what `late` gives if `p` has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
