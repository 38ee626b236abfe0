/**
 * Streams through the API port against the real service and real ffmpeg: HLS proxied
 * with the cookie, with ?token= and refused without; WHEP absent on the embedded relay;
 * and the live fMP4 WebSocket: codec message, ftyp+moov init, moof+mdat fragments that
 * ffprobe decodes to 320x240, a later viewer starting at a keyframe, a viewer that does
 * not read bounded and dropped, and the producer gone after the last viewer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { MseStreams, firstSampleIsSync } from '../../src/dashboard/index.js';
import { createLogger } from '../../src/index.js';
import { LogSink } from '../helpers/log-sink.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { waitUntil } from './wait-until.js';
import { request, signIn } from './http.js';

const run = promisify(execFile);

interface Received {
  text: string | null;
  binaries: Buffer[];
  closeCode: number | null;
}

/** Collects what a live WebSocket sends until `count` binaries have come (or it closes). */
function watch(url: string, headers: Record<string, string>, count: number): Promise<Received> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const got: Received = { text: null, binaries: [], closeCode: null };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`only ${got.binaries.length} of ${count} messages in time`));
    }, 20_000);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) got.text ??= data.toString();
      else got.binaries.push(Buffer.from(data as Buffer));
      if (got.binaries.length >= count) {
        clearTimeout(timer);
        ws.close();
        resolve(got);
      }
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      got.closeCode = code;
      resolve(got);
    });
    ws.on('error', () => undefined);
  });
}

const boxType = (b: Buffer, at = 0) => b.toString('latin1', at + 4, at + 8);

describe('streams through the API port', () => {
  let t: TestApp;
  let port: number;
  let origin: string;
  let dir: string;
  before(async () => {
    t = await startApp({
      cameras: [{ id: 'cam', test_pattern: { size: '320x240', fps: 10, clock: false } }],
    });
    port = t.app.addresses.api.port;
    origin = `http://127.0.0.1:${port}`;
    dir = mkdtempSync(join(tmpdir(), 'mse-test-'));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proxies HLS with the cookie, with ?token=, and refuses it without', async () => {
    const { cookie } = await signIn(port, await t.token('viewer'));
    const playlist = await request(port, 'GET', '/streams/cam/index.m3u8', { headers: { cookie } });
    assert.equal(playlist.status, 200, playlist.text);
    assert.match(String(playlist.headers['content-type']), /mpegurl/i);
    const segment = playlist.text.split('\n').find((l) => l.trim() && !l.startsWith('#'));
    assert.ok(segment, playlist.text);
    const media = await request(port, 'GET', `/streams/cam/${segment}`, { headers: { cookie } });
    assert.equal(media.status, 200);
    assert.ok(media.body.length > 188 && media.body[0] === 0x47, 'an MPEG-TS segment');

    const token = await t.token('viewer');
    const withToken = await request(port, 'GET', `/streams/cam/index.m3u8?token=${token}`);
    assert.equal(withToken.status, 200);
    const uri = withToken.text.split('\n').find((l) => l.trim() && !l.startsWith('#'))!;
    assert.ok(uri.includes(`token=${token}`), 'the segment URIs carry the token');
    assert.equal((await request(port, 'GET', `/streams/cam/${uri}`)).status, 200);

    const none = await request(port, 'GET', '/streams/cam/index.m3u8');
    assert.equal(none.status, 401);
    assert.match(String(none.json().error), /sign in/);
    assert.equal((await request(port, 'GET', `/streams/cam/index.m3u8?token=bad`)).status, 401);
    assert.equal(
      (await request(port, 'GET', '/streams/nope/index.m3u8', { headers: { cookie } })).status,
      404,
    );
    const whep = await request(port, 'POST', '/streams/cam/whep', {
      headers: { cookie, origin, 'content-type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    assert.equal(whep.status, 404);
    assert.match(String(whep.json().error), /WebRTC is not offered/);
  });

  it('serves live fMP4 over the WebSocket: codec, ftyp+moov, then moof+mdat that decode to 320x240', async () => {
    const { cookie } = await signIn(port, await t.token('viewer'));
    const got = await watch(`ws://127.0.0.1:${port}/streams/cam/mse`, { cookie, origin }, 31);
    assert.ok(got.text);
    const init = JSON.parse(got.text) as { type: string; codec: string };
    assert.equal(init.type, 'init');
    assert.match(init.codec, /^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
    const [head, ...fragments] = got.binaries;
    assert.equal(boxType(head!), 'ftyp');
    assert.equal(boxType(head!, head!.readUInt32BE(0)), 'moov');
    for (const fragment of fragments) assert.equal(boxType(fragment), 'moof');
    assert.ok(firstSampleIsSync(fragments[0]!), 'the first fragment starts at a keyframe');
    const file = join(dir, 'live.mp4');
    writeFileSync(file, Buffer.concat(got.binaries));
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json', file],
    ]);
    const stream = (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams[0]!;
    assert.equal(stream.width, 320);
    assert.equal(stream.height, 240);
    assert.equal(Number(stream.nb_read_frames), 30);
  });

  it('starts a later viewer with the init segment and then a keyframe; one producer for both', async () => {
    const headers = { authorization: `Bearer ${await t.token('viewer')}` };
    const url = `ws://127.0.0.1:${port}/streams/cam/mse`;
    const first = watch(url, headers, 40);
    await waitUntil(() => (t.app.mse.producers().get('cam')?.fragments ?? 0) > 12, 15_000);
    const second = await watch(url, headers, 5);
    assert.equal(t.app.mse.producers().size, 1);
    assert.equal(t.app.mse.producers().get('cam')!.viewers, 2);
    assert.equal(boxType(second.binaries[0]!), 'ftyp');
    assert.ok(firstSampleIsSync(second.binaries[1]!), 'the later viewer starts at a keyframe');
    await first;
  });

  it('closes with 4401 without a credential and 4404 for an unknown path; 403 for a cookie from a foreign Origin', async () => {
    const none = await watch(`ws://127.0.0.1:${port}/streams/cam/mse`, {}, 1);
    assert.equal(none.closeCode, 4401);
    const token = await t.token('viewer');
    const unknown = await watch(`ws://127.0.0.1:${port}/streams/nope/mse?token=${token}`, {}, 1);
    assert.equal(unknown.closeCode, 4404);
    const { cookie } = await signIn(port, token);
    const foreign = new WebSocket(`ws://127.0.0.1:${port}/streams/cam/mse`, {
      headers: { cookie, origin: 'http://evil.example' },
    });
    foreign.on('error', () => undefined);
    const [, res] = (await once(foreign, 'unexpected-response')) as [
      unknown,
      { statusCode: number },
    ];
    assert.equal(res.statusCode, 403);
    foreign.terminate();
  });

  it('ends the stream when the session is signed out', async () => {
    const { cookie } = await signIn(port, await t.token('viewer'));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/streams/cam/mse`, {
      headers: { cookie, origin },
    });
    ws.on('error', () => undefined);
    await once(ws, 'message');
    const closed = once(ws, 'close');
    await request(port, 'DELETE', '/session', { headers: { cookie, origin } });
    const [code] = (await closed) as [number];
    assert.equal(code, 4401);
  });

  it('bounds a viewer that does not read, drops it, and stops the producer after the last viewer', async () => {
    const sink = new LogSink();
    const mse = new MseStreams({
      readerUrl: (path) => t.app.media.readerUrl(path),
      log: createLogger({
        level: 'warn',
        format: 'json',
        environment: 'development',
        destination: sink,
      }).logger,
      maxBufferedBytes: 32 * 1024,
      stuckMs: 1500,
      closeAfterMs: 300,
    });
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket) => mse.watch('cam', { socket, allowed: () => true }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port: livePort } = server.address() as AddressInfo;
    try {
      // A client that completes the handshake and then never reads a byte: the kernel's
      // socket buffers fill first (about a minute of this stream on loopback), then the
      // service's, which the bound stops.
      const stuck = net.connect(livePort, '127.0.0.1');
      await once(stuck, 'connect');
      stuck.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      stuck.pause();
      stuck.on('error', () => undefined);
      await waitUntil(() => mse.producers().get('cam')?.viewers === 1, 10_000, 'the viewer');
      const pid = mse.producers().get('cam')!.pid!;
      await waitUntil(() => (mse.producers().get('cam')?.viewers ?? 0) === 0, 120_000, 'the drop');
      await sink.waitFor((r) => r.msg === 'live viewer dropped: not reading');
      stuck.destroy();
      // Never more than the bound plus one fragment held for it.
      const peak = mse.producers().get('cam')?.peakBuffered ?? 0;
      assert.ok(
        peak <= 32 * 1024 + 256 * 1024,
        `held ${peak} bytes for a viewer that did not read`,
      );
      await waitUntil(() => mse.producers().size === 0, 10_000, 'the producer to stop');
      await waitUntil(() => !alive(pid), 5_000, 'ffmpeg to exit');
    } finally {
      await mse.close();
      wss.close();
      server.close();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
