import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CameraServiceClient, ConnectionError, RpcError } from '@camera-service/sdk';
import { WebSocket } from 'ws';
import { startApp, type TestApp } from '../helpers/app.js';
import { connectRaw } from '../helpers/raw-client.js';
import { waitForEvent, within } from '../helpers/wait.js';

describe('WebSocket transport', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ server: { max_connections: 100 } });
  });
  after(() => t.stop());

  it('answers JSON-RPC over a real WebSocket through the SDK', async () => {
    const client = await t.connect();
    assert.equal(await client.ping(), 'pong');
    const info = await client.getServerInfo();
    assert.equal(info.limits.max_connections, 100);
    assert.ok(info.methods.includes('get_metrics'));
  });

  it('surfaces a server error as an RpcError carrying its code, kind and data', async () => {
    const client = await t.connect();
    const error = await client.request('get_camera_list_typo').then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, -32601);
    assert.equal(error.kind, 'method_not_found');
    assert.deepEqual(error.data, { method: 'get_camera_list_typo' });
  });

  it('refuses an unknown path with 404', async () => {
    const client = new CameraServiceClient({ url: t.wsUrl.replace('/ws', '/nope') });
    await assert.rejects(
      client.connect(),
      (e: unknown) => e instanceof ConnectionError && /404/.test(e.message),
    );
  });

  it('broadcasts a notification once to every authenticated client', async () => {
    const a = await t.connect();
    const b = await t.connect();
    const got = [a, b].map(
      (c) =>
        new Promise<unknown>((resolve) =>
          c.once('notification', (method, params) => resolve({ method, params })),
        ),
    );
    const sent = t.app.ws.broadcast('camera_status_update', {
      device: '/dev/video0',
      status: 'CONNECTED',
    });
    assert.ok(sent >= 2);
    for (const p of got) {
      assert.deepEqual(await within(p, 2000, 'notification'), {
        method: 'camera_status_update',
        params: { device: '/dev/video0', status: 'CONNECTED' },
      });
    }
  });
});

describe('WebSocket limits', () => {
  it('closes a connection that sends an oversize message with 1009, and keeps serving others', async () => {
    const t = await startApp({ server: { max_message_bytes: 65536 } });
    try {
      const bystander = await t.connect();
      const sender = await t.connect();
      // Exactly at the limit is still a message: it gets a JSON-RPC answer.
      const envelope = '{"jsonrpc":"2.0","id":1,"method":"authenticate","params":{"pad":""}}';
      const atLimit = envelope.replace(
        '"pad":""',
        `"pad":"${'x'.repeat(65536 - envelope.length)}"`,
      );
      assert.equal(Buffer.byteLength(atLimit), 65536);
      const raw = await connectRaw(t.wsUrl);
      const replyText = new Promise<string>((resolve) =>
        raw.socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))),
      );
      raw.sendText(atLimit);
      assert.match(await within(replyText, 3000, 'reply'), /"code":-32602/);
      raw.socket.destroy();

      const dropped = waitForEvent(t.app.ws, 'drop');
      const error = await sender
        .request('ping', { pad: 'x'.repeat(70_000) })
        .catch((e: unknown) => e);
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.closeCode, 1009);
      assert.match(error.message, /larger than its limit/);
      assert.deepEqual(await dropped, ['message_too_large']);
      assert.equal(await bystander.ping(), 'pong');
    } finally {
      await t.stop();
    }
  });

  it('survives a 10 MB message without buffering it', async () => {
    const t = await startApp();
    try {
      const raw = await connectRaw(t.wsUrl);
      raw.socket.resume(); // reads (and discards) what the server sends, like any client
      const dropped = waitForEvent(t.app.ws, 'drop');
      const closed = waitForEvent(raw.socket, 'close', 5000);
      raw.sendText(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'ping',
          params: { pad: 'y'.repeat(10 * 1024 * 1024) },
        }),
      );
      assert.deepEqual(await dropped, ['message_too_large']);
      await closed;
      const client = await t.connect();
      assert.equal(await client.ping(), 'pong');
    } finally {
      await t.stop();
    }
  });

  it('refuses the 101st connection with a reason, and accepts again once one leaves', async () => {
    const t = await startApp({ server: { max_connections: 100, max_connections_per_ip: 200 } });
    try {
      const clients = await Promise.all(Array.from({ length: 100 }, () => t.connect()));
      assert.equal(t.app.ws.size, 100);
      const extra = new CameraServiceClient({ url: t.wsUrl });
      await assert.rejects(
        extra.connect(),
        (e: unknown) => e instanceof ConnectionError && /503/.test(e.message),
      );
      const closed = waitForEvent(t.app.ws, 'close');
      await clients[0]?.close();
      await closed;
      const again = await t.connect();
      assert.equal(await again.ping(), 'pong');
      const status = await fetch(`${t.healthUrl}/health/websocket`).then(
        (r) => r.json() as Promise<Record<string, unknown>>,
      );
      assert.equal(status.status, 'degraded');
    } finally {
      await t.stop();
    }
  });

  it('drops a client that stops reading, while other clients keep getting answers', async () => {
    const limit = 256 * 1024;
    const t = await startApp({ server: { max_send_buffer_bytes: limit, max_batch_requests: 50 } });
    try {
      const healthy = await t.connect();
      const slow = await connectRaw(t.wsUrl);
      slow.socket.pause(); // stops reading: the kernel buffers fill, then the server's
      const dropped = waitForEvent(t.app.ws, 'drop', 30_000);
      const batch = JSON.stringify(
        Array.from({ length: 50 }, (_, i) => ({
          jsonrpc: '2.0',
          id: i,
          method: 'get_server_info',
        })),
      );
      let stop = false;
      void dropped.then(() => (stop = true));
      // Each batch asks for ~30 KB of answers; send until the server gives up on the reader.
      for (let i = 0; i < 5000 && !stop; i += 1) {
        if (!slow.sendText(batch))
          await waitForEvent(slow.socket, 'drain', 5000).catch(() => undefined);
        if (i % 50 === 0) assert.equal(await healthy.ping(), 'pong');
      }
      assert.deepEqual(await dropped, ['slow_consumer']);
      const record = await t.logs.waitFor(
        (r) => r.msg === 'client dropped' && r.reason === 'slow_consumer',
      );
      assert.ok((record.buffered_bytes as number) > limit);
      assert.equal(await healthy.ping(), 'pong');
      assert.equal(t.app.ws.size, 1);
      slow.socket.destroy();
    } finally {
      await t.stop();
    }
  });

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const t = await startApp({ server: { keepalive_interval_seconds: 0.2 } });
    try {
      const dead = new WebSocket(t.wsUrl, { autoPong: false });
      const live = new WebSocket(t.wsUrl);
      await Promise.all([waitForEvent(dead, 'open'), waitForEvent(live, 'open')]);
      let livePings = 0;
      const threePings = new Promise<void>((resolve) =>
        live.on('ping', () => {
          livePings += 1;
          if (livePings === 3) resolve();
        }),
      );
      const [code] = await waitForEvent<[number]>(dead, 'close', 3000);
      assert.equal(code, 1006, 'terminated without a close frame');
      await within(threePings, 3000, 'three pings on the live connection');
      assert.equal(live.readyState, WebSocket.OPEN);
      assert.ok(t.logs.find((r) => r.msg === 'client dropped' && r.reason === 'keepalive_timeout'));
      live.close();
    } finally {
      await t.stop();
    }
  });
});
