/**
 * Watches the media server: runs the check it is given (probe.ts: the API, as every
 * MediaMTX version answers it) every `intervalMs` while it answers; after a failure,
 * again after an exponential backoff with jitter (so a fleet of boxes does not retry in
 * step); while the breaker is open, not before it lets a trial through, nor before the
 * backoff (which grows to its maximum over a long outage).
 *
 * Recovery: configuration set through the API lives in the media server's memory only,
 * so when it answers again after failing, answers with a new `started` time (it
 * restarted between two checks), or answers after the service saw it restart
 * (`expectRestart`, managed mode: MediaMTX before v1.16 tells no start time), the wanted
 * paths must be re-created: `recovered` says so, before the `checked` of that check.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/index.js';
import type { BreakerState, CircuitBreaker } from './breaker.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

/** What a check returns: the media server's identity, when it tells it. */
export interface CheckResult {
  version: string | null;
  /** The start time; a new one is a restart. null when the media server does not tell. */
  started: string | null;
}

export interface MonitorOptions<R extends CheckResult> {
  /** One check: resolves when the media server answered, rejects when it did not. */
  probe: () => Promise<R>;
  breaker: CircuitBreaker;
  log: Logger;
  /** Between checks while the media server answers. */
  intervalMs: number;
  backoff: BackoffOptions;
  random?: () => number;
  now?: () => number;
}

/**
 * Why the paths are re-created: the media server answers again after failing, it
 * restarted, or (found by the media plane) the service's paths are gone from it.
 */
export type RecoveryReason = 'reachable_again' | 'restarted' | 'paths_lost';

export interface MonitorEvents<R> {
  /**
   * Answered after failing, or restarted: the paths must be re-created. `expected`: the
   * restart was the one announced by expectRestart, not one found out.
   */
  recovered: [reason: RecoveryReason, expected: boolean];
  /** A check failed. */
  failed: [error: Error, consecutive: number];
  /** A check finished: with what the media server answered, or null when it failed. */
  checked: [result: R | null];
}

export interface MonitorStatus {
  /** null until the first check has finished. */
  reachable: boolean | null;
  breaker: BreakerState;
  consecutive_failures: number;
  last_check: string | null;
  last_error: string | null;
  version: string | null;
  started: string | null;
  /** Restarts seen (a new `started` time, or one the service saw) since the service started. */
  restarts_seen: number;
  /** When the next check is due (ISO time), or null when stopped. */
  next_check: string | null;
}

/** The n-th retry delay (n from 1): initial x 2^(n-1), capped, with jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  const factor = 1 - options.jitter + 2 * options.jitter * random;
  return Math.max(0, Math.round(base * factor));
}

export class HealthMonitor<R extends CheckResult = CheckResult> extends EventEmitter<
  MonitorEvents<R>
> {
  readonly #options: MonitorOptions<R>;
  readonly #random: () => number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #nextAt: number | null = null;
  #running = false;
  #checking: Promise<void> | null = null;
  #reachable: boolean | null = null;
  #lastCheck: number | null = null;
  #lastError: string | null = null;
  #version: string | null = null;
  #started: string | null = null;
  #restarts = 0;
  #restartExpected = false;

  constructor(options: MonitorOptions<R>) {
    super();
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  get reachable(): boolean | null {
    return this.#reachable;
  }

  status(): MonitorStatus {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      reachable: this.#reachable,
      breaker: this.#options.breaker.state,
      consecutive_failures: this.#options.breaker.consecutiveFailures,
      last_check: iso(this.#lastCheck),
      last_error: this.#lastError,
      version: this.#version,
      started: this.#started,
      restarts_seen: this.#restarts,
      next_check: iso(this.#nextAt),
    };
  }

  /** Checks now, then keeps checking. */
  start(): Promise<void> {
    this.#running = true;
    return this.checkNow();
  }

  /**
   * The service saw the media server restart (its managed process was started again):
   * the next check that succeeds reports a restart, whatever start time it tells.
   */
  expectRestart(): void {
    this.#restartExpected = true;
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#nextAt = null;
  }

  /**
   * Checks at once (e.g. the managed media server was just restarted), unless a check
   * is under way, whose result is then awaited.
   */
  checkNow(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    clearTimeout(this.#timer);
    const { breaker, probe, log } = this.#options;
    if (!breaker.allows()) {
      // Not before the breaker lets a trial through, and no sooner than the backoff of the
      // failures so far: a long outage is checked every backoff_max (with jitter), not
      // every breaker_open_seconds in step with every other box.
      const untilTrial = (breaker.retryAt ?? this.#now()) - this.#now();
      const backoff = backoffDelay(
        breaker.consecutiveFailures,
        this.#options.backoff,
        this.#random(),
      );
      this.#schedule(Math.max(untilTrial, backoff));
      return;
    }
    const wasReachable = this.#reachable;
    try {
      const result = await probe();
      this.#lastCheck = this.#now();
      breaker.recordSuccess();
      this.#reachable = true;
      this.#lastError = null;
      const expected = this.#restartExpected;
      this.#restartExpected = false;
      let restarted = expected;
      if (result.started !== null) {
        restarted ||= this.#started !== null && result.started !== this.#started;
        this.#started = result.started;
      }
      this.#version = result.version ?? this.#version;
      this.#schedule(this.#options.intervalMs);
      if (restarted) {
        this.#restarts += 1;
        log.warn({ started: this.#started }, 'the media server restarted');
        this.emit('recovered', 'restarted', expected);
      } else if (wasReachable === false) {
        log.info('the media server answers again');
        this.emit('recovered', 'reachable_again', false);
      }
      this.emit('checked', result);
    } catch (error) {
      this.#lastCheck = this.#now();
      breaker.recordFailure();
      this.#reachable = false;
      this.#lastError = (error as Error).message;
      const failures = breaker.consecutiveFailures;
      const delay = backoffDelay(failures, this.#options.backoff, this.#random());
      (wasReachable === false ? log.debug.bind(log) : log.warn.bind(log))(
        { err: this.#lastError, consecutive_failures: failures, retry_in_ms: delay },
        'media server check failed',
      );
      this.#schedule(delay);
      this.emit('failed', error as Error, failures);
      this.emit('checked', null);
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    const delay = Math.max(0, ms);
    this.#nextAt = this.#now() + delay;
    this.#timer = setTimeout(() => void this.checkNow(), delay);
    this.#timer.unref();
  }
}
