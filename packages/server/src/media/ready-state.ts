/**
 * Which streams are ready to read, as far as the service knows, and an event on every
 * change. What feeds it depends on the media server:
 *
 *   - the embedded relay's own `ready` / `notReady` events, at once;
 *   - every health check's path list (MediaMTX, and the relay too as a reconciliation):
 *     a stream started or stopped by someone else is known within one check interval;
 *   - the service's own reads of a path (waitReady, a camera's metrics), at once.
 */
import { EventEmitter } from 'node:events';
import type { PathStatus } from './client.js';

export interface ReadyEvents {
  change: [name: string, ready: boolean];
}

export class ReadyState extends EventEmitter<ReadyEvents> {
  /** Ready paths and when they became ready (null when unknown). */
  readonly #ready = new Map<string, string | null>();
  /** When each path's state was last set (performance.now()), for reconcile. */
  readonly #setAt = new Map<string, number>();

  isReady(name: string): boolean {
    return this.#ready.has(name);
  }

  readyTime(name: string): string | null {
    return this.#ready.get(name) ?? null;
  }

  /** Records one path's state; emits `change` when it differs from what was known. */
  set(name: string, ready: boolean, readyTime: string | null = null): void {
    this.#setAt.set(name, performance.now());
    const was = this.#ready.has(name);
    if (ready) this.#ready.set(name, readyTime ?? this.#ready.get(name) ?? null);
    else this.#ready.delete(name);
    if (was !== ready) this.emit('change', name, ready);
  }

  /** Forgets a path the service deletes, without an event: nobody watches it any more. */
  forget(name: string): void {
    this.#ready.delete(name);
    this.#setAt.delete(name);
  }

  /**
   * The media server's whole list, asked for at `askedAt` (performance.now()): a ready
   * path missing from it is ready no more. A path whose state was set since the list was
   * asked for (the service just saw it start) keeps that newer state.
   */
  reconcile(paths: PathStatus[], askedAt: number): void {
    const fresh = (name: string) => (this.#setAt.get(name) ?? -Infinity) > askedAt;
    const listed = new Set<string>();
    for (const path of paths) {
      listed.add(path.name);
      if (!fresh(path.name)) this.set(path.name, path.ready, path.readyTime);
    }
    for (const name of [...this.#ready.keys()]) {
      if (!listed.has(name) && !fresh(name)) this.set(name, false);
    }
  }

  /** Nothing can be read now (the media server is away). */
  clear(): void {
    for (const name of [...this.#ready.keys()]) this.set(name, false);
  }
}
