/**
 * Recordings a crash left open: each session's journal (`<recordings>/.sessions/<id>.json`)
 * found at start-up names its files. An ffmpeg of the earlier run still writing them is
 * ended first; then each file is measured, remuxed when ffprobe cannot read it, and the
 * outcome logged (`recording left open by an earlier run recovered`).
 */
import { readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '../logging/index.js';
import { runFfmpeg } from './ffmpeg.js';

export interface RecoveryOptions {
  /** The recordings directory. */
  dir: string;
  log: Logger;
  /** A file's duration (ffprobe, through the probe limiter), null when unreadable. */
  duration: (file: string) => Promise<number | null>;
}

export async function recoverJournals(options: RecoveryOptions): Promise<void> {
  const { dir, log } = options;
  const journals = join(dir, '.sessions');
  let names: string[];
  try {
    names = await readdir(journals);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const path = join(journals, name);
    try {
      const journal = JSON.parse(await readFile(path, 'utf8')) as {
        device: string;
        files: string[];
        start_time: string;
        pid?: number | null;
      };
      // Its ffmpeg could still run (on a machine without setpriv, against a media server
      // that outlived us): end it before its files are read.
      if (typeof journal.pid === 'number') await endOrphan(journal.pid, dir, log);
      const found: { file: string; duration: number | null; repaired: boolean }[] = [];
      for (const file of journal.files) {
        const full = join(dir, basename(file));
        if (!(await stat(full).catch(() => null))) continue;
        let duration = await options.duration(full);
        let repaired = false;
        if (duration === null) {
          repaired = await remux(full, log);
          duration = await options.duration(full);
        }
        found.push({ file: basename(file), duration, repaired });
      }
      log.warn(
        { device: journal.device, start_time: journal.start_time, files: found },
        'recording left open by an earlier run recovered',
      );
    } catch (error) {
      log.error(
        { journal: name, err: (error as Error).message },
        'could not recover a recording journal',
      );
    }
    await unlink(path).catch(() => undefined);
  }
}

/** Ends an earlier run's ffmpeg if that pid is still one writing into our directory. */
async function endOrphan(pid: number, dir: string, log: Logger): Promise<void> {
  const writesHere = async () =>
    (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(dir);
  if (!(await writesHere())) return;
  log.warn({ child_pid: pid }, 'an ffmpeg of an earlier run still records: ending it');
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < 5000 && (await writesHere()); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (await writesHere()) signal('SIGKILL');
}

async function remux(file: string, log: Logger): Promise<boolean> {
  const fixed = `${file}.repair${file.slice(file.lastIndexOf('.'))}`;
  const run = runFfmpeg({
    name: `repair ${basename(file)}`,
    args: [
      ...['-loglevel', 'error', '-err_detect', 'ignore_err', '-i', file],
      ...['-map', '0', '-c', 'copy', '-y', fixed],
    ],
    log,
    timeoutMs: 120_000,
  });
  const exit = await run.done;
  if (exit.code === 0) {
    await rename(fixed, file);
    return true;
  }
  await rm(fixed, { force: true });
  return false;
}
