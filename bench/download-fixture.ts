/**
 * What the download sections (files, sdk, python) share: a large file of random bytes to
 * serve, and curl fetching it as the baseline every client is compared with.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes `megabytes` MiB of random bytes to `path` and flushes them to disk (dirty pages
 * written back during a timed download would slow whichever client runs then). Returns
 * the size in bytes.
 */
export function writeRandomFile(path: string, megabytes: number): number {
  const block = randomBytes(1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < megabytes; i += 1) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
  spawnSync('sync');
  return megabytes * block.length;
}

/**
 * curl fetches `url` to the file `to` with the bearer `token`; MB/s by its own figures
 * (bytes received and total time), after checking it received `expected` bytes.
 */
export function curlDownload(url: string, token: string, to: string, expected: number): number {
  const result = spawnSync(
    'curl',
    [
      '-sS',
      '-f',
      '-o',
      to,
      '-H',
      `Authorization: Bearer ${token}`,
      '-w',
      '%{size_download} %{time_total}',
      url,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (result.error) throw new Error(`curl could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`curl failed (${result.status}): ${result.stderr}`);
  const [bytes, seconds] = result.stdout.trim().split(' ').map(Number);
  if (bytes !== expected) throw new Error(`curl: ${bytes} of ${expected} bytes`);
  return expected / 1e6 / (seconds ?? Infinity);
}
