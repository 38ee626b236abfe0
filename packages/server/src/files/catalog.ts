/**
 * An index of the media files in one directory (recordings, or snapshots), so listing
 * 10,000 files costs a sort of what is in memory, not 10,000 `stat` calls per request.
 *
 * It is built by one scan at start, then kept current by the writers (`note` after a
 * file is written, `forget` after a delete), by what `DirectoryWatch` (dir-watch.ts) sees of
 * files placed there by any other means (a copy, an rsync, a restore, even a directory
 * swapped for another: within seconds, each file with its own times), and by a periodic
 * full rescan that repairs whatever that missed. Names that are not plain media names
 * (hidden files such as `.sessions/` and half-written `.part` files, other extensions) are
 * not listed, nor are files with another hard link (see `isOwnFile`). Where the files say
 * which camera made them (`readOrigin`: the snapshots' JPEG comment), the entry keeps it.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import type { Logger } from '../logging/index.js';
import { DirectoryWatch, type DirWatchFactory } from './dir-watch.js';
import { isMediaName, isOwnFile, resolveInside } from './names.js';
import type { FileOrigin } from './origin-tag.js';

export interface CatalogEntry {
  name: string;
  size: number;
  mtimeMs: number;
  /** Birth time where the filesystem records it, else the modification time. */
  createdMs: number;
  /** The camera that made it, as the file itself says; null when it does not. */
  origin: FileOrigin | null;
}

/** When an entry was last read (performance.now()), so a rescan can tell what is newer. */
const readAt = new WeakMap<CatalogEntry, number>();

export type SortOrder = 'newest' | 'oldest' | 'name' | 'largest';

export interface CatalogOptions {
  dir: string;
  /** Extensions listed (lower case, without the dot). */
  extensions: readonly string[];
  log: Logger;
  /** How often the directory is listed again to repair missed events (default 60 s). */
  rescanMs?: number;
  /** Told when a file leaves the index, however it went. */
  onForget?: (name: string) => void;
  /** Reads which camera made a file (new or changed), from the file itself. */
  readOrigin?: (file: string) => Promise<FileOrigin | null>;
  /** How often the directory itself is checked for entries that came without events (2 s). */
  checkMs?: number;
  /** The directory watch's watcher (tests lose events with it). */
  watch?: DirWatchFactory;
}

/**
 * Quiet time before a watched file is read again: a recording being written changes with
 * every fragment, and one `stat` per burst is enough.
 */
const WATCH_SETTLE_MS = 250;

/** Stats at most this many files at once while scanning. */
const SCAN_CONCURRENCY = 64;

const COMPARE: Record<SortOrder, (a: CatalogEntry, b: CatalogEntry) => number> = {
  newest: (a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : -1),
  oldest: (a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : 1),
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  largest: (a, b) => b.size - a.size || (a.name < b.name ? -1 : 1),
};

export class FileCatalog {
  readonly dir: string;
  readonly #options: CatalogOptions;
  readonly #entries = new Map<string, CatalogEntry>();
  /** Sorted views, dropped on any change. */
  readonly #sorted = new Map<SortOrder, CatalogEntry[]>();
  readonly #watch: DirectoryWatch;
  /** A listing of the names under way, so checks that come fast do not pile up. */
  #listing: Promise<void> | undefined;
  readonly #settling = new Map<string, NodeJS.Timeout>();
  #rescanTimer: NodeJS.Timeout | undefined;
  #running = false;
  #totalBytes = 0;
  /** Names refused for having other hard links, with the inode warned about (once each). */
  readonly #linked = new Map<string, number>();

  constructor(options: CatalogOptions) {
    this.dir = options.dir;
    this.#options = options;
    this.#watch = new DirectoryWatch({
      dir: options.dir,
      log: options.log,
      ...(options.checkMs !== undefined && { checkMs: options.checkMs }),
      ...(options.watch && { watch: options.watch }),
      onName: (name) => {
        if (this.#wants(name)) this.#settle(name);
      },
      onListing: (kind) => {
        const listed = kind === 'full' ? this.rescan() : this.#listNames();
        listed.catch((error: unknown) =>
          options.log.warn(
            { dir: this.dir, err: (error as Error).message },
            'could not list the media directory',
          ),
        );
      },
    });
  }

  /** Scans the directory (creating it when missing), then watches it. */
  async start(): Promise<void> {
    this.#running = true;
    await mkdir(this.dir, { recursive: true });
    // Watch first, scan second: a file that appears in between is then seen by the watch.
    await this.#watch.start();
    await this.rescan();
    const every = this.#options.rescanMs ?? 60_000;
    const tick = () => {
      this.#rescanTimer = setTimeout(() => {
        this.rescan()
          .catch((error: unknown) =>
            this.#options.log.warn(
              { dir: this.dir, err: (error as Error).message },
              'could not rescan the media directory',
            ),
          )
          .finally(() => {
            if (this.#running) tick();
          });
      }, every);
      this.#rescanTimer.unref();
    };
    tick();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#rescanTimer);
    for (const timer of this.#settling.values()) clearTimeout(timer);
    this.#settling.clear();
    this.#watch.stop();
  }

  get count(): number {
    return this.#entries.size;
  }

  /** Bytes in every listed file. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  get(name: string): CatalogEntry | undefined {
    return this.#entries.get(name);
  }

  /** Every entry, in the given order (a view: do not change it). */
  sorted(order: SortOrder): readonly CatalogEntry[] {
    let view = this.#sorted.get(order);
    if (!view) {
      view = [...this.#entries.values()].sort(COMPARE[order]);
      this.#sorted.set(order, view);
    }
    return view;
  }

  /** Lists the directory again and reads every file in it: the index is then in line. */
  async rescan(): Promise<void> {
    await this.#list(true);
  }

  /**
   * Files that came or went without events: lists the names, reads the new ones and drops
   * the vanished ones (a file changed in place waits for the full rescan). One at a time.
   */
  #listNames(): Promise<void> {
    this.#listing ??= this.#list(false).finally(() => {
      this.#listing = undefined;
    });
    return this.#listing;
  }

  async #list(full: boolean): Promise<void> {
    const started = performance.now();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      names = []; // the directory was removed: nothing is there (the watch says when it is back)
    }
    const wanted = names.filter((n) => this.#wants(n));
    const present = new Set(wanted);
    for (const name of this.#linked.keys()) if (!present.has(name)) this.#linked.delete(name);
    for (const [name, entry] of [...this.#entries]) {
      // A file noted after the listing began (a snapshot just written) is not in it.
      if (!present.has(name) && (readAt.get(entry) ?? 0) < started) this.#delete(name);
    }
    const reading = full ? wanted : wanted.filter((name) => !this.#entries.has(name));
    for (let i = 0; i < reading.length; i += SCAN_CONCURRENCY) {
      await Promise.all(reading.slice(i, i + SCAN_CONCURRENCY).map((name) => this.note(name)));
    }
    if (!full && reading.length > 0) {
      this.#options.log.debug(
        { dir: this.dir, files: reading.length },
        'files found in the media directory by listing it',
      );
    }
  }

  /** (Re)reads one file's size and times: a writer finished it, or the watch saw it change. */
  async note(name: string): Promise<CatalogEntry | undefined> {
    if (!this.#wants(name)) return undefined;
    let stats;
    let file: string | null;
    try {
      // A link is listed only when it leads to a file inside the directory, as served.
      file = await resolveInside(this.dir, name, this.#options.extensions);
      if (file === null) throw new Error('not inside');
      stats = await stat(file);
    } catch {
      this.#delete(name);
      return undefined;
    }
    if (!isOwnFile(stats)) {
      if (stats.isFile()) this.#warnLinked(name, stats.ino, stats.nlink);
      this.#delete(name);
      return undefined;
    }
    this.#linked.delete(name);
    const createdMs = stats.birthtimeMs > 0 ? stats.birthtimeMs : stats.mtimeMs;
    const previous = this.#entries.get(name);
    if (
      previous &&
      previous.size === stats.size &&
      previous.mtimeMs === stats.mtimeMs &&
      previous.createdMs === createdMs
    ) {
      readAt.set(previous, performance.now());
      return previous;
    }
    // A new file, or a new version of it: what it says of its camera is read again.
    const origin = (await this.#options.readOrigin?.(file)) ?? null;
    const entry: CatalogEntry = {
      name,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      createdMs,
      origin,
    };
    readAt.set(entry, performance.now());
    this.#totalBytes += entry.size - (previous?.size ?? 0);
    this.#entries.set(name, entry);
    this.#sorted.clear();
    return entry;
  }

  /** A file was deleted. */
  forget(name: string): void {
    this.#delete(name);
  }

  #warnLinked(name: string, ino: number, links: number): void {
    if (this.#linked.get(name) === ino) return;
    this.#linked.set(name, ino);
    this.#options.log.warn(
      { dir: this.dir, filename: name, links },
      'a media file has other hard links: it is not listed, served or deleted (copy it in instead)',
    );
  }

  #wants(name: string): boolean {
    return isMediaName(name, this.#options.extensions);
  }

  #delete(name: string): void {
    const previous = this.#entries.get(name);
    if (!previous) return;
    this.#entries.delete(name);
    this.#totalBytes -= previous.size;
    this.#sorted.clear();
    this.#options.onForget?.(name);
  }

  /** A watched name changed: read it once it has been quiet for WATCH_SETTLE_MS. */
  #settle(name: string): void {
    clearTimeout(this.#settling.get(name));
    const timer = setTimeout(() => {
      this.#settling.delete(name);
      void this.note(name);
    }, WATCH_SETTLE_MS);
    timer.unref();
    this.#settling.set(name, timer);
  }
}
