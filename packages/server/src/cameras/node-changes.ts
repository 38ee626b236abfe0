/**
 * The changes discovery reports of nodes that are there (`changed`: udev setting the mode
 * and group, an admin's chmod), for a probe waiting to try again: a camera whose first open
 * was refused because udev had not yet given the service access is probed again as soon as
 * udev has, not after the fixed pause between attempts.
 */
export class NodeChanges {
  readonly #counts = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Discovery reported a change of `node`. */
  note(node: string): void {
    this.#counts.set(node, this.#count(node) + 1);
    for (const wake of [...(this.#waiters.get(node) ?? [])]) wake();
  }

  /** The node went away: nothing of it is kept. */
  forget(node: string): void {
    this.#counts.delete(node);
  }

  /**
   * A pause between probe attempts of `node`, for probeDevice's `retryWait`: it ends after
   * `ms`, or as soon as the node changes, at once when it changed during the attempt that
   * just failed. Resolves with whether a change ended it.
   */
  retryWait(node: string): (ms: number) => Promise<boolean> {
    let seen = this.#count(node);
    return (ms) =>
      new Promise<boolean>((resolve) => {
        const end = (changed: boolean) => {
          clearTimeout(timer);
          this.#waiters.get(node)?.delete(wake);
          if (this.#waiters.get(node)?.size === 0) this.#waiters.delete(node);
          seen = this.#count(node);
          resolve(changed);
        };
        const wake = () => end(true);
        const timer = setTimeout(() => end(false), ms);
        if (this.#count(node) !== seen) {
          end(true);
          return;
        }
        let waiters = this.#waiters.get(node);
        if (!waiters) {
          waiters = new Set();
          this.#waiters.set(node, waiters);
        }
        waiters.add(wake);
      });
  }

  #count(node: string): number {
    return this.#counts.get(node) ?? 0;
  }
}
