/**
 * The camera paths the service wants on the media server, and the calls that make the
 * media server match: `ensure` creates a path, leaves an identical one alone and replaces
 * a different one; `remove` deletes it; `reapply` does it all again after the media
 * server restarted (configuration set through its API lives in its memory only).
 *
 * Operations on one path run one after the other (a remove never overtakes the ensure
 * before it); different paths proceed in parallel.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../logging/index.js';
import type { CallOptions, MediaMtxClient, PathConf } from './client.js';
import { MediaServerError } from './client.js';

export type EnsureOutcome = 'created' | 'unchanged' | 'replaced';

export interface ReapplyResult {
  name: string;
  outcome: EnsureOutcome | 'failed';
  error?: string;
}

export class PathManager {
  readonly #client: MediaMtxClient;
  readonly #log: Logger;
  readonly #desired = new Map<string, PathConf>();
  /** Paths deleted by the service whose delete the media server has not confirmed. */
  readonly #unwanted = new Set<string>();
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Wanted paths the media server confirmed having, as wanted, when last asked. */
  readonly #confirmed = new Set<string>();

  constructor(options: { client: MediaMtxClient; log: Logger }) {
    this.#client = options.client;
    this.#log = options.log;
  }

  /** Names of the paths the service wants, in the order they were first wanted. */
  names(): string[] {
    return [...this.#desired.keys()];
  }

  desired(name: string): PathConf | undefined {
    return this.#desired.get(name);
  }

  /**
   * Makes the media server's path `name` carry `conf`. The path is remembered even when
   * the media server cannot be reached, so that `reapply` creates it once it is back.
   */
  ensure(name: string, conf: PathConf, call?: CallOptions): Promise<EnsureOutcome> {
    this.#desired.set(name, conf);
    this.#unwanted.delete(name);
    this.#confirmed.delete(name);
    return this.#serial(name, async () => {
      const outcome = await this.#ensure(name, conf, call);
      if (this.#desired.get(name) === conf) this.#confirmed.add(name);
      return outcome;
    });
  }

  /**
   * Wanted paths the media server has, as far as the service knows: each was created (or
   * found) as wanted, and nothing is being done to it now. One of these missing from the
   * media server's list means it lost them (it restarted without telling).
   */
  settledNames(): string[] {
    return [...this.#confirmed].filter((name) => !this.#queues.has(name));
  }

  /**
   * Deletes the path; false when the media server had no such path. A delete that fails
   * (the media server is away) is remembered and done again by `reapply`, so a camera
   * unplugged during an outage leaves no path behind on a media server that kept it.
   */
  remove(name: string, call?: CallOptions): Promise<boolean> {
    this.#desired.delete(name);
    this.#unwanted.add(name);
    this.#confirmed.delete(name);
    return this.#serial(name, () => this.#delete(name, call));
  }

  async #delete(name: string, call?: CallOptions): Promise<boolean> {
    const deleted = await this.#client.deletePath(name, call);
    // Wanted again while the delete ran: that ensure, queued after it, re-creates it.
    if (!this.#desired.has(name)) this.#unwanted.delete(name);
    this.#log.info(
      { path: name, correlation_id: call?.correlationId, existed: deleted },
      'path deleted',
    );
    return deleted;
  }

  /** Names of paths whose delete has not reached the media server yet. */
  pendingDeletes(): string[] {
    return [...this.#unwanted];
  }

  /**
   * Ensures every wanted path again, and deletes those whose delete failed; failures are
   * reported per path (deletes in the log), not thrown.
   */
  async reapply(call?: CallOptions): Promise<ReapplyResult[]> {
    await Promise.all(
      [...this.#unwanted].map((name) =>
        this.#serial(name, () => this.#delete(name, call)).catch((error: unknown) =>
          this.#log.warn(
            { path: name, err: (error as Error).message },
            'could not delete a path the service no longer wants; trying again on the next recovery',
          ),
        ),
      ),
    );
    return Promise.all(
      [...this.#desired].map(async ([name, conf]): Promise<ReapplyResult> => {
        try {
          return { name, outcome: await this.ensure(name, conf, call) };
        } catch (error) {
          return { name, outcome: 'failed', error: (error as Error).message };
        }
      }),
    );
  }

  async #ensure(name: string, conf: PathConf, call?: CallOptions): Promise<EnsureOutcome> {
    const started = performance.now();
    const current = await this.#client.getPathConfig(name, call);
    let outcome: EnsureOutcome;
    if (current === null) {
      try {
        await this.#client.addPath(name, conf, call);
        outcome = 'created';
      } catch (error) {
        // Someone else created it between our read and our add.
        if (!(error instanceof MediaServerError) || error.status !== 400) throw error;
        if ((await this.#client.getPathConfig(name, call)) === null) throw error;
        await this.#client.replacePath(name, conf, call);
        outcome = 'replaced';
      }
    } else if (sameConf(current, conf)) {
      outcome = 'unchanged';
    } else {
      await this.#client.replacePath(name, conf, call);
      outcome = 'replaced';
    }
    this.#log.info(
      {
        path: name,
        outcome,
        correlation_id: call?.correlationId,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      outcome === 'unchanged' ? 'path already as wanted' : `path ${outcome}`,
    );
    return outcome;
  }

  #serial<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return next;
  }
}

/**
 * Whether the media server's configuration already has every key we set, with our value.
 * Keys we do not set are the media server's defaults (or another version's additions)
 * and do not count.
 */
export function sameConf(current: PathConf, wanted: PathConf): boolean {
  return Object.entries(wanted).every(([key, value]) =>
    isDeepStrictEqual((current as Record<string, unknown>)[key], value),
  );
}
