/**
 * Who gets a WebSocket connection and who keeps it: connections that never authenticate
 * are closed at the deadline, never crowd out clients with a credential, and a peer
 * flooding pings is dropped. Each drop is logged and counted by reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { dropCount } from '../helpers/outcomes.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { connectRaw } from '../helpers/raw-client.js';
import { waitForEvent, within } from '../helpers/wait.js';

/** An anonymous connection from a loopback address of its own (127.0.0.x). */
async function anonymous(t: TestApp, localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(t.wsUrl, { localAddress });
  await waitForEvent(ws, 'open');
  return ws;
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

describe('WebSocket admission', () => {
  it('closes a connection that does not authenticate within the deadline, not one that did', async () => {
    const t = await startApp({ server: { auth_timeout_seconds: 0.3 } });
    try {
      const idle = await anonymous(t, '127.0.0.1');
      const authenticated = await t.connect({ as: 'viewer' });
      const { code, reason } = await within(closed(idle), 3000, 'the deadline');
      assert.equal(code, 1008);
      assert.match(reason, /authentication timeout/);
      const record = await t.logs.waitFor((r) => r.reason === 'auth_timeout');
      assert.equal(record.msg, 'client closed');
      assert.equal(await dropCount(t.healthUrl, 'websocket', 'auth_timeout'), 1);
      assert.equal(await authenticated.ping(), 'pong', 'an authenticated client stays');
    } finally {
      await t.stop();
    }
  });

  it('lets an admin in while 5 addresses hold 20 anonymous connections each', async () => {
    // The defaults: 100 connections, 20 per address, 50 of them unauthenticated.
    const t = await startApp();
    const held: WebSocket[] = [];
    try {
      for (let host = 2; host <= 6; host += 1) {
        for (let i = 0; i < 20; i += 1) held.push(await anonymous(t, `127.0.0.${host}`));
      }
      const open = () => held.filter((ws) => ws.readyState === WebSocket.OPEN).length;
      // Closing is asynchronous: wait until the server's closes have arrived.
      const deadline = Date.now() + 5000;
      while (open() > 50 && Date.now() < deadline) {
        await Promise.race(held.filter((ws) => ws.readyState === WebSocket.OPEN).map(closed));
      }
      assert.equal(open(), 50, 'at most 50 unauthenticated connections are held');
      assert.equal(await dropCount(t.healthUrl, 'websocket', 'unauthenticated_evicted'), 50);
      const admin = await t.connect({ as: 'admin' });
      assert.equal(await admin.ping(), 'pong');
      // The oldest anonymous connection made room; the admin, authenticated, is never evicted.
      for (let host = 7; host <= 9; host += 1) {
        for (let i = 0; i < 20; i += 1) held.push(await anonymous(t, `127.0.0.${host}`));
      }
      assert.equal(await admin.ping(), 'pong');
    } finally {
      for (const ws of held) ws.terminate();
      await t.stop();
    }
  });

  it('refuses with 503 only when every connection is authenticated', async () => {
    const t = await startApp({ server: { max_connections: 3 } });
    try {
      await Promise.all([1, 2, 3].map(() => t.connect({ as: 'viewer' })));
      const ws = new WebSocket(t.wsUrl);
      const [, response] = await waitForEvent<[unknown, { statusCode: number }]>(
        ws,
        'unexpected-response',
      );
      assert.equal(response.statusCode, 503);
      assert.equal(await dropCount(t.healthUrl, 'websocket', 'connection_limit'), 1);
    } finally {
      await t.stop();
    }
  });

  it('drops a peer that floods pings', async () => {
    const t = await startApp();
    try {
      const raw = await connectRaw(t.wsUrl);
      raw.socket.resume(); // reads (and discards) the pongs, like any client
      const ping = (payload: Buffer) => {
        const mask = randomBytes(4);
        const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
        return Buffer.concat([Buffer.from([0x89, 0x80 | payload.length]), mask, masked]);
      };
      const gone = new Promise<void>((resolve) => raw.socket.once('close', () => resolve()));
      for (let i = 0; i < 200; i += 1) raw.socket.write(ping(Buffer.from('x')));
      await within(gone, 3000, 'the drop');
      const record = await t.logs.waitFor((r) => r.reason === 'ping_flood');
      assert.equal(record.msg, 'client dropped');
      assert.equal(await dropCount(t.healthUrl, 'websocket', 'ping_flood'), 1);
    } finally {
      await t.stop();
    }
  });
});
