/** The RTSP listener's bounds: connection cap, read and write timeouts, pipelined floods. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  OpenPaths,
  Relay,
  RtspServer,
  type DropEvent,
  type RtspServerOptions,
} from '../../src/index.js';
import { RawReader } from '../helpers/reader.js';

const SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';

interface Harness {
  paths: OpenPaths;
  server: RtspServer;
  drops: DropEvent[];
  logs: { message: string; fields: Record<string, unknown> }[];
  url: (path: string) => string;
  /** Resolves with the next drop event. */
  dropped(): Promise<DropEvent>;
}

let current: Harness | null = null;
afterEach(async () => {
  await current?.server.stop();
  current = null;
});

async function start(options: Partial<RtspServerOptions> = {}): Promise<Harness> {
  const paths = new OpenPaths();
  const drops: DropEvent[] = [];
  const logs: Harness['logs'] = [];
  const waiting: ((event: DropEvent) => void)[] = [];
  const server = new RtspServer({
    host: '127.0.0.1',
    port: 0,
    paths,
    onDrop: (event) => {
      drops.push(event);
      waiting.shift()?.(event);
    },
    log: (_level, fields, message) => logs.push({ message, fields }),
    ...options,
  });
  const { port } = await server.start();
  current = {
    paths,
    server,
    drops,
    logs,
    url: (path) => `rtsp://127.0.0.1:${port}/${path}`,
    dropped: () => new Promise((resolve) => waiting.push(resolve)),
  };
  return current;
}

/** A raw connection that never reads; resolves when the peer closes it. */
function closedPromise(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.on('close', () => resolve()));
}

/**
 * Writes RTP packets into the stream until the relay reports a drop; resolves with it.
 * `perTick` packets go out per turn of the event loop, paced by a timer when `paced`, so
 * that a loaded machine's late timers do not let the flood outrun a timeout under test.
 */
async function floodUntilDropped(
  relay: { dropped(): Promise<unknown> },
  stream: { write(track: number, rtcp: boolean, packet: Buffer): void },
  options: { perTick?: number; paced?: boolean } = {},
): Promise<unknown> {
  const dropped = relay.dropped();
  let done = false;
  void dropped.then(() => (done = true));
  const packet = Buffer.alloc(1400);
  packet[0] = 0x80;
  packet[1] = 96;
  packet[12] = 0x41;
  while (!done) {
    for (let i = 0; i < (options.perTick ?? 50); i += 1) stream.write(0, false, packet);
    await new Promise((resolve) =>
      options.paced ? setTimeout(resolve, 1) : setImmediate(resolve),
    );
  }
  return dropped;
}

describe('RTSP connection limit', () => {
  it('closes a new connection at once past maxConnections, and accepts again once one leaves', async () => {
    const relay = await start({ maxConnections: 3 });
    const held = await Promise.all([1, 2, 3].map(() => RawReader.connect(relay.url('x'))));
    for (const reader of held)
      assert.equal((await reader.request('OPTIONS', relay.url('x'))).status, 200);
    const dropped = relay.dropped();
    const extra = net.connect(Number(new URL(relay.url('x')).port), '127.0.0.1');
    extra.on('error', () => undefined);
    let received = 0;
    extra.on('data', (d: Buffer) => (received += d.length));
    await closedPromise(extra);
    assert.equal(received, 0, 'closed without an answer');
    assert.deepEqual(await dropped, {
      listener: 'rtsp',
      reason: 'connection_limit',
      remote: '127.0.0.1',
    });
    // TEARDOWN frees the slot before its answer is read.
    assert.equal((await held[0]!.request('TEARDOWN', relay.url('x'))).status, 200);
    const again = await RawReader.connect(relay.url('x'));
    assert.equal((await again.request('OPTIONS', relay.url('x'))).status, 200);
    assert.equal(relay.drops.length, 1);
    for (const reader of [...held, again]) reader.socket.destroy();
  });
});

describe('RTSP read timeout', () => {
  it('closes a connection that sends nothing within readTimeout', async () => {
    const relay = await start({ readTimeoutMs: 200 });
    const dropped = relay.dropped();
    const opened = performance.now();
    const idle = await RawReader.connect(relay.url('x'));
    await once(idle, 'closed');
    const elapsed = performance.now() - opened;
    assert.ok(elapsed >= 190 && elapsed < 2000, `closed after ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(await dropped, {
      listener: 'rtsp',
      reason: 'read_timeout',
      remote: '127.0.0.1',
    });
  });

  it('closes a publisher that stops sending, and reports its path', async () => {
    const relay = await start({ readTimeoutMs: 200 });
    const publisher = await RawReader.connect(relay.url('cam'));
    const sdp = Buffer.from(SDP);
    const announced = await publisher.request(
      'ANNOUNCE',
      relay.url('cam'),
      [['Content-Type', 'application/sdp']],
      sdp,
    );
    assert.equal(announced.status, 200);
    const setup = await publisher.request('SETUP', `${relay.url('cam')}/streamid=0`, [
      ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record'],
    ]);
    assert.equal(setup.status, 200);
    const dropped = relay.dropped();
    assert.equal((await publisher.request('RECORD', relay.url('cam'))).status, 200);
    assert.deepEqual(await dropped, {
      listener: 'rtsp',
      reason: 'read_timeout',
      remote: '127.0.0.1',
      path: 'cam',
    });
    assert.equal(relay.paths.streams.has('cam'), false, 'the publisher was removed');
  });

  it('keeps a TCP reader that plays and sends nothing for many timeouts', async () => {
    const relay = await start({ readTimeoutMs: 100 });
    const stream = relay.paths.publish('cam', SDP);
    assert.ok(!('status' in stream));
    const reader = await RawReader.connect(relay.url('cam'));
    await reader.play(relay.url('cam'));
    // Six timeouts of media, and not one byte from the reader.
    const packet = Buffer.alloc(200);
    packet[0] = 0x80;
    packet[1] = 96;
    packet[12] = 0x41;
    const until = performance.now() + 600;
    while (performance.now() < until) {
      stream.write(0, false, packet);
      await once(reader, 'packet');
    }
    assert.equal(reader.socket.destroyed, false);
    assert.deepEqual(relay.drops, []);
    reader.socket.destroy();
  });
});

describe('RTSP write timeout and pipelining', () => {
  it('closes a reader whose output makes no progress within writeTimeout', async () => {
    const relay = await start({ writeTimeoutMs: 300, maxReaderBufferBytes: 256 * 1024 * 1024 });
    const stream = relay.paths.publish('cam', SDP);
    assert.ok(!('status' in stream));
    const reader = await RawReader.connect(relay.url('cam'));
    await reader.play(relay.url('cam'));
    reader.socket.pause(); // stops reading: kernel buffers fill, then the relay's
    // Paced (about 7 MB/s): the 256 MiB bound stays far away whatever the timers' lag.
    assert.deepEqual(await floodUntilDropped(relay, stream, { perTick: 5, paced: true }), {
      listener: 'rtsp',
      reason: 'write_timeout',
      remote: '127.0.0.1',
      path: 'cam',
    });
    assert.equal(stream.readerCount, 0);
  });

  it('reports the slow-reader drop with its path', async () => {
    const relay = await start({ maxReaderBufferBytes: 64 * 1024 });
    const stream = relay.paths.publish('cam', SDP);
    assert.ok(!('status' in stream));
    const reader = await RawReader.connect(relay.url('cam'));
    await reader.play(relay.url('cam'));
    reader.socket.pause();
    assert.deepEqual(await floodUntilDropped(relay, stream), {
      listener: 'rtsp',
      reason: 'slow_reader',
      remote: '127.0.0.1',
      path: 'cam',
    });
    assert.equal(stream.stats().readersDropped, 1);
  });

  it('stops reading a client that pipelines 60 MB of OPTIONS and never reads, then closes it', async () => {
    const relay = await start({ writeTimeoutMs: 400 });
    const rssBefore = process.memoryUsage().rss;
    const dropped = relay.dropped();
    const client = net.connect(Number(new URL(relay.url('x')).port), '127.0.0.1');
    client.on('error', () => undefined);
    await once(client, 'connect');
    const closed = closedPromise(client);
    let open = true;
    void closed.then(() => (open = false));
    const one = Buffer.from('OPTIONS rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    const chunk = Buffer.concat(Array.from({ length: Math.floor(65536 / one.length) }, () => one));
    let offered = 0;
    let peakRss = 0;
    while (open && offered < 60e6) {
      offered += chunk.length;
      if (!client.write(chunk)) {
        await Promise.race([new Promise((resolve) => client.once('drain', resolve)), closed]);
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss - rssBefore);
    }
    await closed;
    const drop = await dropped;
    assert.equal(drop.reason, 'write_timeout');
    const read = relay.logs.find((l) => l.fields.reason === 'write_timeout')?.fields;
    const bytesRead = Number(read?.bytes_read);
    const unsent = Number(read?.unsent_bytes);
    // The relay took a few MB at most (what the kernel buffers let through), not 60.
    assert.ok(offered < 60e6, `the client could offer all ${offered} bytes`);
    assert.ok(bytesRead < 8e6, `the relay read ${bytesRead} bytes`);
    assert.ok(unsent < 256 * 1024, `${unsent} bytes were waiting to be sent`);
    assert.ok(peakRss < 100e6, `RSS grew by ${(peakRss / 1e6).toFixed(0)} MB`);
    console.log(
      `pipelining: the relay read ${(bytesRead / 1e6).toFixed(2)} MB of ${(offered / 1e6).toFixed(1)} MB offered, ` +
        `${unsent} bytes unsent at close, RSS +${(peakRss / 1e6).toFixed(1)} MB`,
    );
  });

  it('answers pipelined requests in order and keeps serving a client that reads', async () => {
    const relay = await start();
    const client = net.connect(Number(new URL(relay.url('x')).port), '127.0.0.1');
    await once(client, 'connect');
    const count = 500;
    let text = '';
    for (let i = 1; i <= count; i += 1)
      text += `OPTIONS ${relay.url('x')} RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;
    let answers = '';
    const all = new Promise<void>((resolve) =>
      client.on('data', (d: Buffer) => {
        answers += d.toString();
        if ((answers.match(/\r\n\r\n/g) ?? []).length >= count) resolve();
      }),
    );
    client.write(text);
    await all;
    const cseqs = [...answers.matchAll(/CSeq: (\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      cseqs,
      Array.from({ length: count }, (_, i) => i + 1),
    );
    client.destroy();
  });
});

describe('Relay drop reporting', () => {
  it('passes RTSP and HLS drops to onDrop and to log, by reason', async () => {
    const drops: DropEvent[] = [];
    const messages: string[] = [];
    let notify: (() => void) | undefined;
    const relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      hlsPort: 0,
      maxConnections: 1,
      readTimeoutMs: 300,
      onDrop: (event) => {
        drops.push(event);
        notify?.();
      },
      log: (_level, _fields, message) => messages.push(message),
    });
    const ports = await relay.start();
    const next = () => new Promise<void>((resolve) => (notify = resolve));
    try {
      const first = await RawReader.connect(`rtsp://127.0.0.1:${ports.rtspPort}/x`);
      assert.equal((await first.request('OPTIONS', 'rtsp://127.0.0.1/x')).status, 200);
      let dropped = next();
      const second = net.connect(ports.rtspPort, '127.0.0.1');
      second.on('error', () => undefined);
      await dropped;
      first.socket.destroy();
      // An HLS request whose head never ends gets 408 at the read timeout.
      dropped = next();
      const slow = net.connect(ports.hlsPort as number, '127.0.0.1');
      let answer = '';
      slow.on('data', (d: Buffer) => (answer += d.toString()));
      slow.write('GET /cam/index.m3u8 HTTP/1.1\r\nHost: x\r\n');
      await dropped;
      await closedPromise(slow);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      // (The first RTSP connection may also have reached its own read timeout by now.)
      const others = drops.filter((d) => d.listener !== 'rtsp' || d.reason !== 'read_timeout');
      assert.deepEqual(others, [
        { listener: 'rtsp', reason: 'connection_limit', remote: '127.0.0.1' },
        { listener: 'hls', reason: 'read_timeout', remote: '127.0.0.1' },
      ]);
      assert.ok(messages.includes('closing new RTSP connections: the connection limit is reached'));
    } finally {
      await relay.stop();
    }
  });
});
