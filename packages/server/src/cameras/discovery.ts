/**
 * Hot-plug discovery of V4L2 device nodes (SPEC section 3, "Cameras"): reports `added` when a
 * node such as `/dev/video0` appears and `removed` when it goes away. It only says which nodes
 * exist; whether a node is a capture device is for the prober to decide.
 *
 * Discovery is hybrid because neither half is enough alone:
 *
 * - Filesystem events (`fs.watch`, inotify on Linux) see a plug within milliseconds, but they
 *   can be lost: the inotify queue can overflow, the watch cannot be created when the
 *   directory does not exist yet, and a watch on a directory that is deleted and recreated
 *   goes silent without an error (it still watches the old inode).
 * - Polling (`readdir` every `pollIntervalMs`) never misses a change that lasts, but is slow.
 *
 * Both feed one path, so they agree and never report the same change twice: an event or a
 * polling pass only *marks* a name, and {@link NodeDecisions} (node-decisions.ts) decides
 * from a fresh `stat` after each mark. A plug is reported at once, even while udev goes on
 * changing the node; an unplug once the name has been quiet for `debounceMs`, so a re-plug
 * inside that window reports nothing and a flapping cable ends in one `added`.
 *
 * Nothing here keeps the process alive (timers are unref'd, the watcher is not persistent) and
 * nothing throws from a timer: failures are logged and emitted as `error` when somebody
 * listens, since an `error` event without a listener would crash the process.
 */
import { EventEmitter } from 'node:events';
import { watch as fsWatch, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Logger } from '../logging/index.js';
import { NodeDecisions } from './node-decisions.js';

/**
 * Starts watching `dir` and returns a handle to stop. `onChange` gets the name of the entry
 * that changed, or null when the platform could not say which (then everything is checked).
 * `onError` reports a watcher that broke; discovery then closes it and polls until it has
 * re-created one. Injectable so tests can lose events on purpose.
 */
export type WatchFactory = (
  dir: string,
  onChange: (filename: string | null) => void,
  onError: (error: Error) => void,
) => { close(): void };

export interface DiscoveryOptions {
  /** The directory holding the device nodes: `/dev` in production, a temporary one in tests. */
  deviceDir: string;
  /** How often to reconcile by `readdir` (the config default is 1000 ms). */
  pollIntervalMs: number;
  /** How long a node must be quiet after its last change before its presence is decided. */
  debounceMs: number;
  log: Logger;
  /** Defaults to {@link watchDirectory}, `fs.watch` (inotify on Linux). */
  watch?: WatchFactory;
  /** Which entry names are device nodes; defaults to {@link DEFAULT_NODE_PATTERN}. */
  pattern?: RegExp;
}

export interface DiscoveryEvents {
  added: [node: string];
  removed: [node: string];
  /** A node reported present changed (its mode, owner or links set by udev; a re-plug). */
  changed: [node: string];
  error: [Error];
}

/** `video0`, `video12`, ...: not `video-foo`, `media0` or the `v4l` directory. */
export const DEFAULT_NODE_PATTERN = /^video\d+$/;

/**
 * The default {@link WatchFactory}: `fs.watch` on the directory, not persistent, so that a
 * service which forgets to stop discovery can still exit.
 */
export const watchDirectory: WatchFactory = (dir, onChange, onError) => {
  const watcher = fsWatch(dir, { persistent: false }, (_eventType, filename) => onChange(filename));
  watcher.on('error', onError);
  return watcher;
};

/** Sorts `video2` before `video10`. */
const byNumber = new Intl.Collator('en', { numeric: true }).compare;

/**
 * Watches a device directory for V4L2 nodes coming and going; see the file comment for how.
 *
 * Listen before calling {@link start}: the nodes already present are reported by `start`
 * itself. An instance runs once: `start`, then `stop`; make a new one to start again (for
 * example after the device directory was reconfigured).
 */
export class DeviceDiscovery extends EventEmitter<DiscoveryEvents> {
  readonly #dir: string;
  /** The directory's own name, which inotify reports when the directory is deleted or moved. */
  readonly #selfName: string;
  readonly #pollIntervalMs: number;
  readonly #log: Logger;
  readonly #watchFactory: WatchFactory;
  readonly #pattern: RegExp;

  readonly #decisions: NodeDecisions;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #pollTimer: NodeJS.Timeout | undefined;

  #watcher: { close(): void } | undefined;
  /** `dev:ino:birth` of the directory the watcher watches, to notice that it was replaced. */
  #watchedDirectory: string | undefined;
  /** Bumped whenever a watcher is closed, so late callbacks from an old one are ignored. */
  #watcherSerial = 0;
  #watchFailing = false;
  #directoryMissing = false;
  /** The last polling failure logged, so a lasting one is not logged every second. */
  #pollFailure: string | undefined;

  constructor(options: DiscoveryOptions) {
    super();
    if (!Number.isFinite(options.pollIntervalMs) || options.pollIntervalMs <= 0) {
      throw new RangeError(
        `The discovery polling interval must be a positive number of milliseconds, not ${options.pollIntervalMs}.`,
      );
    }
    if (!Number.isFinite(options.debounceMs) || options.debounceMs < 0) {
      throw new RangeError(
        `The discovery debounce must be 0 or more milliseconds, not ${options.debounceMs}.`,
      );
    }
    this.#dir = options.deviceDir;
    this.#selfName = basename(resolve(options.deviceDir));
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#log = options.log;
    this.#watchFactory = options.watch ?? watchDirectory;
    // A global or sticky pattern would carry lastIndex from one test() to the next and skip
    // names at random, so those flags are dropped.
    const pattern = options.pattern ?? DEFAULT_NODE_PATTERN;
    this.#pattern = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    this.#decisions = new NodeDecisions({
      debounceMs: options.debounceMs,
      log: options.log,
      exists: (name) => this.#exists(name),
      path: (name) => this.#path(name),
      report: (event, name) => this.#emitNode(event, name),
      fail: (error) => this.#fail(error),
    });
  }

  /**
   * Scans the directory once and emits `added` for every node present, at once and in number
   * order (a node that is already there has nothing left to settle), then watches and polls.
   * A missing directory counts as empty and is polled until it appears. Rejects only when the
   * directory exists but cannot be read; nothing is left running then.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') {
      throw new Error(
        `Discovery of ${this.#dir} was already started once; create a new DeviceDiscovery to start again.`,
      );
    }
    this.#state = 'running';
    let present: Set<string>;
    try {
      // Watch first, list second: a node that appears in between is then seen by the watcher.
      await this.#refreshWatcher();
      present = await this.#listPresent();
    } catch (error) {
      this.stop();
      throw error;
    }
    if (this.#state !== 'running') return;
    for (const name of [...present].sort(byNumber)) {
      if (this.#decisions.reported().has(name)) continue;
      this.#decisions.present(name);
      this.#log.info({ node: this.#path(name) }, 'device node added');
      this.#emitNode('added', name);
    }
    this.#log.debug(
      { dir: this.#dir, nodes: this.nodes(), poll_interval_ms: this.#pollIntervalMs },
      'device discovery started',
    );
    this.#schedulePoll();
  }

  /**
   * Stops watching and polling and cancels every pending decision; nothing is emitted
   * afterwards, not even for a decision whose `stat` is still running. Safe to call more than
   * once, or before {@link start}. {@link nodes} keeps the last reported state.
   */
  stop(): void {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#decisions.stop();
    this.#closeWatcher();
    if (wasRunning) this.#log.debug({ dir: this.#dir }, 'device discovery stopped');
  }

  /** Full paths of the nodes currently reported present, `video2` before `video10`. */
  nodes(): string[] {
    return [...this.#decisions.reported()].sort(byNumber).map((name) => this.#path(name));
  }

  /**
   * One polling pass: lists the directory and marks every name whose presence differs from
   * the reported state and that is not being decided already, so it is decided like any
   * event (a plug at once, an unplug after the debounce). The polling timer calls this; so does a watcher that cannot
   * say what changed. Resolves once the names are marked, not once they are decided. Does
   * nothing unless running; rejects when the directory exists but cannot be read.
   */
  async reconcile(): Promise<void> {
    if (this.#state !== 'running') return;
    const present = await this.#listPresent();
    if (this.#state !== 'running') return;
    const reported = this.#decisions.reported();
    for (const name of new Set([...present, ...reported])) {
      if (this.#decisions.isPending(name)) continue;
      if (present.has(name) !== reported.has(name)) this.#decisions.mark(name, 'poll');
    }
  }

  #path(name: string): string {
    return join(this.#dir, name);
  }

  /**
   * Whether `name` is a device node now. A character device in real life, a regular file in
   * tests; symlinks are followed, so a dangling one counts as absent. A missing directory
   * means a missing node.
   */
  async #exists(name: string): Promise<boolean> {
    try {
      const stats = await stat(this.#path(name));
      return stats.isCharacterDevice() || stats.isFile();
    } catch (error) {
      if (isAbsent(error)) return false;
      throw new Error(`Cannot tell whether ${this.#path(name)} exists: ${describe(error)}.`, {
        cause: error,
      });
    }
  }

  /** The names of the device nodes in the directory now; a missing directory is empty. */
  async #listPresent(): Promise<Set<string>> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.#dir, { withFileTypes: true });
    } catch (error) {
      if (isAbsent(error)) {
        this.#noteDirectoryMissing(true);
        return new Set();
      }
      throw new Error(`Cannot list the device directory ${this.#dir}: ${describe(error)}.`, {
        cause: error,
      });
    }
    this.#noteDirectoryMissing(false);
    const present = new Set<string>();
    await Promise.all(
      entries
        .filter((entry) => this.#pattern.test(entry.name))
        .map(async (entry) => {
          if (entry.isCharacterDevice() || entry.isFile()) present.add(entry.name);
          else if (entry.isSymbolicLink() && (await this.#exists(entry.name))) {
            present.add(entry.name);
          }
        }),
    );
    return present;
  }

  /** Logs the directory going missing and coming back once each, not on every poll. */
  #noteDirectoryMissing(missing: boolean): void {
    if (missing === this.#directoryMissing) return;
    this.#directoryMissing = missing;
    if (missing) {
      this.#log.warn(
        { dir: this.#dir },
        'the device directory does not exist: treating it as empty until it appears',
      );
    } else {
      this.#log.info({ dir: this.#dir }, 'the device directory exists again');
    }
  }

  #schedulePoll(): void {
    if (this.#state !== 'running') return;
    // A chain of timeouts rather than an interval: passes never overlap on a slow disk.
    this.#pollTimer = setTimeout(() => void this.#poll(), this.#pollIntervalMs);
    this.#pollTimer.unref();
  }

  async #poll(): Promise<void> {
    try {
      await this.#refreshWatcher();
      await this.reconcile();
      this.#pollFailure = undefined;
    } catch (error) {
      const failure = toError(error);
      if (failure.message !== this.#pollFailure) this.#fail(failure);
      this.#pollFailure = failure.message;
    } finally {
      this.#schedulePoll();
    }
  }

  /**
   * Makes sure a watcher watches the directory that is there now: closes one whose directory
   * was removed or replaced (it would stay silent forever) and creates one if there is none.
   * Called at start and before every polling pass, so a broken watcher is re-created within
   * one poll interval. Never throws: without a watcher, polling carries on alone.
   *
   * The identity check is the second line of defence; the first is the event inotify sends
   * when the watched directory itself goes ({@link #onWatchEvent}), because an identity can
   * repeat (same inode, no birth time) and then only that event shows the watcher is dead.
   */
  async #refreshWatcher(): Promise<void> {
    let identity: string | undefined;
    try {
      const stats = await stat(this.#dir);
      // A directory deleted and made again often gets the same inode number back; its birth
      // time tells them apart where the filesystem records one (0 where it does not).
      if (stats.isDirectory()) identity = `${stats.dev}:${stats.ino}:${stats.birthtimeMs}`;
    } catch {
      // missing or unreadable: the listing reports it
    }
    if (this.#state !== 'running') return;
    if (this.#watcher !== undefined) {
      if (identity === this.#watchedDirectory) return;
      this.#closeWatcher();
      this.#log.info(
        { dir: this.#dir },
        'the device directory was removed or replaced: watching it again once it exists',
      );
    }
    if (identity === undefined) return;
    const serial = this.#watcherSerial;
    let watcher: { close(): void };
    try {
      watcher = this.#watchFactory(
        this.#dir,
        (filename) => {
          if (serial === this.#watcherSerial) this.#onWatchEvent(filename);
        },
        (error) => {
          if (serial === this.#watcherSerial) this.#onWatchError(error);
        },
      );
    } catch (error) {
      // Every later poll tries again; only the first failure in a row is worth a warning.
      const level = this.#watchFailing ? 'debug' : 'warn';
      this.#log[level](
        { dir: this.#dir, err: toError(error) },
        `cannot watch the device directory (${describe(error)}): polling every ${this.#pollIntervalMs} ms instead`,
      );
      this.#watchFailing = true;
      return;
    }
    if (serial !== this.#watcherSerial) {
      // It reported an error before it was even returned, and that closed "the watcher".
      try {
        watcher.close();
      } catch {
        // it is broken already
      }
      return;
    }
    this.#watcher = watcher;
    this.#watchedDirectory = identity;
    this.#watchFailing = false;
    this.#log.info({ dir: this.#dir }, 'watching the device directory');
  }

  #onWatchEvent(filename: string | null): void {
    if (this.#state !== 'running') return;
    if (filename === null) {
      this.#log.debug({ dir: this.#dir }, 'device directory event without a name: reconciling');
      this.#reconcileNow();
      return;
    }
    if (filename === this.#selfName) {
      // The directory itself was deleted or moved (IN_DELETE_SELF, IN_MOVE_SELF): this
      // watcher will hear nothing more. An entry of the same name inside the directory would
      // look the same; treating it so costs one re-created watcher and one reconcile.
      this.#closeWatcher();
      this.#log.info(
        { dir: this.#dir },
        'the device directory was removed or moved: watching it again on the next poll',
      );
      this.#reconcileNow();
      return;
    }
    if (this.#pattern.test(filename)) this.#decisions.mark(filename, 'watch');
  }

  #onWatchError(error: Error): void {
    if (this.#state !== 'running') return;
    this.#closeWatcher();
    this.#log.warn(
      { dir: this.#dir, err: error },
      `watching the device directory failed (${error.message}): polling, and watching again on the next poll`,
    );
    this.#reconcileNow();
  }

  #reconcileNow(): void {
    this.reconcile().catch((error: unknown) => this.#fail(toError(error)));
  }

  #closeWatcher(): void {
    const watcher = this.#watcher;
    this.#watcherSerial += 1;
    this.#watcher = undefined;
    this.#watchedDirectory = undefined;
    try {
      watcher?.close();
    } catch (error) {
      this.#log.debug({ dir: this.#dir, err: toError(error) }, 'closing the watcher failed');
    }
  }

  /**
   * Emits a node event. A listener that throws must not break discovery (the emit usually
   * runs in a timer, where a throw would crash the service), so it becomes an `error`.
   */
  #emitNode(event: 'added' | 'removed' | 'changed', name: string): void {
    if (this.#state !== 'running') return;
    const node = this.#path(name);
    try {
      this.emit(event, node);
    } catch (error) {
      this.#fail(
        new Error(`A listener for '${event}' of ${node} threw: ${describe(error)}.`, {
          cause: error,
        }),
      );
    }
  }

  /** Logs a failure, and emits it when somebody listens (unheard, `error` would throw). */
  #fail(error: Error): void {
    this.#log.error({ dir: this.#dir, err: error }, 'device discovery failed');
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', error);
    } catch (listenerError) {
      this.#log.error(
        { err: toError(listenerError) },
        'a listener for the error event of device discovery threw',
      );
    }
  }
}

/** ENOENT and ENOTDIR: the node (or its directory) is not there. */
function isAbsent(error: unknown): boolean {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
