/**
 * What clients of the earlier Python and Go implementations send is accepted where it is
 * unambiguous (docs/api-reference.md, "Migrating"): `authenticate {token}`, a camera by
 * its stream name wherever `device` is taken, and JWTs with the subject in `user_id`.
 */
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import type { CameraServiceClient } from '@camera-service/sdk';
import { allContracts } from '../../src/index.js';
import { failure } from '../helpers/outcomes.js';
import { TEST_JWT_SECRET, startApp, type TestApp } from '../helpers/app.js';
import { until } from '../files/standin.js';

const FAKE_V4L2_CTL = fileURLToPath(
  new URL('../../../test/fixtures/fake-v4l2-ctl', import.meta.url),
);
const EMEET = ['emeet-smartcam-s800__all.txt', 'emeet-smartcam-s800__list-formats-ext.txt'];

/** A JWT with exactly these claims, signed with the test service's secret. */
function jwt(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime('1h')
    .sign(createSecretKey(Buffer.from(TEST_JWT_SECRET, 'utf8')));
}

describe('what migrating clients send', () => {
  let t: TestApp;
  let anonymous: CameraServiceClient;
  let operator: CameraServiceClient;
  /** A plugged V4L2 camera: /…/dev/video5, stream camera5. */
  let device: string;

  before(async () => {
    t = await startApp({
      camera: { probe_command: FAKE_V4L2_CTL, debounce_ms: 100, poll_interval: 0.5 },
      // The fixture's node is a file: its stream never starts, and is given up on quickly.
      mediamtx: { on_demand_start_timeout_seconds: 1 } as never,
    });
    const dev = t.config.camera.device_dir;
    const sys = t.config.camera.sysfs_dir;
    mkdirSync(join(sys, 'video5'), { recursive: true });
    writeFileSync(join(sys, 'video5', 'name'), 'EMEET SmartCam S800\n');
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'video5'), `${EMEET.join('\n')}\n`);
    device = join(dev, 'video5');
    await until(() => t.app.cameras.get(device)?.status === 'CONNECTED', 10_000, 'video5');
    anonymous = await t.connect({ as: null });
    operator = await t.connect({ as: 'operator', requestTimeoutMs: 30_000 });
  });
  after(() => t.stop());

  describe('authenticate {token}', () => {
    it('is authenticate {auth_token}', async () => {
      const result = (await anonymous.request('authenticate', {
        token: await t.token('viewer'),
      })) as { authenticated: boolean; role: string };
      assert.deepEqual([result.authenticated, result.role], [true, 'viewer']);
      assert.equal(await anonymous.request('ping'), 'pong');
    });

    it('refuses both names at once, as neither is clearly meant', async () => {
      const [a, b] = [await t.token('viewer'), await t.token('admin')];
      const answer = await failure(anonymous.request('authenticate', { token: a, auth_token: b }));
      assert.deepEqual(answer, {
        code: -32602,
        message:
          'Invalid params: "token" is another name for "auth_token"; give one of them, not both.',
      });
    });

    it('a refused token is refused under either name', async () => {
      const answer = await failure(anonymous.request('authenticate', { token: 'nonsense' }));
      assert.equal(answer === 'ok' ? answer : answer.code, -32001);
    });
  });

  describe('a camera by its stream name', () => {
    const byDevice = allContracts.filter((c) => Object.hasOwn(c.params.shape, 'device'));

    it('is taken by every method with a device parameter', () => {
      assert.deepEqual(
        byDevice.map((c) => c.name),
        [
          'get_camera_status',
          'take_snapshot',
          'start_recording',
          'stop_recording',
          'list_recordings',
          'list_snapshots',
        ],
      );
    });

    for (const method of [
      'get_camera_status',
      'take_snapshot',
      'start_recording',
      'stop_recording',
    ]) {
      it(`${method} finds camera5 as the camera ${'/…/dev/video5'}`, async () => {
        let answer: unknown;
        try {
          answer = await operator.request(method, { device: 'camera5' });
        } catch (error) {
          answer = error;
        }
        // Found, whatever else it answers (the fixture's stream cannot run): named by its device.
        const named =
          (answer as { device?: string; data?: { device?: string } }).device ??
          (answer as { data?: { device?: string } }).data?.device;
        assert.equal(named, device, JSON.stringify(answer));
        assert.notEqual((answer as { code?: number }).code, -1000);
      });
    }

    it('stop_recording on it says it is not recording (-1007), naming the device', async () => {
      const answer = await failure(operator.request('stop_recording', { device: 'camera5' }));
      assert.deepEqual(answer, {
        code: -1007,
        message: `The camera ${device} is not recording: there is nothing to stop (start_recording starts one).`,
      });
    });

    it("list_recordings and list_snapshots take it as a filter of the camera's files", async () => {
      writeFileSync(join(t.config.storage.recordings_dir, 'camera5_2025-06-01_14-30-00.mp4'), 'x');
      writeFileSync(join(t.config.storage.recordings_dir, 'camera6_2025-06-01_14-30-00.mp4'), 'x');
      await t.app.files.recordings.rescan();
      for (const name of ['camera5', device]) {
        const listed = (await operator.request('list_recordings', { device: name })) as {
          files: { filename: string; device: string }[];
        };
        assert.deepEqual(
          listed.files.map((f) => [f.filename, f.device]),
          [['camera5_2025-06-01_14-30-00.mp4', device]],
        );
      }
    });
  });

  describe('a JWT with its subject in user_id', () => {
    it('is accepted when it has no sub, with user_id as the subject', async () => {
      const token = await jwt({ user_id: 'alice', role: 'operator' });
      const logged = t.logs.records.length;
      const result = (await anonymous.request('authenticate', { auth_token: token })) as {
        role: string;
      };
      assert.equal(result.role, 'operator');
      const audit = await t.logs.waitFor(
        (r) => t.logs.records.indexOf(r) >= logged && r.event === 'auth_success',
      );
      assert.equal(audit.subject, 'alice');
    });

    it('sub wins when both are there', async () => {
      const logged = t.logs.records.length;
      await anonymous.request('authenticate', {
        auth_token: await jwt({ sub: 'bob', user_id: 'alice', role: 'viewer' }),
      });
      const audit = await t.logs.waitFor(
        (r) => t.logs.records.indexOf(r) >= logged && r.event === 'auth_success',
      );
      assert.equal(audit.subject, 'bob');
    });

    it('is refused without a subject, or with one that is not a string', async () => {
      for (const claims of [{ role: 'viewer' }, { user_id: 7, role: 'viewer' }]) {
        const answer = await failure(
          anonymous.request('authenticate', { auth_token: await jwt(claims) }),
        );
        assert.equal(answer === 'ok' ? answer : answer.code, -32001, JSON.stringify(claims));
      }
    });
  });
});
