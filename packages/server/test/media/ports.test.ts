/** Free ports for a managed MediaMTX, which takes no port 0. */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, it } from 'node:test';
import { reservePorts } from '../../src/media/ports.js';

describe('reservePorts', () => {
  it('keeps configured ports, and picks distinct free ones for each 0, an even RTP pair too', async () => {
    const ports = await reservePorts([
      { kind: 'tcp', host: '127.0.0.1', port: 9997 },
      { kind: 'tcp', host: '127.0.0.1', port: 0 },
      { kind: 'tcp', host: '127.0.0.1', port: 0 },
      { kind: 'udp', host: '127.0.0.1', port: 0 },
      { kind: 'udp-pair', host: '127.0.0.1', port: 0 },
    ]);
    const [configured, tcp1, tcp2, udp, rtp] = ports as [number, number, number, number, number];
    assert.equal(configured, 9997);
    assert.notEqual(tcp1, tcp2);
    assert.equal(rtp % 2, 0, 'RTP on an even port');
    assert.ok(![udp].includes(rtp) && udp !== rtp + 1, 'the ICE port is not the RTP pair');
    // All released: each can be taken now.
    for (const port of [tcp1, tcp2]) {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      await new Promise((resolve) => server.close(resolve));
    }
    for (const port of [udp, rtp, rtp + 1]) {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });
});
