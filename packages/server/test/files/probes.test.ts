/**
 * ffprobe runs for get_recording_info, through the running service, counted by a stand-in
 * ffprobe on PATH that holds them: a bounded number run, a bounded line waits, and exactly
 * the rest are refused with -32002.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RpcError } from '@camera-service/sdk';
import { startApp, type TestApp } from '../helpers/app.js';
import { standIn, until, type StandIn } from './standin.js';

const name = (i: number) => `camera0_2026-01-01_00-00-00_${String(i).padStart(3, '0')}.mp4`;

describe('ffprobe runs for file info', () => {
  let t: TestApp;
  let ffprobe: StandIn;
  const path = process.env.PATH;

  before(async () => {
    ffprobe = standIn('ffprobe');
    process.env.PATH = `${ffprobe.bin}:${path}`;
    t = await startApp();
    for (let i = 0; i < 200; i += 1) {
      writeFileSync(join(t.config.storage.recordings_dir, name(i)), 'not a video');
    }
    await t.app.files.recordings.rescan();
  });
  after(async () => {
    process.env.PATH = path;
    await t.stop();
    ffprobe.remove();
  });

  it('runs at most storage.max_concurrent_probes at once, and refuses exactly what the line cannot hold', async () => {
    const { max_concurrent_probes: running, max_queued_probes: queued } = t.config.storage;
    assert.deepEqual([running, queued], [4, 64], 'the defaults');
    await ffprobe.hold();
    // Five connections of 40 calls: each stays under the per-connection in-flight cap.
    // Accepted calls wait their turn: longer than the default 5 s reply timeout under load.
    const clients = await Promise.all(
      [0, 1, 2, 3, 4].map(() => t.connect({ as: 'viewer', requestTimeoutMs: 60_000 })),
    );
    const calls = Array.from({ length: 200 }, (_, i) =>
      (clients[i % 5] ?? clients[0])!.request('get_recording_info', { filename: name(i) }).then(
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
    // Nothing finishes while held: the refusals are everything past 4 running + 64 waiting.
    await until(() => refused.length === 200 - running - queued, 10_000, '132 refusals');
    await until(() => ffprobe.starts() === running, 10_000, '4 ffprobe runs');
    assert.equal(ffprobe.starts(), running, 'no fifth ffprobe while four run');
    for (const error of refused) {
      assert.equal(error.code, -32002);
      assert.equal(
        error.message,
        'The server is busy reading other files (4 running, 64 waiting): try again in a moment.',
      );
      const data = error.data as { retry_after_ms: number; retry_after: number };
      assert.ok(data.retry_after_ms >= 250 && data.retry_after >= 1, JSON.stringify(data));
    }
    ffprobe.release();
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((o) => o !== 'ok' && !refused.includes(o as RpcError));
    assert.deepEqual(failed, [], 'every accepted call answered');
    assert.equal(outcomes.filter((o) => o === 'ok').length, running + queued);
    assert.equal(ffprobe.starts(), running + queued, 'one ffprobe per accepted call');
    assert.equal(ffprobe.maxConcurrent(), running);
    // The line is free again.
    await clients[0]!.request('get_recording_info', { filename: name(0) });
  });
});
