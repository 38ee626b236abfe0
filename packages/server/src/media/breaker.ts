/**
 * A circuit breaker for the media server, as a state machine on an injected clock:
 *
 *   closed ── N consecutive failures ──▶ open ── openMs later ──▶ half_open
 *   half_open ── M consecutive successes ──▶ closed;  half_open ── a failure ──▶ open
 *
 * While open, calls fail at once instead of each waiting for a timeout, and the health
 * monitor stops hammering a server that is down.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open it (N). */
  failureThreshold: number;
  /** Consecutive successes in half-open that close it (M). */
  successThreshold: number;
  /** How long it stays open before letting a trial through. */
  openMs: number;
  now?: () => number;
  onChange?: (from: BreakerState, to: BreakerState) => void;
}

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #state: BreakerState = 'closed';
  #failures = 0;
  #successes = 0;
  #openedAt = 0;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The state now: an open breaker whose time is up reads as half_open. */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#options.openMs) {
      this.#move('half_open');
    }
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** When an open breaker lets the next trial through (epoch ms), else null. */
  get retryAt(): number | null {
    return this.#state === 'open' ? this.#openedAt + this.#options.openMs : null;
  }

  /** Whether a call may go to the media server now. */
  allows(): boolean {
    return this.state !== 'open';
  }

  recordSuccess(): void {
    this.#failures = 0;
    if (this.state === 'half_open') {
      this.#successes += 1;
      if (this.#successes >= this.#options.successThreshold) this.#move('closed');
    }
  }

  recordFailure(): void {
    this.#failures += 1;
    const state = this.state;
    if (
      state === 'half_open' ||
      (state === 'closed' && this.#failures >= this.#options.failureThreshold)
    ) {
      this.#openedAt = this.#now();
      this.#move('open');
    }
  }

  #move(to: BreakerState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#successes = 0;
    this.#options.onChange?.(from, to);
  }
}
