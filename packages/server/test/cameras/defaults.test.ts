/**
 * A fresh development box serves a test-pattern camera: with no cameras: key and no
 * V4L2 device, test0 is there, logged as such, and says where to watch it; never in
 * production, and cameras: [] turns it off.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEVELOPMENT_TEST_PATTERN, effectiveCameras } from '../../src/cameras/index.js';
import { configSchema } from '../../src/index.js';
import { startApp } from '../helpers/app.js';

const config = (raw: Record<string, unknown>) => configSchema.parse(raw);

describe('the development test pattern', () => {
  const cases: [string, Record<string, unknown>, string[], boolean][] = [
    ['development, no cameras key, no device: test0', {}, [], true],
    ['development, a V4L2 node present: none', {}, ['video0', 'video1'], false],
    ['development, only other nodes: test0', {}, ['null', 'v4l'], true],
    ['cameras: [] turns it off', { cameras: [] }, [], false],
    ['production never', { service: { environment: 'production' } }, [], false],
  ];
  for (const [name, raw, nodes, expected] of cases) {
    it(name, () => {
      const result = effectiveCameras(config(raw), () => nodes);
      assert.equal(result.testPattern, expected);
      assert.deepEqual(result.cameras, expected ? [DEVELOPMENT_TEST_PATTERN] : []);
    });
  }

  it('keeps declared cameras as they are', () => {
    const declared = [{ id: 'yard', url: 'rtsp://10.0.0.9/stream' }];
    const result = effectiveCameras(config({ cameras: declared }), () => []);
    assert.deepEqual(result.cameras, declared);
    assert.equal(result.testPattern, false);
  });

  it('comes up in the real service, logged, with where to watch it, and every port in the listening line', async () => {
    const t = await startApp({ cameras: null });
    try {
      const client = await t.connect({ as: 'viewer' });
      const { cameras } = await client.getCameraList();
      assert.deepEqual(
        cameras.map((c) => [c.device, c.status, c.resolution]),
        [['test0', 'CONNECTED', '320x240']],
      );
      const told = await t.logs.waitFor((r) => /^development: no cameras declared/.test(r.msg));
      assert.equal(told.camera, 'test0');
      const streaming = await t.logs.waitFor((r) =>
        r.msg.startsWith('camera test0 is streaming at'),
      );
      const { rtsp, hls } = t.app.media.ports;
      assert.match(String(streaming.rtsp), new RegExp(`^rtsp://[^/]+:${rtsp}/test0$`));
      assert.match(String(streaming.hls), new RegExp(`:${hls}/test0/index\\.m3u8$`));
      const listening = await t.logs.waitFor((r) => r.msg === 'listening');
      assert.equal(listening.rtsp_port, rtsp);
      assert.equal(listening.hls_port, hls);
      assert.equal(listening.mediamtx_api_port, t.app.media.ports.api);
    } finally {
      await t.stop();
    }
  });
});
