/**
 * Keeps the recent authentication failures per address: after `limit` failures within
 * `windowMs`, `blockedFor` says how long until the oldest leaves the window. The
 * authenticator refuses further *failures* from a blocked address (-32002) while a valid
 * credential still gets in. A success does not wipe the record (one valid credential must
 * not reset a guessing run). Memory is bounded: at most `maxAddresses` are tracked,
 * oldest first out, and at most `limit` failures per address.
 */
export class FailureThrottle {
  readonly #failures = new Map<string, number[]>();
  #limit: number;
  #windowMs: number;
  readonly #maxAddresses: number;

  constructor(options: { limit: number; windowMs: number; maxAddresses?: number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
  }

  configure(limit: number, windowMs: number): void {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** 0 when the address may try, else the milliseconds until it may. */
  blockedFor(address: string, now: number): number {
    const times = this.#recent(address, now);
    if (times.length < this.#limit) return 0;
    return (times[times.length - this.#limit] as number) + this.#windowMs - now;
  }

  recordFailure(address: string, now: number): void {
    const times = this.#recent(address, now);
    times.push(now);
    // Keep only what can matter, so one address cannot grow its list without bound.
    if (times.length > this.#limit) times.splice(0, times.length - this.#limit);
    this.#failures.delete(address);
    this.#failures.set(address, times);
    if (this.#failures.size > this.#maxAddresses) {
      const oldest = this.#failures.keys().next().value as string;
      this.#failures.delete(oldest);
    }
  }

  #recent(address: string, now: number): number[] {
    const times = this.#failures.get(address);
    if (!times) return [];
    const fresh = times.filter((t) => t > now - this.#windowMs);
    if (fresh.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, fresh);
    return fresh;
  }
}
