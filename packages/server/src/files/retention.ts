/**
 * Retention: which old recordings and snapshots may be deleted automatically.
 *
 * - `manual` (the default): nothing is deleted automatically.
 * - `age`: files last modified more than `max_age_days` ago.
 * - `size`: the oldest files, until recordings and snapshots together fit in
 *   `max_size_gb` (10^9 bytes).
 *
 * The configuration's `retention` section is the policy until an admin sets one with
 * set_retention_policy; that one is stored in `<state_dir>/retention.json` (written
 * atomically) and wins from then on, across restarts. When the policy is enabled, a
 * scheduler applies it every `retention.check_interval_seconds`; cleanup_old_files
 * applies it at once, enabled or not. Each run lists the directories again first, so it
 * decides on the files as they are. Oldest first, and never a file being written.
 */
import { readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import type { CatalogEntry, FileCatalog } from './catalog.js';

export type PolicyType = 'age' | 'size' | 'manual';

export interface RetentionPolicy {
  policy_type: PolicyType;
  enabled: boolean;
  max_age_days: number;
  max_size_gb: number | null;
  /** Where the policy comes from: the configuration file, or an admin's call (stored). */
  source: 'config' | 'api';
  /** When an admin last set it (ISO), null for the configuration's. */
  updated_at: string | null;
}

export interface CleanupResult {
  cleanup_executed: boolean;
  files_deleted: number;
  space_freed: number;
  message: string;
}

export interface RetentionOptions {
  config: () => Config;
  log: Logger;
  /** The catalogs whose files the policy covers. */
  catalogs: () => readonly FileCatalog[];
  /** Files being written are never deleted. */
  isBeingWritten: (name: string) => boolean;
  now?: () => number;
}

const DAY_MS = 24 * 3600 * 1000;
const GB = 1e9;

export class RetentionService {
  readonly #options: RetentionOptions;
  readonly #file: string;
  #stored: RetentionPolicy | null;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** The runs, one after the other: each reads the policy in force when it starts. */
  #runs: Promise<unknown> = Promise.resolve();
  /** Bumped by set(): a run under an older policy stops before its next delete. */
  #generation = 0;

  constructor(options: RetentionOptions) {
    this.#options = options;
    this.#file = join(options.config().service.state_dir, 'retention.json');
    this.#stored = this.#load();
  }

  /** The policy in force. */
  policy(): RetentionPolicy {
    if (this.#stored) return { ...this.#stored };
    const r = this.#options.config().retention;
    return {
      policy_type: r.policy_type,
      enabled: r.enabled,
      max_age_days: r.max_age_days,
      max_size_gb: r.max_size_gb,
      source: 'config',
      updated_at: null,
    };
  }

  /** Stores an admin's policy (it wins over the configuration from now on) and reschedules. */
  set(policy: {
    policy_type: PolicyType;
    enabled: boolean;
    max_age_days?: number | undefined;
    max_size_gb?: number | undefined;
  }): RetentionPolicy {
    const current = this.policy();
    const next: RetentionPolicy = {
      policy_type: policy.policy_type,
      enabled: policy.enabled,
      max_age_days: policy.max_age_days ?? current.max_age_days,
      max_size_gb: policy.max_size_gb ?? current.max_size_gb,
      source: 'api',
      updated_at: new Date(this.#now()).toISOString(),
    };
    writeFileAtomic(this.#file, `${JSON.stringify(next, null, 2)}\n`);
    this.#stored = next;
    this.#generation += 1;
    this.#options.log.info({ policy: next }, 'retention policy set');
    this.#schedule();
    return { ...next };
  }

  start(): void {
    this.#running = true;
    const policy = this.policy();
    this.#options.log.info({ policy }, `retention policy from the ${policy.source}`);
    this.#schedule();
  }

  /** Stops scheduling; resolves once a run under way has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#runs.catch(() => undefined);
  }

  /** The configuration changed (SIGHUP): its policy or interval may apply now. */
  reschedule(): void {
    this.#schedule();
  }

  /** Applies the policy now, after any run under way (each run reads the policy afresh). */
  cleanup(reason: 'scheduled' | 'requested' = 'requested'): Promise<CleanupResult> {
    const run = this.#runs.catch(() => undefined).then(() => this.#cleanup(reason));
    this.#runs = run;
    return run;
  }

  async #cleanup(reason: string): Promise<CleanupResult> {
    const policy = this.policy();
    const generation = this.#generation;
    if (policy.policy_type === 'manual') {
      return {
        cleanup_executed: false,
        files_deleted: 0,
        space_freed: 0,
        message:
          'The retention policy is manual: nothing is deleted automatically. Set an age or size policy with set_retention_policy, or delete files with delete_recording and delete_snapshot.',
      };
    }
    // Decided on the files as they are now, whoever put them there and whatever the watch
    // saw: a file whose times changed in place is not deleted for the time it had.
    await Promise.all(
      this.#options
        .catalogs()
        .map((catalog) =>
          catalog
            .rescan()
            .catch((error: unknown) =>
              this.#options.log.warn(
                { dir: catalog.dir, err: (error as Error).message },
                'retention could not list a media directory: deciding on the files it knew of',
              ),
            ),
        ),
    );
    const doomed = this.#select(policy);
    let deleted = 0;
    let freed = 0;
    for (const { catalog, entry } of doomed) {
      // A new policy was set meanwhile: it decides from now on, not this run.
      if (generation !== this.#generation) break;
      if (this.#options.isBeingWritten(entry.name)) continue;
      try {
        await unlink(join(catalog.dir, entry.name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.#options.log.warn(
            { file: entry.name, err: (error as Error).message },
            'retention could not delete a file',
          );
          continue;
        }
      }
      catalog.forget(entry.name);
      deleted += 1;
      freed += entry.size;
    }
    const rule =
      policy.policy_type === 'age'
        ? `older than ${policy.max_age_days} days`
        : `beyond ${policy.max_size_gb} GB in all`;
    const message =
      deleted === 0
        ? `No file is ${rule}: nothing to delete.`
        : `Deleted ${deleted} file${deleted === 1 ? '' : 's'} ${rule}, freeing ${freed} bytes.`;
    this.#options.log.info(
      { reason, policy_type: policy.policy_type, files_deleted: deleted, space_freed: freed },
      'retention applied',
    );
    return { cleanup_executed: true, files_deleted: deleted, space_freed: freed, message };
  }

  /** The files the policy would delete, oldest first. */
  #select(policy: RetentionPolicy): { catalog: FileCatalog; entry: CatalogEntry }[] {
    const all = this.#options
      .catalogs()
      .flatMap((catalog) => catalog.sorted('oldest').map((entry) => ({ catalog, entry })))
      .filter(({ entry }) => !this.#options.isBeingWritten(entry.name))
      .sort((a, b) => a.entry.mtimeMs - b.entry.mtimeMs);
    if (policy.policy_type === 'age') {
      const cutoff = this.#now() - policy.max_age_days * DAY_MS;
      return all.filter(({ entry }) => entry.mtimeMs < cutoff);
    }
    if (policy.max_size_gb === null) return [];
    const limit = policy.max_size_gb * GB;
    let total = this.#options.catalogs().reduce((sum, c) => sum + c.totalBytes, 0);
    const doomed = [];
    for (const item of all) {
      if (total <= limit) break;
      doomed.push(item);
      total -= item.entry.size;
    }
    return doomed;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const policy = this.policy();
    if (!this.#running || !policy.enabled || policy.policy_type === 'manual') return;
    const ms = this.#options.config().retention.check_interval_seconds * 1000;
    this.#timer = setTimeout(() => {
      // Disabled meanwhile (a reload): no run.
      const now = this.policy();
      if (!now.enabled || now.policy_type === 'manual') return;
      void this.cleanup('scheduled')
        .catch((error: unknown) =>
          this.#options.log.error({ err: (error as Error).message }, 'retention run failed'),
        )
        .finally(() => this.#schedule());
    }, ms);
    this.#timer.unref();
  }

  #load(): RetentionPolicy | null {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch {
      return null;
    }
    try {
      const value = JSON.parse(text) as Partial<RetentionPolicy>;
      const positive = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;
      // A hand-edited file must not turn into "delete everything": every value is checked.
      if (
        !['age', 'size', 'manual'].includes(value.policy_type ?? '') ||
        typeof value.enabled !== 'boolean' ||
        !positive(value.max_age_days) ||
        (value.max_size_gb !== null && !positive(value.max_size_gb)) ||
        (value.policy_type === 'size' && value.max_size_gb === null)
      ) {
        throw new Error(
          'expected policy_type age|size|manual, enabled, max_age_days > 0, max_size_gb > 0 or null',
        );
      }
      return {
        policy_type: value.policy_type as PolicyType,
        enabled: value.enabled,
        max_age_days: value.max_age_days as number,
        max_size_gb: value.max_size_gb ?? null,
        source: 'api',
        updated_at: typeof value.updated_at === 'string' ? value.updated_at : null,
      };
    } catch (error) {
      this.#options.log.error(
        { file: this.#file, err: (error as Error).message },
        'the stored retention policy is unreadable: using the configuration until one is set again',
      );
      return null;
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}
