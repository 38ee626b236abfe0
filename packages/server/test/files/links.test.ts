/**
 * Hard links in the media directories, through the running service: a file linked in from
 * outside, a link inside leading to it, and one file under two names are all treated as
 * absent (not listed, served, probed, counted or deleted); a file whose other link goes
 * becomes the directory's own.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CameraServiceClient } from '@camera-service/sdk';
import { failure, getWithToken } from '../helpers/outcomes.js';
import { startApp, type TestApp } from '../helpers/app.js';

describe('hard links in the media directories', () => {
  let t: TestApp;
  let operator: CameraServiceClient;
  let admin: CameraServiceClient;
  let port: number;
  let token: string;
  let outside: string;
  const recordings = () => t.config.storage.recordings_dir;
  const snapshots = () => t.config.storage.snapshots_dir;

  before(async () => {
    t = await startApp();
    operator = await t.connect({ as: 'operator' });
    admin = await t.connect({ as: 'admin' });
    port = Number(new URL(t.wsUrl).port);
    token = await t.token('viewer');
    outside = mkdtempSync(join(tmpdir(), 'outside-'));
  });
  after(async () => {
    await t.stop();
    rmSync(outside, { recursive: true, force: true });
  });

  it('treats a file with another hard link as absent: not listed, served, probed or deleted', async () => {
    writeFileSync(join(outside, 'secret.mp4'), 'SECRET');
    writeFileSync(join(outside, 'secret.jpg'), 'SECRET');
    const linked = 'hard_2026-01-01_00-00-00_001.mp4';
    linkSync(join(outside, 'secret.mp4'), join(recordings(), linked));
    linkSync(join(outside, 'secret.jpg'), join(snapshots(), 'hard.jpg'));
    // A link inside the directory leading to it, and one file under two names inside.
    symlinkSync(join(recordings(), linked), join(recordings(), 'via_2026-01-01_00-00-00_001.mp4'));
    writeFileSync(join(recordings(), 'twin_2026-01-01_00-00-00_001.mp4'), 'TWIN');
    linkSync(
      join(recordings(), 'twin_2026-01-01_00-00-00_001.mp4'),
      join(recordings(), 'twin_2026-01-01_00-00-01_001.mp4'),
    );
    writeFileSync(join(recordings(), 'own_2026-01-01_00-00-00_001.mp4'), 'OWN');
    await t.app.files.recordings.rescan();
    await t.app.files.snapshots.rescan();
    await t.app.files.recordings.rescan();

    const listed = (await operator.request('list_recordings', {})) as {
      files: { filename: string }[];
    };
    assert.deepEqual(
      listed.files.map((f) => f.filename),
      ['own_2026-01-01_00-00-00_001.mp4'],
    );
    const shots = (await operator.request('list_snapshots', {})) as { total: number };
    assert.equal(shots.total, 0);
    const storage = (await admin.request('get_storage_info', {})) as {
      recordings_size: number;
      recordings_count: number;
    };
    assert.deepEqual([storage.recordings_count, storage.recordings_size], [1, 3]);

    for (const name of [
      linked,
      'via_2026-01-01_00-00-00_001.mp4',
      'twin_2026-01-01_00-00-01_001.mp4',
    ]) {
      const res = await getWithToken(port, `/files/recordings/${name}`, token);
      assert.equal(res.status, 404, name);
      assert.doesNotMatch(res.body, /SECRET|TWIN/);
      for (const method of ['get_recording_info', 'delete_recording']) {
        const answer = await failure(operator.request(method, { filename: name }));
        assert.deepEqual(answer, {
          code: -1004,
          message: `There is no recording named ${name}: list_recordings lists them.`,
        });
      }
    }
    assert.equal((await getWithToken(port, '/files/snapshots/hard.jpg', token)).status, 404);
    for (const method of ['get_snapshot_info', 'delete_snapshot']) {
      const answer = await failure(operator.request(method, { filename: 'hard.jpg' }));
      assert.equal(answer === 'ok' ? 'ok' : answer.code, -1004, method);
    }
    // Nothing was deleted, inside or out.
    assert.equal(readFileSync(join(outside, 'secret.mp4'), 'utf8'), 'SECRET');
    assert.ok(existsSync(join(recordings(), linked)));
    assert.ok(existsSync(join(snapshots(), 'hard.jpg')));
    // One warning per file, however often it was looked at.
    const warnings = t.logs.records.filter(
      (r) => r.msg.startsWith('a media file has other hard links') && r.filename === linked,
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.links, 2);

    // Once its other link is gone, it is the directory's own file.
    unlinkSync(join(outside, 'secret.mp4'));
    const info = (await operator.request('get_recording_info', { filename: linked })) as {
      file_size: number;
    };
    assert.equal(info.file_size, 6);
    assert.equal((await getWithToken(port, `/files/recordings/${linked}`, token)).body, 'SECRET');
  });
});
