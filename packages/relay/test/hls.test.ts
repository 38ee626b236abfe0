/** On-demand HLS served from an ffmpeg -c copy muxer, read back by ffprobe. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Relay } from '../src/index.js';
import { run } from './helpers/media.js';

const PUBLISH =
  'ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp ' +
  'rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH';

describe('HLS', () => {
  let relay: Relay;
  let hls: string;
  before(async () => {
    relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      hlsPort: 0,
      hlsCloseAfterMs: 1500,
      paths: [{ name: 'cam', runOnDemand: PUBLISH, runOnDemandCloseAfter: '2s' }],
    });
    const ports = await relay.start();
    hls = `http://127.0.0.1:${ports.hlsPort}`;
  });
  after(() => relay.stop());

  it(
    'serves a playlist on first request, starting the muxer and the on-demand path',
    { timeout: 30_000 },
    async () => {
      const res = await fetch(`${hls}/cam/index.m3u8`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      const playlist = await res.text();
      assert.match(playlist, /^#EXTM3U/);
      const segment = /^(seg\d+\.ts)$/m.exec(playlist)?.[1];
      assert.ok(segment, playlist);
      const ts = await fetch(`${hls}/cam/${segment}`);
      assert.equal(ts.status, 200);
      assert.equal(ts.headers.get('content-type'), 'video/mp2t');
      assert.equal(Buffer.from(await ts.arrayBuffer())[0], 0x47, 'MPEG-TS sync byte');
    },
  );

  it('is readable by ffprobe', { timeout: 30_000 }, async () => {
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      `${hls}/cam/index.m3u8`,
    ]);
    assert.equal(probe.code, 0, probe.stderr);
    assert.equal(probe.stdout.toString().trim().split('\n')[0], 'h264,320,240');
  });

  it('answers 404 to unknown paths, other files and traversal attempts', async () => {
    for (const path of [
      '/nope/index.m3u8',
      '/cam/../../etc/passwd',
      '/cam/%2e%2e/index.m3u8',
      '/cam/index.m3u8.tmp',
      '/cam/seg1.mp4',
      '/%2fetc/index.m3u8',
      // Percent-encoded dot segments are dot segments (WHATWG URL): this is /index.m3u8.
      '/%2e/index.m3u8',
    ]) {
      assert.equal((await fetch(`${hls}${path}`)).status, 404, path);
    }
  });

  it('stops a muxer nobody uses, and removes its files', { timeout: 30_000 }, async () => {
    assert.equal(relay.hls?.muxers, 1);
    const [path] = (await once(relay.hls!, 'stopped')) as [string];
    assert.equal(path, 'cam');
    assert.equal(relay.hls?.muxers, 0);
  });
});
