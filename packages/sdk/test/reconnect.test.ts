/**
 * Reconnection's bounds, against a scripted peer that drops connections and refuses
 * credentials on demand: the backoff grows with jitter up to its ceiling, maxAttempts
 * gives up (and rejects the calls waiting), a waiting call times out, the queue is
 * bounded, and a credential refused on reconnect stops the retries.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  CameraServiceClient,
  ConnectionError,
  RpcError,
  TimeoutError,
  type ClientEvents,
} from '../src/node.js';

/** A peer answering authenticate (tokens in `accepted`) and ping; `drop()` closes every connection. */
async function peer(accepted: Set<string>) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as {
        id: number;
        method: string;
        params?: { auth_token?: string };
      };
      if (msg.method === 'authenticate') {
        const ok = accepted.has(msg.params?.auth_token ?? '');
        ws.send(
          JSON.stringify(
            ok
              ? { jsonrpc: '2.0', id: msg.id, result: { authenticated: true, expires_at: null } }
              : {
                  jsonrpc: '2.0',
                  id: msg.id,
                  error: {
                    code: -32001,
                    message: 'Authentication failed: invalid token.',
                    data: { reason: 'invalid_token' },
                  },
                },
          ),
        );
      } else if (msg.method === 'ping') {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: 'pong' }));
      }
    }),
  );
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    drop: () => {
      for (const ws of wss.clients) ws.terminate();
    },
    /** Stops listening, so reconnects fail. */
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

function next<E extends keyof ClientEvents>(
  client: CameraServiceClient,
  event: E,
  match: (...args: ClientEvents[E]) => boolean = () => true,
): Promise<ClientEvents[E]> {
  return new Promise((resolve) => {
    const off = client.on(event, (...args: ClientEvents[E]) => {
      if (!match(...args)) return;
      off();
      resolve(args);
    });
  });
}

describe('reconnect', () => {
  it('backs off with jitter up to the ceiling, gives up after maxAttempts and rejects the waiting calls', async () => {
    const p = await peer(new Set(['good']));
    const c = new CameraServiceClient({
      url: p.url,
      authToken: 'good',
      reconnect: {
        initialDelayMs: 20,
        maxDelayMs: 80,
        factor: 2,
        jitter: 0.5,
        maxAttempts: 5,
        keepAlive: true,
      },
    });
    await c.connect();
    const delays: number[] = [];
    c.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    const gaveUp = next(c, 'disconnected', (i) => !i.willReconnect);
    await p.stop();
    const waiting = c.ping().catch((e: unknown) => e);
    const [info] = await gaveUp;
    assert.match(info.reason, /5 attempts/);
    assert.equal(delays.length, 5);
    const ceilings = [20, 40, 80, 80, 80];
    delays.forEach((d, i) => {
      assert.ok(d <= ceilings[i]! && d >= ceilings[i]! / 2, `attempt ${i + 1}: ${d} ms`);
    });
    const error = await waiting;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(c.state, 'idle');
    await c.close();
  });

  it('a call waiting for the reconnect times out, and the queue is bounded', async () => {
    const p = await peer(new Set(['good']));
    const c = new CameraServiceClient({
      url: p.url,
      authToken: 'good',
      maxQueuedCalls: 2,
      reconnect: { initialDelayMs: 10_000, keepAlive: true },
    });
    await c.connect();
    const lost = next(c, 'disconnected');
    p.drop();
    await lost;
    const slow = c.ping({ timeoutMs: 50 }).catch((e: unknown) => e);
    const second = c.ping({ timeoutMs: 5000 }).catch((e: unknown) => e);
    const third = await c.ping().catch((e: unknown) => e);
    assert.ok(
      third instanceof ConnectionError && /already wait/.test(third.message),
      String(third),
    );
    const timedOut = await slow;
    assert.ok(timedOut instanceof TimeoutError, String(timedOut));
    assert.match(timedOut.message, /while the connection was being reopened/);
    await c.close();
    const closed = await second;
    assert.ok(closed instanceof ConnectionError && /was closed/.test(closed.message));
    await p.stop();
  });

  it('stops retrying when the credential is refused on reconnect', async () => {
    const accepted = new Set(['good']);
    const p = await peer(accepted);
    const c = new CameraServiceClient({
      url: p.url,
      authToken: 'good',
      reconnect: { initialDelayMs: 10, maxDelayMs: 20, keepAlive: true },
    });
    await c.connect();
    accepted.clear();
    const lost = next(c, 'disconnected');
    const gaveUp = next(c, 'disconnected', (i) => !i.willReconnect);
    p.drop();
    await lost;
    const waiting = c.ping({ timeoutMs: 5000 });
    await gaveUp;
    await assert.rejects(
      waiting,
      (e: unknown) => e instanceof RpcError && e.kind === 'authentication_failed',
    );
    assert.equal(c.state, 'idle');
    await c.close();
    await p.stop();
  });
});
