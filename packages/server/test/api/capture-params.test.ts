/**
 * The capture methods' parameters do what the reference says: take_snapshot's `format`
 * names the file (snapshots are JPEG), the duration parameters are one of four with a week
 * in all, and stop_recording on a camera that is not recording has its own error.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CameraServiceClient } from '@camera-service/sdk';
import { failure } from '../helpers/outcomes.js';
import { startApp, type TestApp } from '../helpers/app.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

describe('capture parameters', () => {
  let t: TestApp;
  let operator: CameraServiceClient;
  before(async () => {
    t = await startApp({ cameras: [CAMERA] });
    operator = await t.connect({ as: 'operator', requestTimeoutMs: 30_000 });
  });
  after(() => t.stop());

  const snapshot = (params: Record<string, unknown>) =>
    operator.request('take_snapshot', { device: 'test0', ...params }) as Promise<{
      filename: string;
    }>;

  describe('take_snapshot format', () => {
    it('names the file the service makes: .jpeg for jpeg, .jpg for jpg and by default', async () => {
      for (const [format, extension] of [
        ['jpeg', '.jpeg'],
        ['jpg', '.jpg'],
        [undefined, '.jpg'],
      ] as const) {
        const taken = await snapshot(format === undefined ? {} : { format });
        assert.ok(taken.filename.endsWith(extension), `${format}: ${taken.filename}`);
        assert.match(taken.filename, /^test0_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_[0-9a-f]{6}\.jpe?g$/);
        assert.ok(existsSync(join(t.config.storage.snapshots_dir, taken.filename)));
      }
    });

    it("agrees with a filename of its extension, in any case, and refuses another's", async () => {
      assert.equal(
        (await snapshot({ filename: 'Door.JPEG', format: 'jpeg' })).filename,
        'Door.JPEG',
      );
      assert.deepEqual(await failure(snapshot({ filename: 'door.jpg', format: 'jpeg' })), {
        code: -32602,
        message:
          'Invalid params: "format" expected the extension of filename "door.jpg": name it "….jpeg", or leave format out.',
      });
    });

    it('refuses a format that is not JPEG, saying what it takes', async () => {
      assert.deepEqual(await failure(snapshot({ format: 'png' })), {
        code: -32602,
        message: 'Invalid params: "format" expected jpg or jpeg (snapshots are JPEG).',
      });
    });
  });

  describe('start_recording durations', () => {
    const start = (params: Record<string, unknown>) =>
      operator.request('start_recording', { device: 'test0', ...params });

    it('takes a week in any one unit, and stops there', async () => {
      for (const params of [
        { duration: 604800 },
        { duration_seconds: 604800 },
        { duration_minutes: 10080 },
        { duration_hours: 168 },
      ]) {
        const started = (await start(params)) as { duration: number };
        assert.equal(started.duration, 604800, JSON.stringify(params));
        await operator.request('stop_recording', { device: 'test0' });
      }
    });

    it('refuses more than a week, in the unit given', async () => {
      for (const [params, most] of [
        [{ duration: 604801 }, '604800 seconds'],
        [{ duration_minutes: 10081 }, '10080 minutes'],
        [{ duration_hours: 169 }, '168 hours'],
      ] as const) {
        const answer = await failure(start(params));
        assert.deepEqual(answer, {
          code: -32602,
          message: `Invalid params: "${Object.keys(params)[0]}" expected at most a week (${most}).`,
        });
      }
    });

    it('refuses two durations at once, naming both', async () => {
      assert.deepEqual(await failure(start({ duration_hours: 1, duration_seconds: 60 })), {
        code: -32602,
        message:
          'Invalid params: "duration_hours" cannot be given with duration_seconds: give one of duration, duration_seconds, duration_minutes and duration_hours, or none to record until stop_recording.',
      });
    });

    it('refuses less than 0.1 seconds in all', async () => {
      assert.deepEqual(await failure(start({ duration_minutes: 0.001 })), {
        code: -32602,
        message:
          'Invalid params: "duration_minutes" expected at least 0.1 seconds in all; it was 0.06 seconds.',
      });
    });
  });

  describe('stop_recording', () => {
    it('on a camera that is not recording answers -1007, not -1001', async () => {
      const answer = await failure(operator.request('stop_recording', { device: 'test0' }));
      assert.deepEqual(answer, {
        code: -1007,
        message:
          'The camera test0 is not recording: there is nothing to stop (start_recording starts one).',
      });
    });
  });
});
