/**
 * Recovery: the media server holds the paths the service gave it through its API in
 * memory only, so whenever it forgot them (it restarted, it was away, or someone deleted
 * them) every wanted path is created again, and the listeners hear which came back.
 *
 * One recovery runs at a time. One asked for while another runs (the media server
 * restarted again mid-way, and forgot what was already re-applied) runs once that one is
 * done.
 */
import type { Logger } from '../logging/index.js';
import type { MediaMetrics } from './metrics.js';
import type { RecoveryReason } from './monitor.js';
import type { PathManager, ReapplyResult } from './paths.js';
import type { PathStatus } from './client.js';

export type RecoveryListener = (names: string[], reason: RecoveryReason) => void;

export class PathRecovery {
  readonly #paths: PathManager;
  readonly #log: Logger;
  readonly #metrics: MediaMetrics;
  readonly #listeners = new Set<RecoveryListener>();
  #running: Promise<void> | null = null;
  #again: RecoveryReason | null = null;
  #stopped = false;

  constructor(options: { paths: PathManager; log: Logger; metrics: MediaMetrics }) {
    this.#paths = options.paths;
    this.#log = options.log;
    this.#metrics = options.metrics;
  }

  /** Whether a recovery runs now. */
  get running(): boolean {
    return this.#running !== null;
  }

  onRecovered(listener: RecoveryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * After a check the media server answered: the paths the service was sure of before
   * it asked (`settled`) and still wants, missing from its list, were lost. Re-creates
   * them; true when it had to.
   */
  checkList(settled: string[], listed: PathStatus[]): boolean {
    if (this.#running || this.#stopped) return false;
    const names = new Set(listed.map((p) => p.name));
    const still = new Set(this.#paths.settledNames());
    const lost = settled.filter((name) => still.has(name) && !names.has(name));
    if (lost.length === 0) return false;
    this.#log.warn(
      { paths: lost },
      'the media server no longer has camera paths the service created (it restarted, or they were deleted); re-creating them',
    );
    void this.recover('paths_lost');
    return true;
  }

  /** Re-creates every wanted path (and deletes those whose delete did not get through). */
  async recover(reason: RecoveryReason): Promise<void> {
    if (this.#running) {
      this.#again = reason;
      return;
    }
    this.#running = (async () => {
      const results: ReapplyResult[] = await this.#paths.reapply();
      const failed = results.filter((r) => r.outcome === 'failed');
      this.#metrics.reapplied.inc(results.length - failed.length);
      this.#log.info(
        {
          reason,
          paths: results.length,
          created: results.filter((r) => r.outcome === 'created').length,
          failed: failed.map((f) => ({ path: f.name, error: f.error })),
        },
        'camera paths re-applied after media server recovery',
      );
      const names = results.filter((r) => r.outcome !== 'failed').map((r) => r.name);
      for (const listener of this.#listeners) listener(names, reason);
    })().finally(() => {
      this.#running = null;
      const again = this.#again;
      this.#again = null;
      if (again && !this.#stopped) void this.recover(again);
    });
    await this.#running;
  }

  /** No new recovery starts; resolves once the one under way is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
