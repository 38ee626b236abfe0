/**
 * The errors a method's contract declares are the ones its handler answers, both ways:
 *
 * - every declared error is produced here, through the running service, by a call that
 *   must get it (error-producers.ts), with its code and a message that is a sentence;
 * - every error a method answers anywhere in the tests is declared: each test service
 *   fails its stop() on one that is not (helpers/answers.ts), and each scene here checks
 *   it explicitly.
 *
 * The errors of every call (invalid params, authentication, role, rate limit) are the RPC
 * layer's: the authorization matrix and the dispatcher tests produce them for every method.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RpcError } from '@camera-service/sdk';
import { ERROR_CODES, allContracts, type ErrorKind } from '../../src/index.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { startMediaServer, type TestMediaServer } from '../helpers/media.js';
import { until } from '../files/standin.js';
import { PRODUCERS, type Scene, type SceneName } from './error-producers.js';

const FAKE_V4L2_CTL = fileURLToPath(
  new URL('../../../test/fixtures/fake-v4l2-ctl', import.meta.url),
);
const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

interface Staged {
  t: TestApp;
  /** Undoes what the scene did outside the service (a mount, a media server). */
  cleanup?: () => Promise<void>;
  skip?: string;
  broken?: string;
  unplugged?: string;
}

/** How each scene's service is set up. */
const SCENES: Record<SceneName, () => Promise<Staged>> = {
  async service() {
    const t = await startApp({
      cameras: [CAMERA],
      camera: { probe_command: FAKE_V4L2_CTL, debounce_ms: 100, poll_interval: 0.5 },
      snapshot: { max_concurrent: 1, max_queued: 1 },
      storage: { max_concurrent_probes: 1, max_queued_probes: 1 },
    });
    const dev = t.config.camera.device_dir;
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'video3'), 'FAIL Cannot open device /dev/video3, exiting.\n');
    const broken = join(dev, 'video3');
    // video4 was plugged and pulled out: a camera the service knows, disconnected.
    const gone = join(dev, 'video4');
    writeFileSync(
      gone,
      'emeet-smartcam-s800__all.txt\nemeet-smartcam-s800__list-formats-ext.txt\n',
    );
    await until(() => t.app.cameras.get(gone)?.status === 'CONNECTED', 10_000, 'video4 plugged');
    rmSync(gone);
    await until(() => t.app.cameras.get(gone)?.status === 'DISCONNECTED', 10_000, 'video4 gone');
    await until(() => t.app.cameras.get(broken)?.status === 'ERROR', 10_000, 'video3 in ERROR');
    return { t, broken, unplugged: gone };
  },
  async 'media server gone'() {
    const server: TestMediaServer = await startMediaServer();
    const t = await startApp({
      cameras: [CAMERA],
      mediamtx: {
        mode: 'external',
        host: '127.0.0.1',
        api_port: server.apiPort,
        rtsp_port: server.rtspPort,
        api_timeout_seconds: 1,
        health_check_interval_seconds: 0.1,
        on_demand_start_timeout_seconds: 2,
      } as never,
    });
    await until(() => t.app.cameras.get('test0')?.pathCreated === true, 10_000, 'the path');
    await server.kill();
    return { t, cleanup: () => server.stop() };
  },
  'storage low': async () => ({
    // Any disk in use is above 1 %.
    t: await startApp({
      cameras: [CAMERA],
      storage: { warn_percent: 1, block_percent: 1, critical_percent: 100 },
    }),
  }),
  'storage critical': async () => ({
    t: await startApp({
      cameras: [CAMERA],
      storage: { warn_percent: 1, block_percent: 1, critical_percent: 1 },
    }),
  }),
  async 'disk full'() {
    const t = await startApp({ cameras: [CAMERA] });
    const dir = t.config.storage.snapshots_dir;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    } catch {
      return { t, skip: 'mounting a small tmpfs needs root (CAP_SYS_ADMIN)' };
    }
    // Filled to the last block: the snapshot cannot be written.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], {
        stdio: 'ignore',
      });
    } catch {
      // dd stops with ENOSPC: that is the point
    }
    return { t, cleanup: async () => void execFileSync('umount', ['-l', dir]) };
  },
  async 'directories gone'() {
    // The media directories below folders the test replaces with files: ENOTDIR, which
    // no mkdir -p repairs.
    const dir = mkdtempSync(join(tmpdir(), 'camera-service-test-'));
    const t = await startApp(
      {
        cameras: [CAMERA],
        storage: {
          recordings_dir: join(dir, 'r', 'recordings'),
          snapshots_dir: join(dir, 's', 'snapshots'),
        },
      },
      { dir },
    );
    for (const parent of ['r', 's']) {
      rmSync(join(dir, parent), { recursive: true });
      writeFileSync(join(dir, parent), 'not a folder');
    }
    return { t, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  'output vanished': async () => ({ t: await startApp({ cameras: [CAMERA] }) }),
  throttled: async () => ({
    t: await startApp({ auth: { failed_attempts: { limit: 2, window_seconds: 60 } } }),
  }),
};

describe('declared errors', () => {
  it('every error a contract declares has a call here that produces it', () => {
    const missing: string[] = [];
    for (const contract of allContracts) {
      for (const kind of Object.keys(contract.errors)) {
        if (!PRODUCERS[contract.name]?.[kind as ErrorKind])
          missing.push(`${contract.name}: ${kind}`);
      }
    }
    assert.deepEqual(missing, [], 'add a producer to error-producers.ts');
    const stale: string[] = [];
    for (const [method, kinds] of Object.entries(PRODUCERS)) {
      const contract = allContracts.find((c) => c.name === method);
      for (const kind of Object.keys(kinds)) {
        if (contract?.errors[kind as ErrorKind] === undefined) stale.push(`${method}: ${kind}`);
      }
    }
    assert.deepEqual(stale, [], 'producers of errors no contract declares');
  });

  for (const scene of Object.keys(SCENES) as SceneName[]) {
    const produced = Object.entries(PRODUCERS).flatMap(([method, kinds]) =>
      Object.entries(kinds)
        .filter(([, p]) => p.scene === scene)
        .map(([kind, p]) => ({ method, kind: kind as ErrorKind, ...p })),
    );
    describe(`in the scene "${scene}"`, () => {
      let staged: Staged;
      let context: Scene;
      before(async () => {
        staged = await SCENES[scene]();
        const { t } = staged;
        context = {
          t,
          operator: await t.connect({ as: 'operator', requestTimeoutMs: 30_000 }),
          admin: await t.connect({ as: 'admin', requestTimeoutMs: 30_000 }),
          anonymous: await t.connect({ as: null }),
          broken: staged.broken ?? '(none)',
          unplugged: staged.unplugged ?? '(none)',
        };
      });
      after(async () => {
        await staged.cleanup?.();
        await staged.t.stop();
      });

      for (const p of produced) {
        it(`${p.method} answers ${ERROR_CODES[p.kind]} ${p.kind}`, async (test) => {
          if (staged.skip) return test.skip(staged.skip);
          await assert.rejects(p.call(context), (error: unknown) => {
            assert.ok(error instanceof RpcError, String(error));
            assert.equal(error.code, ERROR_CODES[p.kind], error.message);
            assert.match(error.message, /^[A-Z][^]*\.$/, 'a sentence');
            if (p.message) assert.match(error.message, p.message);
            return true;
          });
          assert.ok(staged.t.answers.answered(p.method, p.kind));
        });
      }

      it('answered no error that a contract does not declare', () => {
        assert.deepEqual(staged.t.answers.undeclared(), []);
      });
    });
  }
});
