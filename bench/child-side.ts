/**
 * What every benchmark child (load.ts, auth-load.ts, relay-load.ts, relay-server.ts) does
 * the same way: fail loudly on stderr with a non-zero exit, never outlive its parent, and
 * take its credentials from the environment (see protocol.ts for why not from its
 * arguments).
 */
import { fstatSync } from 'node:fs';

export function fail(name: string, message: string): never {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(1);
}

/**
 * When stdin is a pipe (as run.ts starts its children), its end means the parent died:
 * exit then, so a crashed or killed orchestrator leaves no load running behind it.
 * `onGone` replaces the immediate exit, for a child that must shut down first (it
 * should still exit soon).
 */
export function exitWithParent(
  name: string,
  onGone: () => void = () => fail(name, 'the parent process went away'),
): void {
  // child_process 'pipe' stdio is a socket pair; a shell pipe is a FIFO. A terminal or
  // /dev/null is neither, and their stdin must not end the run.
  let isPipe = false;
  try {
    const stdin = fstatSync(0);
    isPipe = stdin.isFIFO() || stdin.isSocket();
  } catch {
    return;
  }
  if (!isPipe) return;
  process.stdin.on('end', onGone);
  process.stdin.resume();
}

export function requireEnv(variable: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') {
    throw new Error(`${variable} is not set: the orchestrator passes the credential in it`);
  }
  return value;
}
