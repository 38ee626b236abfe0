/**
 * The test pattern's machine-readable wall clock: a frame read from the camera's RTSP
 * stream by ffmpeg decodes to a time within a second of now, and the decoder refuses a
 * frame without a code.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { decodeClockCode } from '../../src/cameras/clock-code.js';
import { startApp } from '../helpers/app.js';

describe('the test pattern clock code', () => {
  it('decodes from a frame of the RTSP stream to within a second of now', async () => {
    const t = await startApp({
      cameras: [
        { id: 'clock', test_pattern: { size: '320x240', fps: 10, clock: true, clock_code: true } },
      ],
    });
    try {
      const url = t.app.media.readerUrl('clock');
      // Frames as they arrive: the first come from the relay's GOP cache (up to a GOP
      // old); once caught up, each frame is decoded within a frame time of capture.
      const ffmpeg = spawn(
        'ffmpeg',
        [
          ...['-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer'],
          ...['-rtsp_transport', 'tcp', '-i', url],
          ...['-frames:v', '30', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const frame = 320 * 240 * 3;
      const lags: number[] = [];
      let pending = Buffer.alloc(0);
      ffmpeg.stdout.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= frame) {
          const decoded = decodeClockCode(pending.subarray(0, frame), 320, 3);
          lags.push(decoded === null ? Number.NaN : Date.now() - decoded);
          pending = pending.subarray(frame);
        }
      });
      const [code] = (await once(ffmpeg, 'exit')) as [number | null];
      assert.equal(code, 0);
      assert.equal(lags.length, 30);
      assert.ok(
        lags.every((lag) => !Number.isNaN(lag)),
        'every frame carries a clean clock code',
      );
      const last = lags.at(-1)!;
      assert.ok(last >= 0 && last < 1000, `the last frame decoded ${last} ms after its capture`);
    } finally {
      await t.stop();
    }
  });

  it('returns null for a frame without a code', () => {
    const grey = new Uint8Array(320 * 8 * 4).fill(128);
    assert.equal(decodeClockCode(grey, 320), null);
  });

  it('places the 40-bit value near the reference time', () => {
    const when = Date.UTC(2030, 0, 1, 12, 0, 0, 123);
    const pixels = new Uint8Array(320 * 8 * 4);
    const value = when % 2 ** 40;
    for (let i = 0; i < 40; i += 1) {
      const bit = Math.floor(value / 2 ** (39 - i)) % 2;
      for (let y = 0; y < 8; y += 1)
        for (let x = i * 8; x < i * 8 + 8; x += 1)
          pixels.fill(bit ? 255 : 0, (y * 320 + x) * 4, (y * 320 + x) * 4 + 4);
    }
    assert.equal(decodeClockCode(pixels, 320, 4, when + 5000), when);
  });
});
