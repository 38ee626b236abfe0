/** ffprobe facts about a media file, for stop results and recovery. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Seconds of media in the file. The container's own duration when it has one; else (a
 * Matroska file whose writer was killed before it wrote the duration) from its last
 * video packet. Rejects when ffprobe cannot read the file.
 */
export async function probeDuration(file: string, timeoutMs = 30_000): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file],
    { timeout: timeoutMs },
  );
  const value = Number.parseFloat(stdout.trim());
  if (Number.isFinite(value)) return value;
  const packets = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts_time',
      '-of',
      'csv=p=0',
      file,
    ],
    { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
  );
  const times = packets.stdout
    .split('\n')
    .map((line) => Number.parseFloat(line))
    .filter((n) => Number.isFinite(n));
  if (times.length === 0) throw new Error(`ffprobe found no video in ${file}`);
  return Math.max(...times) - Math.min(...times);
}
