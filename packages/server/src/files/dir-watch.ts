/**
 * Keeps a media catalog told of what happens in its directory, from any source: the
 * service's own writers, a copy, an rsync or a restore.
 *
 * - A filesystem watch (inotify) names each file created, written, renamed in, touched
 *   (`utimes`) or deleted: `onName`.
 * - A watch on a directory that is removed, renamed away or replaced (a restore that swaps
 *   the directory, `rm -r` then `mkdir`) hears nothing more, without an error. inotify says
 *   so for the directory itself (an event named like the directory), and every `checkMs` the
 *   directory's identity (device, inode, birth time) is compared with the watched one: a new
 *   directory is watched again and listed in full (`onListing('full')`).
 * - Where events do not come at all (a network filesystem written by another machine, a
 *   watch that could not be created), the same check sees the directory's own times change
 *   when an entry is added, removed or renamed, and asks for a listing of the names
 *   (`onListing('names')`): new files are read, vanished ones dropped, within `checkMs`.
 *
 * What neither sees (a file changed in place without events) the catalog's periodic full
 * rescan repairs.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Logger } from '../logging/index.js';

/** Starts watching `dir`: `onChange` gets the name that changed, or null when unknown. */
export type DirWatchFactory = (
  dir: string,
  onChange: (name: string | null) => void,
  onError: (error: Error) => void,
) => { close(): void };

/** The default: `fs.watch` (inotify on Linux), not keeping the process alive. */
export const watchDir: DirWatchFactory = (dir, onChange, onError) => {
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, name) =>
    onChange(name === null ? null : name.toString()),
  );
  watcher.on('error', onError);
  return watcher;
};

export interface DirWatchOptions {
  dir: string;
  log: Logger;
  /** A name in the directory changed (created, written, renamed, touched, deleted). */
  onName: (name: string) => void;
  /**
   * The directory should be listed again: `full` when it is a new directory (or the watch
   * could not say what changed), `names` when entries were added or removed without events.
   */
  onListing: (kind: 'full' | 'names') => void;
  /** How often the directory itself is checked (default 2 s). */
  checkMs?: number;
  /** Injectable so tests can lose events on purpose. */
  watch?: DirWatchFactory;
}

interface DirState {
  /** `dev:ino:birth`: which directory it is. */
  identity: string;
  /** Its modification and change times: they move when an entry is added or removed. */
  times: string;
}

export class DirectoryWatch {
  readonly #options: DirWatchOptions;
  readonly #selfName: string;
  #watcher: { close(): void } | undefined;
  /** How the directory was at the last check (undefined: missing). */
  #last: DirState | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #checking = false;
  /** Bumped when a watcher is closed, so that late callbacks of an old one are ignored. */
  #serial = 0;
  #failing = false;
  /** inotify said the directory itself went: what is there now is another one. */
  #moved = false;

  constructor(options: DirWatchOptions) {
    this.#options = options;
    this.#selfName = basename(resolve(options.dir));
  }

  /** Watches the directory (when it exists) and starts the periodic check. */
  async start(): Promise<void> {
    this.#running = true;
    this.#last = await this.#read();
    if (this.#last) this.#open();
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#close();
  }

  /**
   * Compares the directory with how it was at the last check: a directory that is another
   * one (replaced, or back after it was gone) is watched again and listed in full; one whose
   * entries changed is listed by name; a watch that broke is made again.
   */
  async check(): Promise<void> {
    if (!this.#running || this.#checking) return;
    this.#checking = true;
    try {
      const state = await this.#read();
      if (!this.#running) return;
      const previous = this.#last;
      this.#last = state;
      if (state === undefined) {
        if (previous === undefined) return;
        this.#close();
        this.#options.log.info(
          { dir: this.#options.dir },
          'the media directory is gone: watching it again once it is back',
        );
        this.#options.onListing('full');
        return;
      }
      const moved = this.#moved;
      this.#moved = false;
      if (previous === undefined || previous.identity !== state.identity || moved) {
        this.#close();
        this.#open();
        this.#options.log.info(
          { dir: this.#options.dir },
          previous === undefined
            ? 'the media directory is back: watching and listing it'
            : 'the media directory was replaced: watching and listing the new one',
        );
        this.#options.onListing('full');
        return;
      }
      if (this.#watcher === undefined) {
        // A watch that broke (or could not be made): whatever it missed meanwhile.
        this.#open();
        if (this.#watcher !== undefined) {
          this.#options.onListing('names');
          return;
        }
      }
      if (previous.times !== state.times) this.#options.onListing('names');
    } finally {
      this.#checking = false;
    }
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      void this.check().finally(() => this.#schedule());
    }, this.#options.checkMs ?? 2000);
    this.#timer.unref();
  }

  async #read(): Promise<DirState | undefined> {
    try {
      const s = await stat(this.#options.dir);
      if (!s.isDirectory()) return undefined;
      // A directory made again often gets the same inode back; its birth time tells them
      // apart where the filesystem records one.
      return {
        identity: `${s.dev}:${s.ino}:${s.birthtimeMs}`,
        times: `${s.mtimeMs}:${s.ctimeMs}`,
      };
    } catch {
      return undefined;
    }
  }

  #open(): void {
    const serial = this.#serial;
    try {
      this.#watcher = (this.#options.watch ?? watchDir)(
        this.#options.dir,
        (name) => {
          if (serial === this.#serial) this.#onEvent(name);
        },
        (error) => {
          if (serial !== this.#serial) return;
          this.#options.log.warn(
            { dir: this.#options.dir, err: error.message },
            'the media directory watch failed: checking the directory instead, and watching it again at the next check',
          );
          this.#close();
        },
      );
      this.#failing = false;
    } catch (error) {
      // Without a watch the periodic check still sees entries come and go; warn once in a row.
      if (!this.#failing) {
        this.#options.log.warn(
          { dir: this.#options.dir, err: (error as Error).message },
          'cannot watch the media directory: checking it every few seconds instead',
        );
      }
      this.#failing = true;
    }
  }

  #onEvent(name: string | null): void {
    if (!this.#running) return;
    if (name === null) {
      this.#options.onListing('full');
      return;
    }
    // The directory itself was removed or moved away (IN_DELETE_SELF, IN_MOVE_SELF): this
    // watch hears nothing more, even if a new directory gets the same inode back. It is
    // closed, and the check makes a new one (a file of the same name would look the same;
    // that costs a new watch and a listing).
    if (name === this.#selfName) {
      this.#close();
      this.#moved = true;
      void this.check();
    }
    this.#options.onName(name);
  }

  #close(): void {
    this.#serial += 1;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    try {
      watcher?.close();
    } catch {
      // already broken
    }
  }
}
