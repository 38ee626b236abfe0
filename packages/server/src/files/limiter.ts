/**
 * A bound on work that costs a process (ffprobe, an ffmpeg frame grab): at most
 * `concurrent` tasks run at once, at most `queued` more wait for a turn in arrival order,
 * and a caller beyond that is refused at once with -32002 and a wait to retry after,
 * instead of piling up processes. The limits are read at every admission, so a reload
 * (SIGHUP) applies to the next task: running tasks finish, and a lower limit lets fewer
 * start. Callers that must not fail (the recorder measuring its own files) wait in line
 * whatever its length.
 */
import { RateLimited } from '../auth/index.js';
import type { Config } from '../config/index.js';

export interface Limits {
  concurrent: number;
  queued: number;
}

export interface LimiterOptions {
  /** Read at every admission. */
  limits: () => Limits;
  /** What the refused callers were kept from, for the message: "reading other files". */
  busy: string;
}

/** Before any task has finished, a turn is guessed to take this long. */
const FIRST_GUESS_MS = 1000;
const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

export class Limiter {
  readonly #options: LimiterOptions;
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  /** Moving average of how long a task runs, for the retry hint. */
  #averageMs: number | null = null;

  constructor(options: LimiterOptions) {
    this.#options = options;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs the task when a turn is free. Rejects with RateLimited (-32002) when the line is
   * full, unless `wait` is set (internal work that must not fail waits in any case).
   */
  run<T>(task: () => Promise<T>, options: { wait?: boolean } = {}): Promise<T> {
    const { concurrent, queued } = this.#options.limits();
    if (this.#running < concurrent && this.#waiting.length === 0) return this.#start(task);
    if (!options.wait && this.#waiting.length >= queued) {
      return Promise.reject(this.#refusal(concurrent));
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => this.#start(task).then(resolve, reject));
    });
  }

  async #start<T>(task: () => Promise<T>): Promise<T> {
    this.#running += 1;
    const started = performance.now();
    try {
      return await task();
    } finally {
      this.#running -= 1;
      const ms = performance.now() - started;
      this.#averageMs = this.#averageMs === null ? ms : this.#averageMs * 0.8 + ms * 0.2;
      this.#next();
    }
  }

  #next(): void {
    const { concurrent } = this.#options.limits();
    while (this.#running < concurrent && this.#waiting.length > 0) this.#waiting.shift()?.();
  }

  #refusal(concurrent: number): RateLimited {
    // The refused caller would get a turn once everyone ahead has had one.
    const rounds = Math.ceil((this.#waiting.length + 1) / Math.max(1, concurrent));
    const retryMs = Math.round(
      Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, rounds * (this.#averageMs ?? FIRST_GUESS_MS))),
    );
    return new RateLimited(
      `The server is busy ${this.#options.busy} (${this.#running} running, ${this.#waiting.length} waiting): try again in a moment.`,
      retryMs,
    );
  }
}

/** The one limiter every ffprobe goes through (storage.max_concurrent_probes, max_queued_probes). */
export function probeLimiter(config: () => Config): Limiter {
  return new Limiter({
    limits: () => {
      const storage = config().storage;
      return { concurrent: storage.max_concurrent_probes, queued: storage.max_queued_probes };
    },
    busy: 'reading other files',
  });
}
