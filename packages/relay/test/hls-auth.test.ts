/** HLS through the authentication hook: every request checked, the query carried to segments. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Relay, httpAuthHook, type AuthRequest } from '../src/index.js';
import { startHookServer, type HookServer } from './helpers/hook.js';
import { run } from './helpers/media.js';

const PAUSE_MS = 300;
// The on-demand publisher authenticates like any other RTSP client.
const PUBLISH =
  'ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp ' +
  'rtsp://cam:secret@127.0.0.1:$RTSP_PORT/$MTX_PATH';
const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Publishers need `secret`; readers `TOKEN`, as a credential or (HLS) in the query. */
function decide(request: AuthRequest): number {
  if (request.action === 'publish') return request.password === 'secret' ? 200 : 401;
  const inQuery = new URLSearchParams(request.query).get('token') === 'TOKEN';
  return request.token === 'TOKEN' || inQuery ? 200 : 401;
}

describe('HLS through the authentication hook', () => {
  let hook: HookServer;
  let relay: Relay;
  let hls: string;
  before(async () => {
    hook = await startHookServer(decide);
    relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      hlsPort: 0,
      auth: httpAuthHook(hook.url),
      authFailPauseMs: PAUSE_MS,
      paths: [{ name: 'cam', runOnDemand: PUBLISH, runOnDemandCloseAfter: '30s' }],
    });
    const ports = await relay.start();
    hls = `http://127.0.0.1:${ports.hlsPort}`;
  });
  after(async () => {
    await relay.stop();
    await hook.close();
  });

  it('answers an anonymous request 401 with a Basic challenge, and starts nothing', async () => {
    const res = await fetch(`${hls}/cam/index.m3u8`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="mediamtx"');
    assert.deepEqual(await res.json(), { status: 'error', error: 'authentication error' });
    assert.deepEqual(hook.requests.at(-1), {
      ip: '127.0.0.1',
      user: '',
      password: '',
      token: '',
      action: 'read',
      path: 'cam',
      protocol: 'hls',
      id: null,
      query: '',
    });
    assert.equal(relay.hls?.muxers, 0);
  });

  it('answers a wrong credential 401 without a challenge, after the pause', async () => {
    const started = performance.now();
    const res = await fetch(`${hls}/cam/index.m3u8`, {
      headers: { authorization: basic('any', 'nope') },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.ok(performance.now() - started >= PAUSE_MS - 10, 'answered after the pause');
    assert.equal(relay.hls?.muxers, 0);
  });

  it(
    'serves the playlist and segments with Basic credentials, checking each request',
    { timeout: 30_000 },
    async () => {
      const headers = { authorization: basic('any', 'TOKEN') };
      const res = await fetch(`${hls}/cam/index.m3u8`, { headers });
      assert.equal(res.status, 200);
      const playlist = await res.text();
      const segment = /^(seg\d+\.ts)$/m.exec(playlist)?.[1];
      assert.ok(segment, playlist);
      assert.equal((await fetch(`${hls}/cam/${segment}`, { headers })).status, 200);
      assert.equal((await fetch(`${hls}/cam/${segment}`)).status, 401, 'segments are checked too');
      assert.deepEqual(hook.requests.at(-2), {
        ip: '127.0.0.1',
        user: 'any',
        password: 'TOKEN',
        token: 'TOKEN',
        action: 'read',
        path: 'cam',
        protocol: 'hls',
        id: null,
        query: '',
      });
    },
  );

  it('serves a Bearer token', async () => {
    const res = await fetch(`${hls}/cam/index.m3u8`, {
      headers: { authorization: 'Bearer TOKEN' },
    });
    assert.equal(res.status, 200);
    await res.text();
    const asked = hook.requests.at(-1);
    assert.deepEqual([asked?.user, asked?.password, asked?.token], ['', '', 'TOKEN']);
  });

  it('passes ?token= raw in the query (not as the token), and puts it on every segment URI', async () => {
    const res = await fetch(`${hls}/cam/index.m3u8?token=TOKEN`);
    assert.equal(res.status, 200);
    const uris = (await res.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(uris.length > 0);
    for (const uri of uris) assert.match(uri, /^seg\d+\.ts\?token=TOKEN$/);
    const asked = hook.requests.at(-1);
    assert.deepEqual([asked?.token, asked?.query], ['', 'token=TOKEN']);
    assert.equal((await fetch(`${hls}/cam/${uris[0]}`)).status, 200);
  });

  it(
    'lets ffprobe read the stream given ?token= on the playlist URL only',
    { timeout: 30_000 },
    async () => {
      const probe = await run('ffprobe', [
        ...['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0'],
        `${hls}/cam/index.m3u8?token=TOKEN`,
      ]);
      assert.equal(probe.code, 0, probe.stderr);
      assert.equal(probe.stdout.toString().trim().split('\n')[0], 'h264,320,240');
    },
  );

  it("never asks the hook about the relay's own muxer reading RTSP", () => {
    assert.deepEqual(
      hook.requests.filter((r) => r.protocol === 'rtsp' && r.action === 'read'),
      [],
    );
    assert.ok(hook.requests.some((r) => r.protocol === 'rtsp' && r.action === 'publish'));
  });
});
