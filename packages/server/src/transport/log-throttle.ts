/**
 * At most one log line per key per interval, with how many were held back: a flood of
 * refused connections must not become a flood of log lines (and a full disk).
 */
export class LogThrottle {
  readonly #intervalMs: number;
  readonly #state = new Map<string, { at: number; suppressed: number }>();

  constructor(intervalMs = 1000) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Whether to log now; when it says yes, `suppressed` is how many lines of this key were
   * held back since the last one.
   */
  take(key: string, now = Date.now()): { log: boolean; suppressed: number } {
    const entry = this.#state.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed += 1;
      return { log: false, suppressed: 0 };
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#state.set(key, { at: now, suppressed: 0 });
    return { log: true, suppressed };
  }
}
