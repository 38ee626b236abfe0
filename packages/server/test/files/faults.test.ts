/**
 * Media directories that fail, through the running service: a folder named like a
 * snapshot, a read-only snapshots directory (a read-only tmpfs mounted over it: root's
 * writes pass a chmod, not a read-only mount), and a removed recordings directory. The
 * errors name the configuration key, and the storage health says what fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CameraServiceClient } from '@camera-service/sdk';
import { failure, getWithToken } from '../helpers/outcomes.js';
import { startApp, type TestApp } from '../helpers/app.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

async function health(t: TestApp): Promise<{
  http: number;
  status: string;
  message?: string;
  details: { directories: Record<string, string> };
}> {
  const res = await fetch(`${t.healthUrl}/health/storage`);
  const body = (await res.json()) as {
    status: string;
    message?: string;
    details: { directories: Record<string, string> };
  };
  return { http: res.status, ...body };
}

describe('media directories that fail', () => {
  let t: TestApp;
  let operator: CameraServiceClient;
  let admin: CameraServiceClient;
  let port: number;
  let token: string;
  const recordings = () => t.config.storage.recordings_dir;
  const snapshots = () => t.config.storage.snapshots_dir;

  before(async () => {
    t = await startApp({ cameras: [CAMERA] });
    operator = await t.connect({ as: 'operator' });
    admin = await t.connect({ as: 'admin' });
    port = Number(new URL(t.wsUrl).port);
    token = await t.token('viewer');
  });
  after(() => t.stop());

  it('answers -1011 when a folder has the name asked for, even with overwrite', async () => {
    mkdirSync(join(snapshots(), 'x.jpg'));
    for (const overwrite of [true, false]) {
      const answer = await failure(
        operator.request('take_snapshot', { device: 'test0', filename: 'x.jpg', overwrite }),
      );
      assert.deepEqual(answer, {
        code: -1011,
        message:
          'There is a folder named x.jpg in the snapshots directory: choose another name for the snapshot.',
      });
    }
  });

  it('answers -1012 for a read-only snapshots directory, and the storage health says so', async (context) => {
    const dir = snapshots();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    } catch {
      context.skip('mounting a tmpfs needs root (CAP_SYS_ADMIN)');
      return;
    }
    try {
      writeFileSync(join(dir, 'old.jpg'), 'JPEG');
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      await t.app.files.snapshots.rescan();
      const taken = await failure(operator.request('take_snapshot', { device: 'test0' }));
      assert.deepEqual(taken, {
        code: -1012,
        message:
          'The snapshots directory (storage.snapshots_dir) is read-only: snapshots cannot be saved; make it writable or point storage.snapshots_dir elsewhere.',
      });
      const deleted = await failure(operator.request('delete_snapshot', { filename: 'old.jpg' }));
      assert.deepEqual(deleted, {
        code: -1012,
        message:
          'The snapshots directory (storage.snapshots_dir) is read-only: snapshots cannot be deleted; make it writable or point storage.snapshots_dir elsewhere.',
      });
      assert.equal(readFileSync(join(dir, 'old.jpg'), 'utf8'), 'JPEG');
      const report = await health(t);
      assert.equal(report.http, 503);
      assert.equal(report.status, 'unhealthy');
      assert.equal(
        report.message,
        'the snapshots directory (storage.snapshots_dir) is read-only: snapshots cannot be saved',
      );
      assert.deepEqual(report.details.directories, { recordings: 'ok', snapshots: 'read_only' });
      // Not critical for readiness.
      assert.equal((await fetch(`${t.healthUrl}/health/ready`)).status, 200);
    } finally {
      execFileSync('umount', ['-l', dir]);
    }
    assert.equal((await health(t)).details.directories.snapshots, 'ok');
  });

  it('answers -1012 for a removed recordings directory, with no made-up usage metric', async () => {
    const known = 'camera0_2026-01-01_00-00-00_001.mp4';
    writeFileSync(join(recordings(), known), 'VIDEO');
    assert.ok(await t.app.files.recordings.note(known), 'listed');
    rmSync(recordings(), { recursive: true });
    const storage = await failure(admin.request('get_storage_info', {}));
    assert.deepEqual(storage, {
      code: -1012,
      message:
        'The recordings directory (storage.recordings_dir) is missing: storage use cannot be measured; create it or point storage.recordings_dir elsewhere.',
    });
    const info = await failure(operator.request('get_recording_info', { filename: known }));
    assert.deepEqual(info, {
      code: -1012,
      message:
        'The recordings directory (storage.recordings_dir) is missing: recordings cannot be read; create it or point storage.recordings_dir elsewhere.',
    });
    const download = await getWithToken(port, `/files/recordings/${known}`, token);
    assert.equal(download.status, 503);
    assert.match(download.body, /recordings directory \(storage\.recordings_dir\) is missing/);
    for (const text of [storage, info].map((a) => JSON.stringify(a)).concat(download.body)) {
      assert.ok(!text.includes(t.dir), 'no path reaches a client');
    }
    const report = await health(t);
    assert.equal(report.http, 503);
    assert.equal(
      report.message,
      'the recordings directory (storage.recordings_dir) is missing: recordings cannot be saved',
    );
    assert.equal(report.details.directories.recordings, 'missing');
    const metrics = await (await fetch(`${t.healthUrl}/metrics`)).text();
    assert.match(metrics, /# TYPE camera_service_storage_usage_percent gauge\n/);
    assert.doesNotMatch(metrics, /^camera_service_storage_usage_percent /m, 'no sample');

    // Back, and all is well again.
    mkdirSync(recordings());
    assert.equal(
      typeof ((await admin.request('get_storage_info', {})) as { usage_percentage: number })
        .usage_percentage,
      'number',
    );
    assert.equal((await health(t)).details.directories.recordings, 'ok');
    const again = await (await fetch(`${t.healthUrl}/metrics`)).text();
    assert.match(again, /^camera_service_storage_usage_percent \d+(\.\d+)?$/m);
  });
});
