/**
 * Retention on real directories with file times set by the test: exactly the expected
 * files go, oldest first, never one being written; the policy is stored across restarts;
 * an enabled policy runs by itself.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, type Config } from '../../src/config/index.js';
import { FileCatalog, RetentionService } from '../../src/files/index.js';
import { tempDir } from '../helpers/files.js';
import { testLogger } from '../helpers/media.js';

const DAY = 24 * 3600;
const NOW = Date.parse('2026-06-01T12:00:00Z');

async function setup(options: { writing?: string[]; interval?: number } = {}) {
  const dir = tempDir();
  const config: Config = configSchema.parse({
    service: { state_dir: join(dir, 'state') },
    storage: { recordings_dir: join(dir, 'recordings'), snapshots_dir: join(dir, 'snapshots') },
    retention: { check_interval_seconds: options.interval ?? 3600 },
  });
  const { log, logs } = testLogger();
  const recordings = new FileCatalog({
    dir: config.storage.recordings_dir,
    extensions: ['mp4'],
    log,
  });
  const snapshots = new FileCatalog({
    dir: config.storage.snapshots_dir,
    extensions: ['jpg'],
    log,
  });
  await recordings.start();
  await snapshots.start();
  /** A file of `size` bytes last modified `daysAgo` days before NOW. */
  const file = (catalog: FileCatalog, name: string, daysAgo: number, size = 1000) => {
    const path = join(catalog.dir, name);
    writeFileSync(path, Buffer.alloc(size));
    const at = NOW / 1000 - daysAgo * DAY;
    utimesSync(path, at, at);
  };
  const make = () =>
    new RetentionService({
      config: () => config,
      log,
      catalogs: () => [recordings, snapshots],
      isBeingWritten: (name) => (options.writing ?? []).includes(name),
      now: () => NOW,
    });
  const left = () => [...readdirSync(recordings.dir), ...readdirSync(snapshots.dir)].sort();
  const stop = () => {
    recordings.stop();
    snapshots.stop();
  };
  return { config, recordings, snapshots, file, make, left, logs, stop };
}

describe('RetentionService', () => {
  it('deletes exactly the files older than max_age_days, across recordings and snapshots', async () => {
    const s = await setup();
    s.file(s.recordings, 'old.mp4', 10);
    s.file(s.recordings, 'older.mp4', 40);
    s.file(s.recordings, 'fresh.mp4', 1);
    s.file(s.snapshots, 'old.jpg', 5, 300);
    s.file(s.snapshots, 'fresh.jpg', 2.9, 300);
    await Promise.all([s.recordings.rescan(), s.snapshots.rescan()]);
    const retention = s.make();
    retention.set({ policy_type: 'age', max_age_days: 3, enabled: false });
    const result = await retention.cleanup();
    assert.deepEqual(result, {
      cleanup_executed: true,
      files_deleted: 3,
      space_freed: 2300,
      message: 'Deleted 3 files older than 3 days, freeing 2300 bytes.',
    });
    assert.deepEqual(s.left(), ['fresh.jpg', 'fresh.mp4']);
    assert.equal(s.recordings.get('old.mp4'), undefined, 'the catalog forgot them');
    s.stop();
  });

  it('deletes the oldest files until everything fits in max_size_gb, never one being written', async () => {
    const s = await setup({ writing: ['b-writing.mp4'] });
    // 5 x 1000 bytes; the limit is 2,500 bytes: the three oldest not being written go.
    s.file(s.recordings, 'a-oldest.mp4', 50);
    s.file(s.recordings, 'b-writing.mp4', 40);
    s.file(s.snapshots, 'c.jpg', 30);
    s.file(s.recordings, 'd.mp4', 20);
    s.file(s.snapshots, 'e-newest.jpg', 10);
    await Promise.all([s.recordings.rescan(), s.snapshots.rescan()]);
    const retention = s.make();
    retention.set({ policy_type: 'size', max_size_gb: 2500 / 1e9, enabled: false });
    const result = await retention.cleanup();
    assert.equal(result.files_deleted, 3);
    assert.equal(result.space_freed, 3000);
    assert.deepEqual(s.left(), ['b-writing.mp4', 'e-newest.jpg']);
    s.stop();
  });

  it('deletes nothing under the manual policy, and says what to do instead', async () => {
    const s = await setup();
    s.file(s.recordings, 'ancient.mp4', 3650);
    await s.recordings.rescan();
    const result = await s.make().cleanup();
    assert.equal(result.cleanup_executed, false);
    assert.equal(result.files_deleted, 0);
    assert.match(result.message, /manual: nothing is deleted automatically/);
    assert.deepEqual(s.left(), ['ancient.mp4']);
    s.stop();
  });

  it('keeps a policy set through the API across a restart; the configuration is the default', async () => {
    const s = await setup();
    const first = s.make();
    assert.equal(first.policy().source, 'config');
    assert.equal(first.policy().policy_type, 'manual');
    const set = first.set({ policy_type: 'age', max_age_days: 7, enabled: true });
    assert.equal(set.source, 'api');
    assert.ok(existsSync(join(s.config.service.state_dir, 'retention.json')));
    const second = s.make(); // the service started again
    assert.deepEqual(second.policy(), set);
    s.stop();
  });

  it('applies an enabled policy by itself, every check_interval_seconds', async () => {
    const s = await setup({ interval: 0.1 });
    s.file(s.recordings, 'stale.mp4', 100);
    s.file(s.recordings, 'kept.mp4', 0);
    await s.recordings.rescan();
    const retention = s.make();
    retention.start();
    retention.set({ policy_type: 'age', max_age_days: 30, enabled: true });
    const applied = await s.logs.waitFor(
      (r) => r.msg === 'retention applied' && r.reason === 'scheduled',
      5000,
      'a scheduled retention run',
    );
    assert.equal(applied.files_deleted, 1);
    assert.deepEqual(s.left(), ['kept.mp4']);
    retention.stop();
    s.stop();
  });

  it('stops running by itself once disabled', async () => {
    const s = await setup({ interval: 0.05 });
    const retention = s.make();
    retention.start();
    retention.set({ policy_type: 'age', max_age_days: 30, enabled: true });
    const scheduled = () =>
      s.logs.records.filter((r) => r.msg === 'retention applied' && r.reason === 'scheduled')
        .length;
    await s.logs.waitFor(() => scheduled() >= 2, 5000, 'two scheduled runs');
    retention.set({ policy_type: 'age', max_age_days: 30, enabled: false });
    await retention.cleanup('requested'); // after any run under way
    const before = scheduled();
    // Showing that nothing happens takes time: ten intervals.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(scheduled(), before);
    await retention.stop();
    s.stop();
  });

  it('ignores a stored policy file that does not hold up, and says so', async () => {
    const s = await setup();
    mkdirSync(s.config.service.state_dir, { recursive: true });
    writeFileSync(
      join(s.config.service.state_dir, 'retention.json'),
      JSON.stringify({ policy_type: 'age', enabled: true, max_age_days: 0 }),
    );
    const retention = s.make();
    assert.equal(retention.policy().source, 'config');
    assert.ok(s.logs.find((r) => r.msg.startsWith('the stored retention policy is unreadable')));
    s.stop();
  });
});
