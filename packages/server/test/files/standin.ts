/**
 * A stand-in for a tool on PATH (ffprobe, ffmpeg) that records when each run starts and
 * ends, and can hold the runs whose arguments match until released, so a test can count
 * how many run at once while the service has a full line of work.
 *
 * Holding uses flock(1): the test keeps an exclusive lock (in a `flock` child), each held
 * run asks for a shared one, and all of them go on when the child ends. Runs that do not
 * match, or start while nothing is held, go straight to the real tool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StandIn {
  /** Prepend to PATH. */
  bin: string;
  /** Makes matching runs wait until release(); resolves once the lock is held. */
  hold(): Promise<void>;
  release(): void;
  /** Runs that have started / ended so far. */
  starts(): number;
  ends(): number;
  /** The most runs that were alive at once, from the start and end lines in order. */
  maxConcurrent(): number;
  remove(): void;
}

/**
 * @param tool the name on PATH ("ffprobe")
 * @param match a substring of the arguments that marks a run to count and hold ("" for all)
 */
export function standIn(tool: string, match = ''): StandIn {
  const bin = mkdtempSync(join(tmpdir(), `standin-${tool}-`));
  const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  const log = join(bin, 'runs.log');
  const lock = join(bin, 'hold.lock');
  writeFileSync(log, '');
  writeFileSync(lock, '');
  writeFileSync(
    join(bin, tool),
    [
      '#!/bin/sh',
      `case " $* " in *'${match}'*) ;; *) exec '${real}' "$@" ;; esac`,
      `echo "start $$" >> '${log}'`,
      `flock -s '${lock}' true`,
      `'${real}' "$@"`,
      'rc=$?',
      `echo "end $$" >> '${log}'`,
      'exit $rc',
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, tool), 0o755);
  const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  let holder: ChildProcess | null = null;
  return {
    bin,
    hold() {
      return new Promise((resolve, reject) => {
        const child = spawn('flock', ['-x', lock, 'sh', '-c', 'echo locked; cat >/dev/null'], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        holder = child;
        child.once('error', reject);
        child.stdout.once('data', () => resolve());
      });
    },
    release() {
      holder?.stdin?.end();
      holder = null;
    },
    starts: () => lines().filter((l) => l.startsWith('start')).length,
    ends: () => lines().filter((l) => l.startsWith('end')).length,
    maxConcurrent() {
      let alive = 0;
      let most = 0;
      for (const line of lines()) {
        alive += line.startsWith('start') ? 1 : -1;
        most = Math.max(most, alive);
      }
      return most;
    },
    remove() {
      this.release();
      rmSync(bin, { recursive: true, force: true });
    },
  };
}

/** Resolves once `check()` holds, looking every 20 ms; rejects after timeoutMs. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
