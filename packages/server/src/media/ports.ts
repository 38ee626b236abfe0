/**
 * Free ports for a media server the service runs. MediaMTX has no "port 0": every port
 * it listens on is written into its configuration, so a configured 0 is replaced here by
 * a port nothing holds now. All the ports of one request are held at once while they are
 * chosen, so that no two of them are the same, then released for MediaMTX to take.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export type PortRequest =
  /** A TCP port (0: any free one). */
  | { kind: 'tcp'; host: string; port: number }
  /** A UDP port (0: any free one). */
  | { kind: 'udp'; host: string; port: number }
  /** Two UDP ports, an even one and the next (RTP and RTCP); `port` is the first. */
  | { kind: 'udp-pair'; host: string; port: number };

interface Held {
  port: number;
  release(): Promise<void>;
}

/** The ports asked for, each configured one as it is and each 0 a free one. */
export async function reservePorts(requests: PortRequest[]): Promise<number[]> {
  const held: Held[] = [];
  try {
    const ports: number[] = [];
    for (const request of requests) {
      if (request.port !== 0) {
        ports.push(request.port);
        continue;
      }
      if (request.kind === 'tcp') {
        const tcp = await holdTcp(bindHost(request.host), 0);
        held.push(tcp);
        ports.push(tcp.port);
      } else if (request.kind === 'udp') {
        const udp = await holdUdp(bindHost(request.host), 0);
        held.push(udp);
        ports.push(udp.port);
      } else {
        const pair = await holdUdpPair(bindHost(request.host));
        held.push(...pair);
        ports.push(pair[0]!.port);
      }
    }
    return ports;
  } finally {
    await Promise.all(held.map((h) => h.release()));
  }
}

/** The address to test a port on: where the media server will listen. */
function bindHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare === '' ? '0.0.0.0' : bare;
}

function holdTcp(host: string, port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        release: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

function holdUdp(host: string, port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind({ port, address: host, exclusive: true }, () => {
      resolve({
        port: socket.address().port,
        release: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}

/** An even free UDP port and the odd one after it, tried a few times. */
async function holdUdpPair(host: string): Promise<[Held, Held]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const probe = await holdUdp(host, 0);
    const even = probe.port % 2 === 0 ? probe.port : probe.port + 1;
    await probe.release();
    if (even + 1 > 65535) continue;
    const first = await holdUdp(host, even).catch(() => null);
    if (!first) continue;
    const second = await holdUdp(host, even + 1).catch(() => null);
    if (second) return [first, second];
    await first.release();
  }
  throw new Error(
    'could not find two free UDP ports in a row for RTP and RTCP: set mediamtx.rtp_port',
  );
}
