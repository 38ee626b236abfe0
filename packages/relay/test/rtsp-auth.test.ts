/** RTSP publish and read through the authentication hook, with real ffmpeg and ffprobe. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Relay, httpAuthHook, type AuthRequest, type Stream } from '../src/index.js';
import { startHookServer, type HookServer } from './helpers/hook.js';
import { publish, run, stopProcess } from './helpers/media.js';
import { RawReader } from './helpers/reader.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PAUSE_MS = 300;
const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Publishers need the password `secret`; readers the credential `TOKEN`. */
function decide(request: AuthRequest): number {
  if (request.action === 'publish') return request.password === 'secret' ? 200 : 401;
  return request.token === 'TOKEN' ? 200 : 401;
}

function probe(url: string) {
  return run('ffprobe', [
    ...['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name,width,height'],
    ...['-of', 'csv=p=0', url],
  ]);
}

/** The hook request without its random connection id (checked to be a UUID). */
function withoutId(request: AuthRequest): Omit<AuthRequest, 'id'> {
  assert.match(String(request.id), UUID);
  const { id: _id, ...rest } = request;
  return rest;
}

describe('RTSP through the authentication hook', () => {
  let hook: HookServer;
  let relay: Relay;
  let base: string;
  let stream: Stream;
  let publisher: ReturnType<typeof publish> | undefined;
  const started: string[] = [];

  before(async () => {
    hook = await startHookServer(decide);
    relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      auth: httpAuthHook(hook.url),
      authFailPauseMs: PAUSE_MS,
      paths: [
        { name: 'cam' },
        { name: 'ondemand', runOnDemand: 'sleep 30', runOnDemandStartTimeout: '2s' },
      ],
    });
    relay.paths.on('commandStarted', (name) => started.push(name));
    const { rtspPort } = await relay.start();
    base = `rtsp://127.0.0.1:${rtspPort}`;
  });
  after(async () => {
    if (publisher) await stopProcess(publisher);
    await relay.stop();
    await hook.close();
  });

  it('refuses an ffmpeg publisher without credentials: ANNOUNCE 401, ffmpeg fails', async () => {
    const result = await run('ffmpeg', [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=10',
      ],
      ...['-t', '1', '-c:v', 'libx264', '-f', 'rtsp', '-rtsp_transport', 'tcp', `${base}/cam`],
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /401 Unauthorized/);
    const asked = await hook.next((r) => r.action === 'publish');
    assert.deepEqual(withoutId(asked), {
      ip: '127.0.0.1',
      user: '',
      password: '',
      token: '',
      action: 'publish',
      path: 'cam',
      protocol: 'rtsp',
      query: '',
    });
    assert.equal(relay.paths.state('cam')?.stream, null);
  });

  it('accepts rtsp://user:secret@ when the hook allows it, sending MediaMTX fields', async () => {
    const ready = once(relay.paths, 'ready') as Promise<[string, Stream]>;
    publisher = publish(`rtsp://user:secret@${base.slice('rtsp://'.length)}/cam`, 60);
    [, stream] = await ready;
    const asked = await hook.next((r) => r.action === 'publish' && r.user === 'user');
    assert.deepEqual(withoutId(asked), {
      ip: '127.0.0.1',
      user: 'user',
      password: 'secret',
      token: 'secret',
      action: 'publish',
      path: 'cam',
      protocol: 'rtsp',
      query: '',
    });
  });

  it('never lets a refused publisher replace the one publishing', async () => {
    const before = relay.paths.state('cam');
    for (const url of [`${base}/cam`, `rtsp://user:wrong@${base.slice(7)}/cam`]) {
      const result = await run('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240'],
        ...['-t', '1', '-c:v', 'libx264', '-f', 'rtsp', '-rtsp_transport', 'tcp', url],
      ]);
      assert.match(result.stderr, /401 Unauthorized/, url);
    }
    const now = relay.paths.state('cam');
    assert.equal(now?.stream, stream);
    assert.equal(now?.publisherId, before?.publisherId);
  });

  it('refuses an anonymous ffprobe with 401', async () => {
    const result = await probe(`${base}/cam`);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /401 Unauthorized/);
  });

  it('serves ffprobe with rtsp://any:TOKEN@, asking at DESCRIBE and SETUP', async () => {
    const from = hook.requests.length;
    const result = await probe(`rtsp://any:TOKEN@${base.slice(7)}/cam`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString().trim(), 'h264,320,240');
    const reads = hook.requests.slice(from).filter((r) => r.action === 'read' && r.user === 'any');
    assert.ok(reads.length >= 2, 'DESCRIBE and SETUP were checked');
    for (const read of reads) {
      assert.deepEqual(withoutId(read), {
        ip: '127.0.0.1',
        user: 'any',
        password: 'TOKEN',
        token: 'TOKEN',
        action: 'read',
        path: 'cam',
        protocol: 'rtsp',
        query: '',
      });
    }
  });

  it('passes ?token= on the RTSP URL to the hook as the token', async () => {
    const from = hook.requests.length;
    const result = await probe(`${base}/cam?token=TOKEN`);
    assert.equal(result.code, 0, result.stderr);
    const reads = hook.requests.slice(from).filter((r) => r.action === 'read');
    assert.ok(reads.length >= 2, 'DESCRIBE and SETUP were checked');
    for (const read of reads) {
      assert.deepEqual(withoutId(read), {
        ip: '127.0.0.1',
        user: '',
        password: '',
        token: 'TOKEN',
        action: 'read',
        path: 'cam',
        protocol: 'rtsp',
        query: 'token=TOKEN',
      });
    }
  });

  it('challenges with Basic on the same connection, and closes after a wrong credential and the pause', async () => {
    const reader = await RawReader.connect(`${base}/cam`);
    const first = await reader.request('DESCRIBE', `${base}/cam`);
    assert.equal(first.status, 401);
    assert.equal(first.headers.get('www-authenticate'), 'Basic realm="ipcam"');
    const retried = await reader.request('DESCRIBE', `${base}/cam`, [
      ['Authorization', basic('any', 'TOKEN')],
    ]);
    assert.equal(retried.status, 200);
    reader.socket.destroy();

    const wrong = await RawReader.connect(`${base}/cam`);
    const closed = once(wrong, 'closed');
    const sentAt = performance.now();
    const refused = await wrong.request('DESCRIBE', `${base}/cam`, [
      ['Authorization', basic('any', 'nope')],
    ]);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), undefined);
    assert.ok(performance.now() - sentAt >= PAUSE_MS - 10, 'answered after the pause');
    await closed;
  });

  it('starts no runOnDemand command for a refused reader', async () => {
    const anonymous = await probe(`${base}/ondemand`);
    assert.match(anonymous.stderr, /401 Unauthorized/);
    const wrong = await probe(`rtsp://any:nope@${base.slice(7)}/ondemand`);
    assert.match(wrong.stderr, /401 Unauthorized/);
    await hook.next((r) => r.path === 'ondemand' && r.password === 'nope');
    assert.deepEqual(started, []);
    assert.equal(relay.paths.state('ondemand')?.stream, null);
  });

  it('answers 404 for an unknown path without asking the hook', async () => {
    const from = hook.requests.length;
    const reader = await RawReader.connect(`${base}/nothing`);
    assert.equal((await reader.request('DESCRIBE', `${base}/nothing`)).status, 404);
    reader.socket.destroy();
    assert.equal(hook.requests.length, from);
  });
});
