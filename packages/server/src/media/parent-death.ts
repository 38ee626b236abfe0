/**
 * A child that must not outlive the service, even when the service is killed outright
 * (SIGKILL, a crash), when no exit handler can run: started through util-linux's
 * `setpriv --pdeathsig TERM`, the kernel sends it SIGTERM the moment the service's main
 * thread ends. setpriv then execs the program, which keeps setpriv's process id (and
 * process group), so nothing else stays in between. Where setpriv is missing the child is
 * started as it is; the pid file (stale.ts) finds it at the next start instead.
 */
import { existsSync } from 'node:fs';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path)) ?? null;

export interface GuardedCommand {
  command: string;
  args: string[];
  /** Whether the kernel ends it with the service. */
  guarded: boolean;
}

export function withParentDeathSignal(command: string, args: string[]): GuardedCommand {
  if (!SETPRIV) return { command, args, guarded: false };
  return { command: SETPRIV, args: ['--pdeathsig', 'TERM', '--', command, ...args], guarded: true };
}
