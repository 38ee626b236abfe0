/**
 * The camera streams of the real service (embedded relay, a declared test pattern) as
 * an outsider and as each role sees them, with real ffmpeg and ffprobe: nobody watches
 * without a viewer credential, nobody but the service publishes, and the relay's RTSP
 * bounds close what would hold the process's descriptors.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dropCount } from '../helpers/outcomes.js';
import { startApp, type TestApp } from '../helpers/app.js';

const run = promisify(execFile);
const TEST0 = [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }];

/** What ffprobe sees of the first video stream at `url`, or the reason it failed. */
async function probe(url: string): Promise<{ width: number; height: number } | string> {
  try {
    const { stdout } = await run(
      'ffprobe',
      [
        ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0'],
        ...['-show_entries', 'stream=width,height', '-of', 'json', url],
      ],
      { timeout: 20_000 },
    );
    return (JSON.parse(stdout) as { streams: { width: number; height: number }[] }).streams[0]!;
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

describe('stream access through the real service', () => {
  let t: TestApp;
  let rtsp: string;
  let hls: string;
  before(async () => {
    t = await startApp({ cameras: TEST0 });
    rtsp = `rtsp://127.0.0.1:${t.app.media.ports.rtsp}/test0`;
    hls = `http://127.0.0.1:${t.app.media.ports.hls}/test0/index.m3u8`;
  });
  after(() => t.stop());

  it('refuses to play RTSP without a credential, and plays it for every role', async () => {
    const refused = await probe(rtsp);
    assert.equal(typeof refused, 'string');
    assert.match(refused as string, /401|Unauthorized/);
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      assert.deepEqual(await probe(`${rtsp}?token=${await t.token(role)}`), {
        width: 320,
        height: 240,
      });
    }
    const { key } = t.app.apiKeys.create({ name: 'lobby-tv', role: 'viewer' });
    const withKey = rtsp.replace('rtsp://', `rtsp://lobby-tv:${key}@`);
    assert.deepEqual(await probe(withKey), { width: 320, height: 240 }, 'a key as the password');
    const expired = await t.token('viewer', 1);
    t.clock.advance(2000);
    assert.match((await probe(`${rtsp}?token=${expired}`)) as string, /401|Unauthorized/);
    const denied = await t.logs.waitFor((r) => r.event === 'stream_denied' && r.action === 'read');
    assert.equal(denied.path, 'test0');
  });

  it('refuses HLS without a credential, with the challenge, and serves it with ?token=', async () => {
    const anonymous = await fetch(hls);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
    const token = await t.token('viewer');
    assert.deepEqual(await probe(`${hls}?token=${token}`), { width: 320, height: 240 });
  });

  it("lets no outsider publish over a camera, while the service's own ffmpeg still does", async () => {
    const admin = await t.token('admin');
    for (const url of [rtsp, rtsp.replace('rtsp://', `rtsp://any:${admin.slice(0, 100)}@`)]) {
      const intruder = spawn(
        'ffmpeg',
        [
          ...['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '3'],
          ...['-c:v', 'libx264', '-f', 'rtsp', '-rtsp_transport', 'tcp', url],
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      intruder.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => intruder.on('close', resolve));
      assert.notEqual(code, 0, `the intruder published through ${url.slice(0, 30)}`);
      assert.match(stderr, /401|Unauthorized/);
    }
    const denied = await t.logs.waitFor(
      (r) => r.event === 'stream_denied' && r.action === 'publish',
    );
    assert.equal(denied.reason, 'only the service publishes camera streams');
    // The camera is the service's: a snapshot starts its ffmpeg and sees its 320x240.
    const client = await t.connect({ as: 'operator' });
    const shot = await client.call('take_snapshot', { device: 'test0' });
    assert.equal(shot.status, 'SUCCESS');
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0'],
      `${t.config.storage.snapshots_dir}/${shot.filename}`,
    ]);
    assert.equal(stdout.trim(), '320,240');
  });
});

describe('anonymous viewing, when an operator turns it on', () => {
  it('plays without a credential, and still lets nobody publish', async () => {
    const t = await startApp({ cameras: TEST0, auth: { anonymous_viewing: true } });
    try {
      const rtsp = `rtsp://127.0.0.1:${t.app.media.ports.rtsp}/test0`;
      assert.deepEqual(await probe(rtsp), { width: 320, height: 240 });
      const client = await t.connect({ as: 'viewer' });
      const camera = await client.getCameraStatus('test0');
      assert.equal(camera.streams.credential, null);
      assert.equal(camera.streams.token_urls, null);
      const decision = await t.app.streamAccess.check({
        ip: '127.0.0.1',
        user: '',
        password: '',
        token: '',
        action: 'publish',
        path: 'test0',
        protocol: 'rtsp',
        id: null,
        query: '',
      });
      assert.equal(decision.allow, false);
    } finally {
      await t.stop();
    }
  });
});

describe('RTSP connection bounds of the embedded relay', () => {
  it('holds at most rtsp_max_connections, closes idle ones at the read timeout, and counts both', async () => {
    const t = await startApp({
      mediamtx: { rtsp_max_connections: 5, read_timeout_seconds: 0.5 },
    });
    const sockets: net.Socket[] = [];
    try {
      const closed: Promise<void>[] = [];
      for (let i = 0; i < 12; i += 1) {
        const socket = net.connect(t.app.media.ports.rtsp, '127.0.0.1');
        socket.on('error', () => undefined);
        closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
        sockets.push(socket);
      }
      await Promise.all(closed); // the 7 over the cap at once, the 5 held at the timeout
      assert.equal(await dropCount(t.healthUrl, 'rtsp', 'connection_limit'), 7);
      assert.equal(await dropCount(t.healthUrl, 'rtsp', 'read_timeout'), 5);
    } finally {
      for (const socket of sockets) socket.destroy();
      await t.stop();
    }
  });
});
