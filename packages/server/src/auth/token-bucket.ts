/**
 * A token bucket: `burst` tokens, refilled at `rate` per second. Pure: the caller passes
 * the time, so tests control it.
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;

  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token: 0 when allowed, otherwise the milliseconds until one is available. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  configure(rate: number, burst: number, now: number): void {
    this.#refill(now);
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = Math.min(this.#tokens, burst);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    this.#last = now;
  }
}
