/**
 * Recordings whose output is removed under them: the current file deleted, the whole
 * recordings directory removed (found by the output check while recording, or at the stop
 * when the check has not run yet). Each ends FAILED with a reason that says so, and the
 * files reported are only those still there.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RpcError, type CameraServiceClient } from '@camera-service/sdk';
import { failure } from '../helpers/outcomes.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { until } from '../files/standin.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

interface StatusUpdate {
  status: string;
  session_id: string;
  reason?: string;
  files?: string[];
  duration: number | null;
}

/** The recording_status_update notifications of one session. */
function updates(client: CameraServiceClient) {
  const seen: StatusUpdate[] = [];
  client.on('notification', (method, params) => {
    if (method === 'recording_status_update') seen.push(params as StatusUpdate);
  });
  return {
    seen,
    async ended(session: string): Promise<StatusUpdate> {
      const end = (u: StatusUpdate) =>
        u.session_id === session && (u.status === 'FAILED' || u.status === 'STOPPED');
      await until(() => seen.some(end), 20_000, `the end of session ${session}`);
      return seen.find(end) as StatusUpdate;
    },
  };
}

async function startWritten(
  t: TestApp,
  client: CameraServiceClient,
): Promise<{ session_id: string; filename: string }> {
  const started = (await client.request('start_recording', { device: 'test0' })) as {
    session_id: string;
    filename: string;
  };
  const file = join(t.config.storage.recordings_dir, started.filename);
  await until(() => existsSync(file), 10_000, 'the recording on disk');
  return started;
}

async function codeOf(call: Promise<unknown>): Promise<number | 'ok'> {
  const outcome = await failure(call);
  return outcome === 'ok' ? 'ok' : outcome.code;
}

describe('a recording whose output vanishes', () => {
  it('fails when its current file is deleted, and when its directory is removed', async () => {
    const t = await startApp({ cameras: [CAMERA], storage: { check_interval_seconds: 0.2 } });
    try {
      const operator = await t.connect({ as: 'operator' });
      const events = updates(operator);

      const first = await startWritten(t, operator);
      unlinkSync(join(t.config.storage.recordings_dir, first.filename));
      const deleted = await events.ended(first.session_id);
      assert.equal(deleted.status, 'FAILED');
      assert.equal(
        deleted.reason,
        `its file ${first.filename} was deleted while recording: what was written to it is lost`,
      );
      assert.deepEqual(deleted.files, []);
      assert.equal(deleted.duration, 0);
      assert.ok(
        t.logs.find(
          (r) =>
            r.msg === 'recording output vanished: stopping the recording' && r.level === 'error',
        ),
      );
      assert.equal(await codeOf(operator.request('stop_recording', { device: 'test0' })), -1007);

      const second = await startWritten(t, operator);
      rmSync(t.config.storage.recordings_dir, { recursive: true });
      const removed = await events.ended(second.session_id);
      assert.equal(removed.status, 'FAILED');
      assert.equal(
        removed.reason,
        'the recordings directory (storage.recordings_dir) was removed while recording: the files written are lost',
      );
      assert.deepEqual(removed.files, []);
      const admin = await t.connect({ as: 'admin' });
      assert.equal(await codeOf(admin.request('get_storage_info', {})), -1012);
      assert.ok(!events.seen.some((u) => u.status === 'STOPPED'), 'nothing ended STOPPED');
      // Both counted for the RecordingFailed alert.
      const { body } = await t.app.metrics.exposition();
      assert.match(body, /^camera_service_recording_failures_total 2$/m);

      // Recording again makes the directory anew.
      const third = await startWritten(t, operator);
      const stopped = (await operator.request('stop_recording', { device: 'test0' })) as {
        files: string[];
      };
      assert.deepEqual(stopped.files, [third.filename]);
    } finally {
      await t.stop();
    }
  });

  it('fails at the stop when the directory went before the output check saw it', async () => {
    // The check runs every 10 s (the default): the stop comes first.
    const t = await startApp({ cameras: [CAMERA] });
    try {
      const operator = await t.connect({ as: 'operator' });
      const events = updates(operator);
      const started = await startWritten(t, operator);
      rmSync(t.config.storage.recordings_dir, { recursive: true });
      await assert.rejects(
        operator.request('stop_recording', { device: 'test0' }),
        (error: unknown) => {
          assert.ok(error instanceof RpcError);
          assert.equal(error.code, -1012);
          assert.equal(
            error.message,
            'The recording of test0 failed: the recordings directory (storage.recordings_dir) was removed while recording: the files written are lost.',
          );
          assert.deepEqual((error.data as { files: string[] }).files, []);
          return true;
        },
      );
      const ended = await events.ended(started.session_id);
      assert.equal(ended.status, 'FAILED');
      assert.deepEqual(ended.files, []);
    } finally {
      await t.stop();
    }
  });
});
