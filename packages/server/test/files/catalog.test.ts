/** The media file catalog on real directories: a 10,000-file scan, the watch, the rules. */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileCatalog } from '../../src/files/index.js';
import { tempDir } from '../helpers/files.js';
import { testLogger } from '../helpers/media.js';

/** Waits (polling, with a deadline) until the catalog agrees. */
async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('FileCatalog', () => {
  it('indexes a directory of 10,000 recordings and pages through it in order', async () => {
    const dir = tempDir();
    const base = Date.parse('2026-01-01T00:00:00Z') / 1000;
    for (let i = 0; i < 10_000; i += 1) {
      const name = `camera${i % 4}_2026-01-01_00-00-00_${String(i).padStart(5, '0')}.mp4`;
      writeFileSync(join(dir, name), 'x'.repeat(i % 7));
      utimesSync(join(dir, name), base + i, base + i);
    }
    writeFileSync(join(dir, '.hidden.mp4'), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    mkdirSync(join(dir, '.sessions'));
    const catalog = new FileCatalog({ dir, extensions: ['mp4', 'mkv'], log: testLogger().log });
    await catalog.start();
    try {
      assert.equal(
        catalog.count,
        10_000,
        'hidden files, other extensions and folders are not listed',
      );
      assert.equal(
        catalog.totalBytes,
        Array.from({ length: 10_000 }, (_, i) => i % 7).reduce((a, b) => a + b, 0),
      );
      const newest = catalog.sorted('newest');
      assert.equal(newest[0]?.name, 'camera3_2026-01-01_00-00-00_09999.mp4');
      assert.equal(newest[9_999]?.name, 'camera0_2026-01-01_00-00-00_00000.mp4');
      assert.equal(catalog.sorted('oldest')[0]?.name, 'camera0_2026-01-01_00-00-00_00000.mp4');
      assert.equal(catalog.sorted('largest')[0]?.size, 6);
      // The sorted view is kept until something changes, then made again.
      assert.equal(catalog.sorted('newest'), newest);
      writeFileSync(join(dir, 'camera0_2026-02-01_00-00-00_00001.mp4'), 'x');
      await catalog.note('camera0_2026-02-01_00-00-00_00001.mp4');
      const after = catalog.sorted('newest');
      assert.notEqual(after, newest);
      assert.equal(after[0]?.name, 'camera0_2026-02-01_00-00-00_00001.mp4');
      assert.equal(after.length, 10_001);
    } finally {
      catalog.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follows files written and deleted behind its back (the watch), and what writers tell it', async () => {
    const dir = tempDir();
    const catalog = new FileCatalog({ dir, extensions: ['jpg'], log: testLogger().log });
    await catalog.start();
    try {
      assert.equal(catalog.count, 0);
      writeFileSync(join(dir, 'a.jpg'), '12345');
      await until('a.jpg to be listed', () => catalog.get('a.jpg')?.size === 5);
      writeFileSync(join(dir, 'a.jpg'), '1234567');
      await until('a.jpg to grow', () => catalog.get('a.jpg')?.size === 7);
      rmSync(join(dir, 'a.jpg'));
      await until('a.jpg to be forgotten', () => catalog.get('a.jpg') === undefined);
      assert.equal(catalog.totalBytes, 0);
      // A writer's note is taken at once, whatever the watch does.
      writeFileSync(join(dir, 'b.jpg'), 'xy');
      assert.equal((await catalog.note('b.jpg'))?.size, 2);
      assert.equal(await catalog.note('../b.jpg'), undefined, 'not a plain name');
    } finally {
      catalog.stop();
    }
  });

  it('repairs what the watch missed on a rescan', async () => {
    const dir = tempDir();
    const catalog = new FileCatalog({ dir, extensions: ['jpg'], log: testLogger().log });
    await catalog.start();
    catalog.stop(); // no more watch: only a rescan can see changes now
    writeFileSync(join(dir, 'missed.jpg'), 'x');
    assert.equal(catalog.get('missed.jpg'), undefined);
    await catalog.rescan();
    assert.equal(catalog.get('missed.jpg')?.size, 1);
  });
});
