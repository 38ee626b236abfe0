/**
 * Recordings when things go wrong around them, with the real `camera-service` binary: the
 * service killed with SIGKILL mid-recording (the file stays playable, no ffmpeg is left
 * behind, the next start recovers and reports it), and storage becoming critical while
 * recording (a SIGHUP lowers the threshold, as an operator's edit would).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CameraServiceClient } from '@camera-service/sdk';
import { JwtService } from '../../src/auth/index.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';
import { killService, serviceEnv, startService } from '../helpers/process.js';

const run = promisify(execFile);
const jwt = new JwtService(TEST_JWT_SECRET);

const CONFIG = [
  'cameras:',
  '  - id: test0',
  '    test_pattern: { size: 320x240, fps: 10, clock: false }',
  'mediamtx:',
  '  codec: { gop: 5 }',
  'storage:',
  '  check_interval_seconds: 0.2',
  '',
].join('\n');

async function connect(url: string): Promise<CameraServiceClient> {
  const authToken = await jwt.mint({ role: 'operator', subject: 'crash-test', ttlSeconds: 600 });
  const client = new CameraServiceClient({ url, requestTimeoutMs: 10_000, authToken });
  await client.connect();
  return client;
}

async function duration(file: string): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file],
    { timeout: 20_000 },
  );
  return Number(stdout.trim());
}

/** Pids of the ffmpeg processes writing into `dir`. */
async function writers(dir: string): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-f', `ffmpeg.*${dir}`]);
    return stdout.trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The test environment, with the cameras of CONFIG rather than none. */
function cameraEnv(dir: string): NodeJS.ProcessEnv {
  const { CAMERA_SERVICE_CAMERAS: _none, ...env } = serviceEnv(dir);
  return env;
}

/** Resolves after `ms`: a recording's length is wall time, which only passing time makes. */
const record = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('recordings when the service or the disk fails', () => {
  it('a SIGKILLed service leaves a playable file and no ffmpeg; the next start recovers it', async () => {
    const dir = tempDir();
    const config = join(dir, 'config.yml');
    writeFileSync(config, CONFIG);
    const recordings = join(dir, 'recordings');
    const env = cameraEnv(dir);
    const service = await startService(['--config', config], env);
    let elapsed: number;
    let filename: string;
    try {
      const client = await connect(service.wsUrl);
      const started = (await client.request('start_recording', { device: 'test0' })) as {
        filename: string;
      };
      filename = started.filename;
      const t0 = performance.now();
      await record(3000);
      assert.equal((await writers(recordings)).length, 1, 'one recorder runs');
      service.child.kill('SIGKILL');
      await service.exited;
      elapsed = (performance.now() - t0) / 1000;
      client.close().catch(() => undefined);
    } finally {
      await killService(service);
    }
    // The recorder loses its input (the relay was in the killed process) and its progress
    // pipe: it ends by itself.
    const deadline = Date.now() + 15_000;
    while ((await writers(recordings)).length > 0) {
      assert.ok(Date.now() < deadline, 'the recorder ffmpeg outlived the service');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const measured = await duration(join(recordings, filename));
    assert.ok(
      measured >= elapsed - 2,
      `${measured} s playable after ${elapsed.toFixed(1)} s of recording`,
    );
    assert.equal(readdirSync(join(recordings, '.sessions')).length, 1, 'the journal is left');

    const again = await startService(['--config', config], env);
    try {
      const recovered = again.logs.find(
        (r) => r.msg === 'recording left open by an earlier run recovered',
      );
      assert.ok(recovered, 'the next start reports the recording');
      assert.equal(recovered.device, 'test0');
      const [file] = recovered.files as { file: string; duration: number | null }[];
      assert.equal(file?.file, filename);
      assert.ok((file?.duration ?? 0) >= elapsed - 2);
      assert.deepEqual(readdirSync(join(recordings, '.sessions')), [], 'the journal is done');
    } finally {
      await killService(again);
    }
  });

  it('stops a running recording cleanly when storage becomes critical', async () => {
    const dir = tempDir();
    const config = join(dir, 'config.yml');
    writeFileSync(config, CONFIG);
    const service = await startService(['--config', config], cameraEnv(dir));
    try {
      const client = await connect(service.wsUrl);
      const stopped = new Promise<{ reason?: string; filename: string; status: string }>(
        (resolve) =>
          client.on('notification', (method, params) => {
            const event = params as { status: string; reason?: string; filename: string };
            if (method === 'recording_status_update' && event.status !== 'STARTED') resolve(event);
          }),
      );
      const started = (await client.request('start_recording', { device: 'test0' })) as {
        filename: string;
      };
      await record(1500);
      // Any disk in use is above 1 %: critical from the next check on.
      writeFileSync(
        config,
        `${CONFIG.replace('storage:\n', 'storage:\n  warn_percent: 1\n  block_percent: 1\n  critical_percent: 1\n')}`,
      );
      service.child.kill('SIGHUP');
      const event = await stopped;
      assert.equal(event.status, 'STOPPED');
      assert.equal(event.reason, 'storage critical');
      assert.ok((await duration(join(dir, 'recordings', started.filename))) >= 1);
      await client.close();
    } finally {
      await killService(service);
    }
  });
});
