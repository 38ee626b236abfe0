/**
 * Snapshot grabs are bounded like ffprobe runs: at most snapshot.max_concurrent ffmpeg
 * grabs at once, snapshot.max_queued waiting, the rest refused with -32002. Counted by a
 * stand-in ffmpeg on PATH that holds the grabs (and lets the stream's own ffmpeg through).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RpcError } from '@camera-service/sdk';
import { startApp, type TestApp } from '../helpers/app.js';
import { standIn, until, type StandIn } from '../files/standin.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

describe('snapshot grabs at once', () => {
  let t: TestApp;
  let ffmpeg: StandIn;
  const path = process.env.PATH;

  before(async () => {
    ffmpeg = standIn('ffmpeg', 'image2pipe');
    process.env.PATH = `${ffmpeg.bin}:${path}`;
    t = await startApp({ cameras: [CAMERA], mediamtx: { codec: { gop: 5 } } as never });
  });
  after(async () => {
    process.env.PATH = path;
    await t.stop();
    ffmpeg.remove();
  });

  it('runs at most snapshot.max_concurrent grabs, and refuses exactly what the line cannot hold', async () => {
    const { max_concurrent: running, max_queued: queued } = t.config.snapshot;
    assert.deepEqual([running, queued], [4, 32], 'the defaults');
    // Accepted grabs wait their turn: longer than the default 5 s reply timeout under load.
    const operator = await t.connect({ as: 'operator', requestTimeoutMs: 60_000 });
    // The stream runs (tier 1 from now on), and the stand-in lets a grab through.
    await operator.request('take_snapshot', { device: 'test0' });
    assert.equal(ffmpeg.maxConcurrent(), 1);
    const before = ffmpeg.starts();
    await ffmpeg.hold();
    // Each quality is a grab of its own (requests share a grab only for the same one).
    const second = await t.connect({ as: 'operator', requestTimeoutMs: 60_000 });
    const calls = Array.from({ length: 60 }, (_, i) =>
      (i % 2 ? second : operator)
        .request('take_snapshot', { device: 'test0', quality: i + 1 })
        .then(
          () => 'ok' as const,
          (error: unknown) => error,
        ),
    );
    const refused: RpcError[] = [];
    for (const call of calls) {
      void call.then((outcome) => {
        if (outcome instanceof RpcError) refused.push(outcome);
      });
    }
    await until(() => refused.length === 60 - running - queued, 10_000, '24 refusals');
    await until(() => ffmpeg.starts() - before === running, 10_000, '4 grabs');
    assert.equal(ffmpeg.starts() - before, running, 'no fifth grab while four run');
    for (const error of refused) {
      assert.equal(error.code, -32002);
      assert.equal(
        error.message,
        'The server is busy taking other snapshots (4 running, 32 waiting): try again in a moment.',
      );
      assert.ok((error.data as { retry_after_ms: number }).retry_after_ms >= 250);
    }
    ffmpeg.release();
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((o) => o !== 'ok' && !refused.includes(o as RpcError));
    assert.deepEqual(failed, [], 'every accepted grab answered');
    assert.equal(outcomes.filter((o) => o === 'ok').length, running + queued);
    assert.equal(ffmpeg.starts() - before, running + queued, 'one grab per accepted call');
    assert.equal(ffmpeg.maxConcurrent(), running);
  });
});
