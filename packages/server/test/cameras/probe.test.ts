/**
 * Running the probe: time limit, retries, and the reasons a failed probe gives. The probe
 * command is test/fixtures/fake-v4l2-ctl, which replays outputs of real cameras and can be
 * told to hang or to fail its first run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProbeError, probeDevice } from '../../src/cameras/probe.js';
import { tempDir, writeFile } from '../helpers/files.js';

const FAKE_V4L2_CTL = fileURLToPath(
  new URL('../../../test/fixtures/fake-v4l2-ctl', import.meta.url),
);
const EMEET = 'emeet-smartcam-s800__all.txt\nemeet-smartcam-s800__list-formats-ext.txt\n';

describe('probeDevice', () => {
  it('reads the identity and formats of a real camera output', async () => {
    const node = writeFile(tempDir(), 'video0', EMEET);
    const probed = await probeDevice(node, { command: FAKE_V4L2_CTL });
    assert.equal(probed.info.driver, 'uvcvideo');
    assert.equal(probed.info.capture, true);
    assert.deepEqual(
      probed.formats.map((f) => f.fourcc),
      ['MJPG', 'YUYV', 'H264'],
    );
  });

  it('retries a run that fails, as a camera still being set up does, and then succeeds', async () => {
    const dir = tempDir();
    const node = writeFile(
      dir,
      'video0',
      `FAIL_ONCE ${join(dir, 'failed-once')} Cannot open device: Device or resource busy\n${EMEET}`,
    );
    const probed = await probeDevice(node, {
      command: FAKE_V4L2_CTL,
      retries: 1,
      retryDelayMs: 10,
    });
    assert.equal(probed.info.driver, 'uvcvideo');
  });

  it('gives up after its retries with the tool’s own words', async () => {
    const node = writeFile(tempDir(), 'video0', 'FAIL Cannot open device /dev/video0, exiting.\n');
    await assert.rejects(
      probeDevice(node, { command: FAKE_V4L2_CTL, retries: 2, retryDelayMs: 10 }),
      (error: unknown) => {
        assert.ok(error instanceof ProbeError);
        assert.match(error.message, /failed: Cannot open device \/dev\/video0, exiting\.$/);
        return true;
      },
    );
  });

  it('stops a probe that does not answer within its time limit', async () => {
    const node = writeFile(tempDir(), 'video0', 'HANG\n');
    const started = performance.now();
    await assert.rejects(
      probeDevice(node, { command: FAKE_V4L2_CTL, timeoutMs: 300, retries: 0 }),
      /did not answer within 300 ms\./,
    );
    assert.ok(performance.now() - started < 5000, 'the hung probe was not stopped');
  });

  it('does not retry a probe command that is not installed, and says what to do', async () => {
    const node = writeFile(tempDir(), 'video0', EMEET);
    await assert.rejects(
      probeDevice(node, { command: '/nonexistent/v4l2-ctl', retries: 5, retryDelayMs: 10_000 }),
      (error: unknown) => {
        assert.ok(error instanceof ProbeError);
        assert.equal(error.retryable, false);
        assert.match(
          error.message,
          /was not found: install v4l-utils or set camera\.probe_command/,
        );
        return true;
      },
    );
  });
});
