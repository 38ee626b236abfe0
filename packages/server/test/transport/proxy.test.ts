/**
 * Behind a reverse proxy: the forwarded headers are believed from `server.trusted_proxies`
 * only, and then decide the client's address (per-address caps, the login throttle,
 * audit lines) and the host and scheme of the stream URLs it is given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startApp, type TestApp } from '../helpers/app.js';
import { waitForEvent } from '../helpers/wait.js';

const TEST0 = [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }];

/** Opens a WebSocket with these headers; resolves with it, or with the HTTP status refusing it. */
async function open(t: TestApp, headers: Record<string, string>): Promise<WebSocket | number> {
  const ws = new WebSocket(t.wsUrl, { headers });
  return new Promise((resolve) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
}

let nextId = 1;
async function call(ws: WebSocket, method: string, params: unknown = {}): Promise<unknown> {
  const id = nextId++;
  ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  for (;;) {
    const [data] = await waitForEvent<[Buffer]>(ws, 'message');
    const reply = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
    if (reply.id === id) return reply.error ?? reply.result;
  }
}

describe('behind a reverse proxy', () => {
  it('takes address, host and scheme from a trusted proxy', async () => {
    const t = await startApp({
      server: { trusted_proxies: ['127.0.0.0/8'], max_connections_per_ip: 2 },
      cameras: TEST0,
    });
    const sockets: WebSocket[] = [];
    try {
      const from = (client: string) => ({ 'x-forwarded-for': `${client}, 127.0.0.1` });
      for (let i = 0; i < 2; i += 1)
        sockets.push((await open(t, from('203.0.113.7'))) as WebSocket);
      assert.equal(await open(t, from('203.0.113.7')), 429, 'the cap counts the real client');
      const other = await open(t, from('203.0.113.8'));
      assert.ok(other instanceof WebSocket, 'another client behind the same proxy gets in');
      sockets.push(other);

      await call(other, 'authenticate', { auth_token: 'wrong' });
      const failure = await t.logs.waitFor((r) => r.event === 'auth_failure');
      assert.equal(failure.remote, '203.0.113.8');
      // Downloads too: the throttle and the audit see the client behind the proxy.
      const port = new URL(t.wsUrl).port;
      const download = await fetch(`http://127.0.0.1:${port}/files/snapshots/x.jpg`, {
        headers: { authorization: 'Bearer wrong', 'x-forwarded-for': '203.0.113.9' },
      });
      assert.equal(download.status, 401);
      const httpFailure = await t.logs.waitFor(
        (r) => r.event === 'auth_failure' && r.remote === '203.0.113.9',
      );
      assert.match(String(httpFailure.via), /GET \/files\/snapshots/);

      const viewer = (await open(t, {
        ...from('198.51.100.4'),
        'x-forwarded-host': 'cams.example.com',
        'x-forwarded-proto': 'https',
      })) as WebSocket;
      sockets.push(viewer);
      await call(viewer, 'authenticate', { auth_token: await t.token('viewer') });
      const success = await t.logs.waitFor(
        (r) => r.event === 'auth_success' && r.remote === '198.51.100.4',
      );
      assert.equal(success.role, 'viewer');
      const { cameras } = (await call(viewer, 'get_camera_list')) as {
        cameras: { streams: { rtsp: string; hls: string } }[];
      };
      const { rtsp, hls } = t.app.media.ports;
      assert.equal(cameras[0]?.streams.rtsp, `rtsp://cams.example.com:${rtsp}/test0`);
      assert.equal(cameras[0]?.streams.hls, `https://cams.example.com:${hls}/test0/index.m3u8`);
    } finally {
      for (const ws of sockets) ws.terminate();
      await t.stop();
    }
  });

  it('ignores the forwarded headers from anyone else', async () => {
    const t = await startApp({
      server: { trusted_proxies: ['192.0.2.1'], max_connections_per_ip: 2 },
      cameras: TEST0,
    });
    const sockets: WebSocket[] = [];
    try {
      for (const client of ['203.0.113.1', '203.0.113.2']) {
        const headers = {
          'x-forwarded-for': client,
          'x-forwarded-host': 'evil.example',
          'x-forwarded-proto': 'https',
        };
        sockets.push((await open(t, headers)) as WebSocket);
      }
      assert.equal(
        await open(t, { 'x-forwarded-for': '203.0.113.3' }),
        429,
        'a client cannot pick the address its cap is kept under',
      );
      const [first] = sockets as [WebSocket];
      await call(first, 'authenticate', { auth_token: 'wrong' });
      const failure = await t.logs.waitFor((r) => r.event === 'auth_failure');
      assert.equal(failure.remote, '127.0.0.1');
      await call(first, 'authenticate', { auth_token: await t.token('viewer') });
      const spoofed = (await open(t, {})) as number;
      assert.equal(spoofed, 429);
      const { cameras } = (await call(first, 'get_camera_list')) as {
        cameras: { streams: { rtsp: string; hls: string } }[];
      };
      assert.match(cameras[0]?.streams.rtsp ?? '', /^rtsp:\/\/127\.0\.0\.1:/);
      assert.match(cameras[0]?.streams.hls ?? '', /^http:\/\/127\.0\.0\.1:/);
    } finally {
      for (const ws of sockets) ws.terminate();
      await t.stop();
    }
  });
});
