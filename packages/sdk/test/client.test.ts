import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { CameraServiceClient, ConnectionError, RpcError, TimeoutError } from '../src/node.js';

/** A scripted JSON-RPC peer: each request is answered by `reply` (or not at all). */
function peer(
  reply: (msg: { id: number; method: string; params?: unknown }, ws: WebSocket) => unknown,
) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id: number; method: string; params?: unknown };
      const answer = reply(msg, ws);
      if (answer !== undefined) ws.send(JSON.stringify(answer));
    }),
  );
  return wss;
}

const url = (wss: WebSocketServer) => `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

describe('CameraServiceClient', () => {
  let wss: WebSocketServer;
  before(async () => {
    wss = peer((msg, ws) => {
      switch (msg.method) {
        case 'ping':
          return { jsonrpc: '2.0', id: msg.id, result: 'pong' };
        case 'echo':
          return { jsonrpc: '2.0', id: msg.id, result: msg.params };
        case 'fail':
          return {
            jsonrpc: '2.0',
            id: msg.id,
            error: { code: -1000, message: 'Camera x is not known.', data: { device: 'x' } },
          };
        case 'odd':
          return { jsonrpc: '2.0', id: msg.id, error: { code: -12345, message: 'new code' } };
        case 'notify_me':
          ws.send(
            JSON.stringify({
              jsonrpc: '2.0',
              method: 'camera_status_update',
              params: { device: 'd' },
            }),
          );
          return { jsonrpc: '2.0', id: msg.id, result: null };
        case 'slow':
          setTimeout(
            () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: 'late' })),
            300,
          );
          return undefined;
        case 'hang':
          return undefined;
        case 'die':
          ws.close(1011, 'boom');
          return undefined;
        default:
          return {
            jsonrpc: '2.0',
            id: msg.id,
            error: { code: -32601, message: 'Method not found.' },
          };
      }
    });
    await once(wss, 'listening');
  });
  after(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  async function client(options: { requestTimeoutMs?: number; reconnect?: boolean } = {}) {
    const c = new CameraServiceClient({ url: url(wss), ...options });
    await c.connect();
    return c;
  }

  it('matches replies to calls, including params', async () => {
    const c = await client();
    const [a, b] = await Promise.all([c.ping(), c.request('echo', { x: 1 })]);
    assert.equal(a, 'pong');
    assert.deepEqual(b, { x: 1 });
    await c.close();
  });

  it('raises an RpcError carrying code, kind, data and the method', async () => {
    const c = await client();
    const error = await c.request('fail').catch((e: unknown) => e);
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, -1000);
    assert.equal(error.kind, 'camera_not_found');
    assert.deepEqual(error.data, { device: 'x' });
    assert.equal(error.method, 'fail');
    assert.equal(error.message, 'Camera x is not known.');
    const odd = await c.request('odd').catch((e: unknown) => e);
    assert.ok(odd instanceof RpcError && odd.kind === 'unknown' && odd.code === -12345);
    await c.close();
  });

  it('times out a call, and ignores its late reply', async () => {
    const c = await client();
    const error = await c.request('slow', undefined, { timeoutMs: 50 }).catch((e: unknown) => e);
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.timeoutMs, 50);
    assert.equal(await c.ping(), 'pong');
    await c.close();
  });

  it('emits notifications by name and generically', async () => {
    const c = await client();
    const named = new Promise((resolve) =>
      c.once('notification', (method, params) => resolve([method, params])),
    );
    await c.request('notify_me');
    assert.deepEqual(await named, ['camera_status_update', { device: 'd' }]);
    await c.close();
  });

  it('rejects every pending call when the server closes, with the close code', async () => {
    const c = await client({ reconnect: false });
    const pending = c.request('hang');
    const closed = new Promise((resolve) => c.once('close', (code) => resolve(code)));
    void c.request('die').catch(() => undefined);
    const error = await pending.catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.closeCode, 1011);
    assert.equal(await closed, 1011);
    assert.equal(c.connected, false);
    await assert.rejects(c.ping(), ConnectionError);
  });

  it('says why it cannot connect', async () => {
    const dead = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(dead, 'listening');
    const deadUrl = url(dead);
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const c = new CameraServiceClient({ url: deadUrl });
    const error = await c.connect().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError);
    assert.match(error.message, /Cannot connect to ws:\/\/127\.0\.0\.1:\d+/);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('refuses calls before connecting', async () => {
    const c = new CameraServiceClient({ url: url(wss) });
    await assert.rejects(c.ping(), /not connected/);
    assert.throws(() => c.notify('ping'), ConnectionError);
  });
});
