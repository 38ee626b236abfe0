/**
 * What device discovery decides about each node name from the marks its watcher and its
 * polling give it (see discovery.ts for where the marks come from and why).
 *
 * Every mark is followed by one `stat` of the name, one at a time per name: a mark that
 * arrives while a `stat` runs asks for another once it ends, so the `stat`s of a name run in
 * order and the last one, made after the last mark, decides. What it finds is compared with
 * the last reported state:
 *
 * - present, not reported: `added` at once, whatever marks follow. The kernel creates a node,
 *   then udev sets its mode and group and adds its links: those are changes of a node that is
 *   there, not a flap, and waiting for them to end made every plug a debounce late;
 * - present, reported: `changed` (udev finishing its work, an admin's chmod, a re-plug), and
 *   an unplug waiting for its debounce is called off;
 * - absent, reported: an unplug. It is confirmed by one more `stat` once the name has been
 *   quiet for `debounceMs` (every mark restarts the wait), and only then `removed`. So a
 *   re-plug inside the window reports nothing, and a flapping cable ends in one `added` (and
 *   one `removed` if it ends unplugged);
 * - absent, not reported: nothing.
 *
 * Once a name has nothing left to do (no `stat` running or asked for, no unplug waiting), it
 * is logged as `device node settled`: what tests wait for to know that nothing is pending.
 */
import type { Logger } from '../logging/index.js';

export type NodeEvent = 'added' | 'removed' | 'changed';
export type MarkSource = 'watch' | 'poll';

export interface NodeDecisionsOptions {
  debounceMs: number;
  log: Logger;
  /** Whether the node is there now, from a fresh `stat`; rejects when that cannot be told. */
  exists: (name: string) => Promise<boolean>;
  /** The node's full path, for the log. */
  path: (name: string) => string;
  /** Reports a decision. */
  report: (event: NodeEvent, name: string) => void;
  /** Reports a `stat` that failed (the name keeps its reported state). */
  fail: (error: Error) => void;
}

/** A name with something under way. */
interface Pending {
  /** A `stat` runs for it. */
  checking: boolean;
  /** Marked while that `stat` ran: `stat` once more when it ends. */
  again: boolean;
  /** Found gone while reported: the unplug's debounce. */
  unplug: NodeJS.Timeout | undefined;
  /** The debounce passed without a new mark: the next `stat` that finds it gone reports it. */
  due: boolean;
}

export class NodeDecisions {
  readonly #options: NodeDecisionsOptions;
  /** Names (not paths) of the nodes last reported present. */
  readonly #reported = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  #stopped = false;

  constructor(options: NodeDecisionsOptions) {
    this.#options = options;
  }

  /** Names reported present. */
  reported(): ReadonlySet<string> {
    return this.#reported;
  }

  /** Whether the name has a `stat` under way or an unplug waiting. */
  isPending(name: string): boolean {
    return this.#pending.has(name);
  }

  /** Records a node found at start as reported (the caller reports it). */
  present(name: string): void {
    this.#reported.add(name);
  }

  /** Something happened to `name`: restart its unplug's debounce, and look at it. */
  mark(name: string, source: MarkSource): void {
    if (this.#stopped) return;
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      pending = { checking: false, again: false, unplug: undefined, due: false };
      this.#pending.set(name, pending);
    }
    clearTimeout(pending.unplug);
    pending.unplug = undefined;
    pending.due = false;
    this.#options.log.debug({ node: this.#options.path(name), source }, 'device node changed');
    this.#check(name, pending);
  }

  /** Cancels everything under way; nothing is reported afterwards. */
  stop(): void {
    this.#stopped = true;
    for (const pending of this.#pending.values()) clearTimeout(pending.unplug);
    this.#pending.clear();
  }

  #check(name: string, pending: Pending): void {
    if (pending.checking) {
      pending.again = true;
      return;
    }
    pending.checking = true;
    pending.again = false;
    this.#options.exists(name).then(
      (present) => this.#decide(name, pending, present),
      (error: unknown) => this.#undecided(name, pending, error),
    );
  }

  #current(name: string, pending: Pending): boolean {
    return !this.#stopped && this.#pending.get(name) === pending;
  }

  #decide(name: string, pending: Pending, present: boolean): void {
    pending.checking = false;
    if (!this.#current(name, pending)) return;
    const node = this.#options.path(name);
    const reported = this.#reported.has(name);
    if (present) {
      pending.due = false;
      if (reported) {
        this.#emit('changed', name);
      } else {
        this.#reported.add(name);
        this.#options.log.info({ node }, 'device node added');
        this.#emit('added', name);
      }
    } else if (reported && pending.due) {
      this.#reported.delete(name);
      this.#options.log.info({ node }, 'device node removed');
      this.#emit('removed', name);
    } else if (reported && pending.unplug === undefined) {
      this.#waitForUnplug(name, pending);
    }
    if (!this.#current(name, pending)) return; // a listener stopped discovery
    if (pending.again) {
      this.#check(name, pending);
      return;
    }
    if (pending.unplug === undefined) this.#settled(name, present);
  }

  /** A `stat` failed: undecidable, not "absent"; the next poll marks it again if need be. */
  #undecided(name: string, pending: Pending, error: unknown): void {
    pending.checking = false;
    if (!this.#current(name, pending)) return;
    if (pending.again) {
      this.#check(name, pending);
    } else {
      clearTimeout(pending.unplug);
      this.#pending.delete(name);
    }
    this.#options.fail(error instanceof Error ? error : new Error(String(error)));
  }

  #waitForUnplug(name: string, pending: Pending): void {
    this.#options.log.debug(
      { node: this.#options.path(name), debounce_ms: this.#options.debounceMs },
      'device node gone: confirming after the debounce',
    );
    pending.unplug = setTimeout(() => {
      pending.unplug = undefined;
      if (!this.#current(name, pending)) return;
      pending.due = true;
      this.#check(name, pending);
    }, this.#options.debounceMs);
    pending.unplug.unref();
  }

  #settled(name: string, present: boolean): void {
    this.#pending.delete(name);
    this.#options.log.debug({ node: this.#options.path(name), present }, 'device node settled');
  }

  #emit(event: NodeEvent, name: string): void {
    this.#options.report(event, name);
  }
}
