/** The relay's HTTP listener (HLS, API): its connection cap and its write timeout. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createListener } from '../src/index.js';

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

describe('HTTP listener bounds', () => {
  it('closes a connection whose client takes nothing of a large answer within writeTimeout', async () => {
    const timeouts: string[] = [];
    let timedOut: () => void = () => undefined;
    const cut = new Promise<void>((resolve) => (timedOut = resolve));
    const server = createListener(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'video/mp2t' });
        res.end(Buffer.alloc(16 * 1024 * 1024));
      },
      {
        name: 'test',
        readTimeoutMs: 5000,
        writeTimeoutMs: 300,
        onTimeout: (_remote, reason) => {
          timeouts.push(reason);
          timedOut();
        },
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET /seg00001.ts HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.pause(); // never reads
      const started = Date.now();
      await cut;
      assert.deepEqual(timeouts, ['write_timeout']);
      assert.ok(Date.now() - started < 5000);
      socket.resume(); // now it reads, and finds the connection cut short
      await closed(socket);
      assert.ok(socket.bytesRead < 16 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('holds at most maxConnections, closing newer ones at once', async () => {
    const server = createListener(() => undefined, {
      name: 'test',
      readTimeoutMs: 5000,
      maxConnections: 2,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sockets = [1, 2, 3].map(() => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      return socket;
    });
    try {
      await closed(sockets[2]!);
      assert.equal(sockets[0]!.destroyed, false);
      assert.equal(sockets[1]!.destroyed, false);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});
