/**
 * Child process bookkeeping shared by the server and load-generator launchers: every
 * child the benchmark starts is tracked until it exits, so that whatever happens (an
 * exception, Ctrl-C) the orchestrator can end exactly the processes it started.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true when the child has exited, false if it is still running after `ms`. */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 1000);
}

/** Last resort on the way out: SIGKILL whatever is still running, by its own handle. */
export function killTracked(): void {
  for (const child of live) if (!hasExited(child)) child.kill('SIGKILL');
}

/** Keeps the last `limit` characters of a stream, for error messages. */
export class Tail {
  #text = '';

  constructor(readonly limit = 4000) {}

  push(chunk: string): void {
    this.#text = (this.#text + chunk).slice(-this.limit);
  }

  toString(): string {
    return this.#text.trim();
  }
}
