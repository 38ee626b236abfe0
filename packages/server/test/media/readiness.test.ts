/**
 * A camera path built by the service, run by the media server on demand: ready when a
 * reader asks, readable as the configured H.264, and a clear reason when it cannot start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaultConfig } from '../../src/config/index.js';
import { publishCommand } from '../../src/media/command.js';
import {
  StreamNotReadyError,
  describe as rtspDescribe,
  waitReady,
} from '../../src/media/readiness.js';
import { startMediaServer, type TestMediaServer } from '../helpers/media.js';

const run = promisify(execFile);

describe('stream readiness', () => {
  let server: TestMediaServer;
  let dir: string;
  before(async () => {
    server = await startMediaServer();
    dir = mkdtempSync(join(tmpdir(), 'readiness-'));
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts an on-demand test pattern and reads it back as constrained baseline 3.0', async () => {
    const stderrFile = join(dir, 'pattern.log');
    await server.client.addPath('pattern', {
      runOnDemand: publishCommand({
        source: { kind: 'test_pattern', size: '320x240', fps: 10 },
        codec: defaultConfig().mediamtx.codec,
        stderrFile,
      }),
      runOnDemandStartTimeout: '10s',
      runOnDemandCloseAfter: '5s',
    });
    assert.equal((await server.client.getPath('pattern'))?.ready, false, 'nothing runs before');
    const state = await waitReady({
      client: server.client,
      rtspBase: server.rtspBase,
      name: 'pattern',
      timeoutMs: 10_000,
      stderrFile,
    });
    assert.equal(state.ready, true);
    assert.deepEqual(state.tracks, ['H264']);
    const { stdout } = await run(
      'ffprobe',
      [
        ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0'],
        ...['-show_entries', 'stream=codec_name,profile,level,width,height,pix_fmt'],
        ...['-of', 'json', `${server.rtspBase}/pattern`],
      ],
      { timeout: 15_000 },
    );
    const [stream] = (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams;
    assert.deepEqual(stream, {
      codec_name: 'h264',
      profile: 'Constrained Baseline',
      level: 30,
      width: 320,
      height: 240,
      pix_fmt: 'yuv420p',
    });
  });

  it('says why a camera did not start, from ffmpeg’s own words', async () => {
    const stderrFile = join(dir, 'missing.log');
    await server.client.addPath('missing', {
      runOnDemand: publishCommand({
        source: { kind: 'v4l2', device: join(dir, 'video99') },
        codec: defaultConfig().mediamtx.codec,
        stderrFile,
      }),
      runOnDemandRestart: true,
      runOnDemandStartTimeout: '2s',
    });
    const started = performance.now();
    await assert.rejects(
      waitReady({
        client: server.client,
        rtspBase: server.rtspBase,
        name: 'missing',
        timeoutMs: 3000,
        stderrFile,
      }),
      (error: unknown) => {
        assert.ok(error instanceof StreamNotReadyError);
        assert.equal(error.path, 'missing');
        assert.match(
          error.message,
          /^The stream missing could not start: ffmpeg said: .*No such file or directory/,
        );
        assert.ok(error.stderrTail.length > 0);
        return true;
      },
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 3500, `gave up after ${elapsed.toFixed(0)} ms`);
  });

  it('reports a path the media server does not have', async () => {
    await assert.rejects(
      waitReady({
        client: server.client,
        rtspBase: server.rtspBase,
        name: 'nope',
        timeoutMs: 2000,
      }),
      /The stream nope could not start: the media server answered 404/,
    );
  });

  it('DESCRIBE gives up on a server that does not answer', async () => {
    const answer = await rtspDescribe(`rtsp://127.0.0.1:${server.apiPort}/x`, 300);
    assert.equal(answer.status, 0);
  });
});
