/**
 * The managed MediaMTX of an earlier run that is still running (the service was killed
 * where nothing could stop it, or setpriv is missing): it holds the ports, so the new one
 * could not start. Its process id is kept in a pid file next to its configuration while
 * it runs; at the next start that process is stopped, but only when it still is that
 * MediaMTX: its command line runs `mediamtx` with this very configuration file. A process
 * that merely reused the pid is left alone.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../logging/index.js';

/** The pid in the file, or null when there is none (or not a number). */
export function readPidFile(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

export function writePidFile(file: string, pid: number): void {
  writeFileSync(file, `${pid}\n`, { mode: 0o600 });
}

/** Removes the pid file, when it still names `pid` (a newer run may have written it). */
export function removePidFile(file: string, pid: number): void {
  if (readPidFile(file) === pid) rmSync(file, { force: true });
}

/** The command line of a live process, or null (gone, a zombie, or no /proc). */
function commandLine(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return null;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/** Whether `pid` is a mediamtx (or its stand-in) reading this configuration file. */
export function isOurMediaMtx(pid: number, configFile: string): boolean {
  const argv = commandLine(pid);
  if (!argv) return false;
  return argv.includes(configFile) && argv.some((word) => basename(word) === 'mediamtx');
}

export interface StaleOptions {
  pidFile: string;
  configFile: string;
  log: Logger;
  /** How long it has after SIGTERM before SIGKILL (default 5000 ms). */
  graceMs?: number;
}

/**
 * Stops the MediaMTX the pid file names, if it is still ours; removes the file. Resolves
 * with what was found.
 */
export async function stopStaleMediaMtx(
  options: StaleOptions,
): Promise<'none' | 'stopped' | 'not ours'> {
  const { pidFile, configFile, log } = options;
  const pid = readPidFile(pidFile);
  rmSync(pidFile, { force: true });
  if (pid === null || commandLine(pid) === null) return 'none';
  if (!isOurMediaMtx(pid, configFile)) {
    log.info(
      { child_pid: pid, pid_file: pidFile },
      'the pid file of an earlier mediamtx names another program now: left alone',
    );
    return 'not ours';
  }
  log.warn(
    { child_pid: pid, pid_file: pidFile },
    'a mediamtx left running by an earlier run holds its ports: stopping it',
  );
  signal(pid, 'SIGTERM');
  const deadline = performance.now() + (options.graceMs ?? 5000);
  while (isOurMediaMtx(pid, configFile) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (isOurMediaMtx(pid, configFile)) {
    log.warn({ child_pid: pid }, 'the earlier mediamtx did not stop after SIGTERM: killing it');
    signal(pid, 'SIGKILL');
    // Its ports are free once the kernel has finished it.
    const killed = performance.now() + 2000;
    while (commandLine(pid) !== null && performance.now() < killed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return 'stopped';
}

/** Signals its process group (it led one, as the supervisor starts it), else the process. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      // gone
    }
  }
}
