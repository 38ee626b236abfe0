/**
 * The log of a real service run, read as raw text: every line is one JSON object with
 * each key once (a parser keeps the last of two, so a filter on `component` would miss
 * the line), and the pretty format writes no colour codes into a pipe.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CameraServiceClient } from '@camera-service/sdk';
import { JwtService } from '../../src/auth/index.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';
import { duplicateKeys } from '../helpers/json-keys.js';
import { killService, serviceEnv, spawnService, startService } from '../helpers/process.js';
import { within } from '../helpers/wait.js';

const FAKE_V4L2_CTL = fileURLToPath(
  new URL('../../../test/fixtures/fake-v4l2-ctl', import.meta.url),
);
const EMEET = ['emeet-smartcam-s800__all.txt', 'emeet-smartcam-s800__list-formats-ext.txt'];

describe('the log of a real service run', () => {
  it('has every key once in every line, through start, calls, snapshots, reload and stop', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'dev'));
    mkdirSync(join(dir, 'sys', 'video0'), { recursive: true });
    writeFileSync(join(dir, 'sys', 'video0', 'name'), 'EMEET SmartCam S800\n');
    const service = await startService(
      [],
      serviceEnv(dir, {
        CAMERA_SERVICE_LOGGING_LEVEL: 'debug',
        CAMERA_SERVICE_CAMERA_PROBE_COMMAND: FAKE_V4L2_CTL,
        CAMERA_SERVICE_CAMERAS: '[{id: test0, test_pattern: {size: 320x240, fps: 10}}]',
      }),
    );
    try {
      const jwt = new JwtService(TEST_JWT_SECRET);
      const token = await jwt.mint({ role: 'admin', subject: 'log-test', ttlSeconds: 600 });
      const client = new CameraServiceClient({ url: service.wsUrl, authToken: token });
      await client.connect();
      writeFileSync(join(dir, 'dev', 'video0'), `${EMEET.join('\n')}\n`); // a camera plugged in
      await service.logs.waitFor((r) => r.subcomponent === 'discovery', 10_000, 'discovery');
      await client.getCameraList();
      await client.call('take_snapshot', { device: 'test0' });
      const stranger = new CameraServiceClient({ url: service.wsUrl });
      await stranger.connect();
      await stranger.authenticate('not-a-token').catch(() => undefined);
      await stranger.close();
      service.child.kill('SIGHUP');
      await service.logs.waitFor((r) => /reload/.test(r.msg), 5000, 'the reload');
      await client.close();
      service.child.kill('SIGTERM');
      assert.equal((await within(service.exited, 5000, 'the stop')).code, 0);

      const lines = service.logs.lines;
      assert.ok(lines.length > 20, `only ${lines.length} lines`);
      const components = new Set(service.logs.records.map((r) => String(r.component)));
      for (const c of ['cameras', 'media', 'capture', 'audit']) assert.ok(components.has(c), c);
      assert.ok(service.logs.find((r) => r.msg === 'stopped'));
      const bad = lines
        .map((line) => ({ line, duplicates: duplicateKeys(line) }))
        .filter((l) => l.duplicates.length > 0);
      assert.deepEqual(bad, [], 'lines with a key written twice');
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
    } finally {
      await killService(service);
    }
  });

  it('writes the pretty format without colour codes when stdout is not a terminal', async () => {
    const dir = tempDir();
    const service = spawnService([], serviceEnv(dir, { CAMERA_SERVICE_LOGGING_FORMAT: 'pretty' }));
    try {
      let text = '';
      const listening = new Promise<void>((resolve) =>
        service.child.stdout!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (/INFO.*listening/.test(text)) resolve();
        }),
      );
      await within(listening, 15_000, `the 'listening' line in:\n${text}`);
      service.child.kill('SIGTERM');
      await within(service.exited, 5000, 'the stop');
      assert.match(text, /camera-service starting/);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(text, /\x1b\[/, 'no ANSI escape sequence');
    } finally {
      await killService(service);
    }
  });
});
