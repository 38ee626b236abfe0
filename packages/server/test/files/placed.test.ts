/**
 * Files placed in the media directories by other means than the service (a restore, an
 * rsync, a copy), with their own old modification times: listed within seconds, each with
 * its real mtime, and seen by retention. Against the running service on real directories,
 * with times set by utimes; the no-events case on a catalog whose watch hears nothing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileCatalog } from '../../src/files/index.js';
import { startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';
import { testLogger } from '../helpers/media.js';

const IN_2020 = Date.parse('2020-03-14T09:26:53Z') / 1000;

/** Writes `count` files named by `name(i)` into `dir`, each last modified i minutes after IN_2020. */
function place(dir: string, count: number, name: (i: number) => string, bytes = 1000): void {
  for (let i = 0; i < count; i += 1) {
    const file = join(dir, name(i));
    writeFileSync(file, Buffer.alloc(bytes, i));
    utimesSync(file, IN_2020 + i * 60, IN_2020 + i * 60);
  }
}

/** Calls `probe` until `done` says yes, or fails after `timeoutMs` (a condition, not a sleep). */
async function until<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Listing {
  files: { filename: string; modified_time: string; file_size: number }[];
  total: number;
}

describe('files placed in the media directories by other means', () => {
  it('lists a snapshots directory swapped for a restored one, each file with its own mtime, within seconds', async () => {
    const t = await startApp();
    try {
      const viewer = await t.connect({ as: 'viewer' });
      const snapshots = t.config.storage.snapshots_dir;
      // A restore: the backup is unpacked beside the directory, then swapped in for it.
      const restored = `${snapshots}.restored`;
      mkdirSync(restored);
      place(
        restored,
        250,
        (i) =>
          `camera0_2020-03-14_09-${String(i % 60).padStart(2, '0')}-00_${String(i).padStart(6, '0')}.jpg`,
      );
      const from = t.logs.records.length;
      renameSync(snapshots, `${snapshots}.old`);
      renameSync(restored, snapshots);
      const started = performance.now();
      const listing = await until(
        '250 restored snapshots to be listed',
        () => viewer.request('list_snapshots', { sort: 'oldest', limit: 1000 }) as Promise<Listing>,
        (l) => l.total === 250,
      );
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 5, `listed after ${seconds} s`);
      assert.equal(listing.files[0]?.modified_time, '2020-03-14T09:26:53.000Z');
      assert.equal(
        listing.files[249]?.modified_time,
        new Date((IN_2020 + 249 * 60) * 1000).toISOString(),
      );
      assert.ok(
        t.logs.records
          .slice(from)
          .some(
            (r) => r.msg === 'the media directory was replaced: watching and listing the new one',
          ),
      );
      // The new directory is watched: a file copied in later is listed too.
      place(snapshots, 1, () => 'late.jpg');
      await until(
        'a file copied into the restored directory to be listed',
        () => viewer.request('list_snapshots', { limit: 1000 }) as Promise<Listing>,
        (l) => l.files.some((f) => f.filename === 'late.jpg'),
      );
    } finally {
      await t.stop();
    }
  });

  it('lists the files of a recordings directory removed and made again', async () => {
    const t = await startApp();
    try {
      const viewer = await t.connect({ as: 'viewer' });
      const recordings = t.config.storage.recordings_dir;
      rmSync(recordings, { recursive: true });
      mkdirSync(recordings);
      place(recordings, 3, (i) => `camera1_2020-03-14_09-2${i}-00.mp4`);
      const listing = await until(
        'the recordings of the new directory to be listed',
        () => viewer.request('list_recordings', {}) as Promise<Listing>,
        (l) => l.total === 3,
      );
      assert.deepEqual(
        listing.files.map((f) => f.modified_time),
        [2, 1, 0].map((i) => new Date((IN_2020 + i * 60) * 1000).toISOString()),
      );
    } finally {
      await t.stop();
    }
  });

  it('deletes old recordings placed there a moment ago in an age retention run', async () => {
    const t = await startApp();
    try {
      const admin = await t.connect({ as: 'admin' });
      const recordings = t.config.storage.recordings_dir;
      place(recordings, 5, (i) => `camera0_2020-03-14_09-2${i}-00.mp4`);
      writeFileSync(join(recordings, 'camera0_fresh.mp4'), Buffer.alloc(10));
      // At once: no waiting for the watch to have noticed them.
      await admin.request('set_retention_policy', {
        policy_type: 'age',
        max_age_days: 30,
        enabled: false,
      });
      const result = (await admin.request('cleanup_old_files', {})) as {
        files_deleted: number;
        space_freed: number;
      };
      assert.deepEqual([result.files_deleted, result.space_freed], [5, 5000]);
      const left = (await admin.request('list_recordings', {})) as Listing;
      assert.deepEqual(
        left.files.map((f) => f.filename),
        ['camera0_fresh.mp4'],
      );
    } finally {
      await t.stop();
    }
  });

  it('lists files written where the filesystem sends no events, from the directory’s own times', async () => {
    const dir = tempDir();
    // A network filesystem written by another machine: the watch never hears a thing.
    const deaf = () => ({ close: () => undefined });
    const catalog = new FileCatalog({
      dir,
      extensions: ['jpg'],
      log: testLogger().log,
      watch: deaf,
      checkMs: 100,
    });
    await catalog.start();
    try {
      place(dir, 3, (i) => `far-${i}.jpg`);
      const deadline = performance.now() + 5000;
      while (catalog.count < 3) {
        assert.ok(performance.now() < deadline, `listed ${catalog.count} of 3`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(catalog.get('far-0.jpg')?.mtimeMs, IN_2020 * 1000);
      rmSync(join(dir, 'far-1.jpg'));
      while (catalog.get('far-1.jpg') !== undefined) {
        assert.ok(performance.now() < deadline, 'the removed file is still listed');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(catalog.count, 2);
    } finally {
      catalog.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
