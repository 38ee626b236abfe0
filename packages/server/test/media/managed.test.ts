/**
 * Managed mode with the stand-in binary (test/fixtures/stand-in/mediamtx), which opens
 * every listener MediaMTX would open with the written configuration and fails as MediaMTX
 * does when one is taken: two instances side by side.
 */
import assert from 'node:assert/strict';

import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startApp, type TestApp } from '../helpers/app.js';

const STAND_IN = fileURLToPath(
  new URL('../../../test/fixtures/stand-in/mediamtx', import.meta.url),
);
const MANAGED = { mode: 'managed' as const, binary: STAND_IN };

/** The listeners the stand-in of this service opened ("tcp 127.0.0.1:8554", ...). */
async function listeners(t: TestApp): Promise<string[]> {
  const line = await t.logs.waitFor(
    (r) => r.component === 'mediamtx' && r.msg.startsWith('stand-in listeners '),
    10_000,
    "the stand-in's listeners",
  );
  return JSON.parse(line.msg.slice('stand-in listeners '.length)) as string[];
}

describe('managed mode, isolated', () => {
  it('runs two instances side by side, each on its own ports, on the listen host only', async () => {
    const declared = [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }];
    const a = await startApp({ mediamtx: MANAGED, cameras: declared });
    try {
      const b = await startApp({ mediamtx: MANAGED, cameras: declared });
      try {
        const [first, second] = await Promise.all([listeners(a), listeners(b)]);
        // API, RTSP, RTP, RTCP, HLS, WebRTC and its ICE UDP port; nothing else (no RTMP,
        // SRT, metrics...), and nothing on every interface.
        assert.equal(first.length, 7, first.join(', '));
        for (const listener of [...first, ...second]) {
          assert.match(listener, /^(tcp|udp) 127\.0\.0\.1:\d+$/);
        }
        const ports = (list: string[]) => list.map((l) => l.replace(' 127.0.0.1', ''));
        const shared = ports(first).filter((p) => ports(second).includes(p));
        assert.deepEqual(shared, [], 'no port in common');
        for (const t of [a, b]) {
          assert.equal((await fetch(`${t.healthUrl}/health/mediamtx`)).status, 200);
        }
        // WebRTC is on, and the camera object says where.
        const client = await a.connect({ as: 'viewer' });
        const camera = (await client.getCameraStatus('test0')) as { streams: { webrtc: string } };
        assert.equal(camera.streams.webrtc, `http://127.0.0.1:${a.app.media.ports.webrtc}/test0/`);
        assert.ok(first.includes(`tcp 127.0.0.1:${a.app.media.ports.webrtc}`));
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
    }
  });
});
