/**
 * Watches the media server: asks its API (`/v3/info`) every `intervalMs` while it
 * answers; after a failure, again after an exponential backoff with jitter (so a fleet of
 * boxes does not retry in step); while the breaker is open, not before it lets a trial
 * through, nor before the backoff (which grows to its maximum over a long outage).
 *
 * Recovery: configuration set through the API lives in the media server's memory only,
 * so when it answers again after failing, or answers with a new `started` time (it
 * restarted between two checks), every wanted path is re-created (`onRecovered`).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/index.js';
import type { BreakerState, CircuitBreaker } from './breaker.js';
import type { MediaMtxClient } from './client.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export interface MonitorOptions {
  client: MediaMtxClient;
  breaker: CircuitBreaker;
  log: Logger;
  /** Between checks while the media server answers. */
  intervalMs: number;
  backoff: BackoffOptions;
  random?: () => number;
  now?: () => number;
}

export type RecoveryReason = 'reachable_again' | 'restarted';

export interface MonitorEvents {
  /** Answered after failing, or restarted: the paths must be re-created. */
  recovered: [reason: RecoveryReason];
  /** A check failed. */
  failed: [error: Error, consecutive: number];
  checked: [];
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
  /** Restarts seen (a new `started` time) since the service started. */
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

export class HealthMonitor extends EventEmitter<MonitorEvents> {
  readonly #options: MonitorOptions;
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

  constructor(options: MonitorOptions) {
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
    const { breaker, client, log } = this.#options;
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
      const info = await client.info();
      this.#lastCheck = this.#now();
      breaker.recordSuccess();
      this.#reachable = true;
      this.#lastError = null;
      const restarted =
        this.#started !== null && info.started !== undefined && info.started !== this.#started;
      this.#version = info.version ?? null;
      this.#started = info.started ?? null;
      this.#schedule(this.#options.intervalMs);
      this.emit('checked');
      if (restarted) {
        this.#restarts += 1;
        log.warn({ started: this.#started }, 'the media server restarted');
        this.emit('recovered', 'restarted');
      } else if (wasReachable === false) {
        log.info('the media server answers again');
        this.emit('recovered', 'reachable_again');
      }
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
      this.emit('checked');
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
