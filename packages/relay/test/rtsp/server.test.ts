import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parseRtpHeader, startsKeyframe } from '../../src/index.js';
import {
  publish,
  run,
  startRelay,
  stopProcess,
  waitForStream,
  type TestRelay,
} from '../helpers/media.js';
import { RawReader } from '../helpers/reader.js';
import { spawn, type ChildProcess } from 'node:child_process';

describe('RTSP relay with real ffmpeg', () => {
  let relay: TestRelay;
  let publisher: ChildProcess;
  before(async () => {
    relay = await startRelay();
    publisher = publish(relay.url('cam'), 60);
    await waitForStream(relay.paths, 'cam');
  });
  after(async () => {
    await stopProcess(publisher);
    await relay.stop();
  });

  it('serves what a publisher pushes: ffprobe reads back 320x240 constrained-baseline H.264 level 3.0', async () => {
    const { code, stdout, stderr } = await run('ffprobe', [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,profile,level',
      '-of',
      'json',
      relay.url('cam'),
    ]);
    assert.equal(code, 0, stderr);
    const [stream] = (JSON.parse(stdout.toString()) as { streams: Record<string, unknown>[] })
      .streams;
    assert.deepEqual(stream, {
      codec_name: 'h264',
      profile: 'Constrained Baseline',
      width: 320,
      height: 240,
      level: 30,
    });
  });

  it('serves a reader that asks for UDP first, after answering 461', async () => {
    const { code, stderr } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name',
      relay.url('cam'),
    ]);
    assert.equal(code, 0, stderr);
  });

  it('feeds 20 concurrent readers', async () => {
    const readers = Array.from({ length: 20 }, () =>
      run(
        'ffmpeg',
        [
          '-v',
          'error',
          '-rtsp_transport',
          'tcp',
          '-i',
          relay.url('cam'),
          '-c',
          'copy',
          '-frames:v',
          '15',
          '-f',
          'framecrc',
          'pipe:1',
        ],
        30_000,
      ),
    );
    const results = await Promise.all(readers);
    assert.deepEqual(
      results.map((r) => r.code),
      Array.from({ length: 20 }, () => 0),
      results.map((r) => r.stderr).join('\n'),
    );
    // Every reader got its 15 frames (framecrc: one line per frame, after '#' headers).
    assert.deepEqual(
      results.map(
        (r) =>
          r.stdout
            .toString()
            .split('\n')
            .filter((line) => /^0,/.test(line)).length,
      ),
      Array.from({ length: 20 }, () => 15),
    );
  });

  it('answers 461 to a SETUP that offers UDP only', async () => {
    const reader = await RawReader.connect(relay.url('cam'));
    const describe = await reader.request('DESCRIBE', relay.url('cam'));
    assert.equal(describe.status, 200);
    const setup = await reader.request('SETUP', `${relay.url('cam')}/trackID=0`, [
      ['Transport', 'RTP/AVP;unicast;client_port=5000-5001'],
    ]);
    assert.equal(setup.status, 461);
    reader.socket.destroy();
  });

  it('gives a reader joining mid-stream a keyframe first, within 200 ms', async () => {
    const reader = await RawReader.connect(relay.url('cam'));
    const first = once(reader, 'packet') as Promise<[Buffer, number]>;
    const sentAt = await reader.play(relay.url('cam'));
    const [packet, at] = await first;
    assert.ok(startsKeyframe(packet), 'the first packet starts a keyframe (the cached GOP)');
    assert.ok(at - sentAt < 200, `first packet after ${(at - sentAt).toFixed(1)} ms`);
    reader.socket.destroy();
  });

  it('gives a reader joining mid-stream what decodes to a 320x240 picture within 200 ms', async () => {
    const stream = await waitForStream(relay.paths, 'cam');
    const reader = await RawReader.connect(relay.url('cam'));
    const packets: Buffer[] = [];
    reader.on('packet', (packet) => packets.push(packet));
    const sentAt = await reader.play(relay.url('cam'));
    // Exactly what arrived in the first 200 ms after PLAY (the bound under test).
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, sentAt + 200 - performance.now())),
    );
    reader.socket.destroy();
    const received = packets.slice();
    assert.ok(received.length > 0, 'nothing arrived within 200 ms');
    // Depacketized (RFC 6184) behind the SDP's parameter sets, as a player would, and
    // handed to ffmpeg as a raw H.264 stream: at least one picture must decode.
    const file = join(mkdtempSync(join(tmpdir(), 'relay-')), 'first-200ms.h264');
    writeFileSync(file, annexB(stream.parameterSets(0), received));
    const probe = await run('ffprobe', [
      ...['-v', 'error', '-f', 'h264', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json', file],
    ]);
    assert.equal(probe.code, 0, probe.stderr);
    const info = JSON.parse(probe.stdout.toString()) as {
      streams: { width: number; height: number; nb_read_frames: string }[];
    };
    assert.equal(info.streams[0]?.width, 320);
    assert.equal(info.streams[0]?.height, 240);
    assert.ok(Number(info.streams[0]?.nb_read_frames) >= 1, 'no picture decoded');
  });

  it('gives ffmpeg a decodable 320x240 frame at once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'relay-')), 'frame.jpg');
    const started = performance.now();
    const grab = await run('ffmpeg', [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-analyzeduration',
      '0',
      '-probesize',
      '32',
      '-fflags',
      'nobuffer',
      '-i',
      relay.url('cam'),
      '-frames:v',
      '1',
      '-y',
      file,
    ]);
    const elapsed = performance.now() - started;
    assert.equal(grab.code, 0, grab.stderr);
    assert.ok(
      readFileSync(file)
        .subarray(0, 2)
        .equals(Buffer.from([0xff, 0xd8])),
      'a JPEG',
    );
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      file,
    ]);
    assert.equal(probe.stdout.toString().trim(), '320,240');
    // Process start-up included; without the GOP cache this waits for the next keyframe (up to 1 s here).
    assert.ok(elapsed < 3000, `took ${elapsed.toFixed(0)} ms`);
  });

  it('answers 404 for a path nobody publishes', async () => {
    const reader = await RawReader.connect(relay.url('nothing'));
    assert.equal((await reader.request('DESCRIBE', relay.url('nothing'))).status, 404);
    reader.socket.destroy();
  });

  it('answers malformed requests with 400, closes them, and stays up', async () => {
    for (const garbage of [
      'GARBAGE\r\n\r\n',
      'OPTIONS rtsp://x RTSP/1.0\r\nNo colon here\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    ]) {
      const { port } = new URL(relay.url('cam'));
      const socket = net.connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.write(garbage);
      await once(socket, 'close');
      assert.match(answer, /^RTSP\/1\.0 400 Bad Request\r\n/, garbage);
    }
    const reader = await RawReader.connect(relay.url('cam'));
    assert.equal((await reader.request('OPTIONS', relay.url('cam'))).status, 200);
    reader.socket.destroy();
  });
});

describe('RTSP relay fan-out under pressure', () => {
  it('drops a reader that stops reading, while another keeps receiving and the publisher is not slowed', async () => {
    const relay = await startRelay({ maxReaderBufferBytes: 256 * 1024 });
    const publisher = publish(relay.url('cam'), 60);
    try {
      const stream = await waitForStream(relay.paths, 'cam');
      const healthy = await RawReader.connect(relay.url('cam'));
      const slow = await RawReader.connect(relay.url('cam'));
      await healthy.play(relay.url('cam'));
      await slow.play(relay.url('cam'));
      slow.socket.pause(); // stops reading: kernel buffers fill, then the relay's
      const slowClosed = once(slow, 'closed');
      // Pump 16 MB of extra packets through the stream's fan-out, as a fast publisher would.
      const packet = Buffer.alloc(1400);
      packet[0] = 0x80;
      packet[1] = 96;
      packet[12] = 0x41;
      let dropped = false;
      void slowClosed.then(() => (dropped = true));
      for (let i = 0; i < 12_000 && stream.stats().readersDropped === 0; i += 1) {
        stream.write(0, false, packet);
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(stream.stats().readersDropped, 1);
      const healthyBefore = healthy.bytes;
      await once(healthy, 'packet');
      assert.ok(healthy.bytes > healthyBefore, 'the healthy reader still receives');
      slow.socket.resume(); // a paused socket only sees the close once it reads again
      await slowClosed;
      assert.ok(dropped);
      assert.equal(stream.readerCount, 1);
      healthy.socket.destroy();
    } finally {
      await stopProcess(publisher);
      await relay.stop();
    }
  });

  it('does not drop a new reader for the GOP burst it is sent on joining', async () => {
    const relay = await startRelay({ maxReaderBufferBytes: 64 * 1024 });
    try {
      // A stream fed by hand: one IDR, then 300 KB of the same GOP, far above the bound.
      const sdp =
        'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
        'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';
      const stream = relay.paths.publish('big', sdp);
      assert.ok(!('status' in stream));
      const packet = (nal: number, seq: number) => {
        const p = Buffer.alloc(1400);
        p[0] = 0x80;
        p[1] = 96;
        p.writeUInt16BE(seq, 2);
        p.writeUInt32BE(1000, 4);
        p[12] = nal;
        return p;
      };
      stream.write(0, false, packet(0x65, 0));
      for (let i = 1; i <= 220; i += 1) stream.write(0, false, packet(0x41, i));
      assert.ok(stream.gopBytes > 300_000);
      const reader = await RawReader.connect(relay.url('big'));
      await reader.play(relay.url('big'));
      while (reader.packets < 221) await once(reader, 'packet');
      assert.equal(stream.stats().readersDropped, 0);
      assert.equal(stream.readerCount, 1);
      reader.socket.destroy();
    } finally {
      await relay.stop();
    }
  });

  it('takes a publisher that asks for UDP first, after answering 461', async () => {
    const relay = await startRelay();
    const publisher = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi'],
        ...['-i', 'testsrc2=size=320x240:rate=10', '-t', '30', '-c:v', 'libx264'],
        ...['-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'rtsp'],
        relay.url('udpfirst'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      const stream = await waitForStream(relay.paths, 'udpfirst');
      assert.ok(stream.stats().packetsReceived > 0);
    } finally {
      await stopProcess(publisher);
      await relay.stop();
    }
  });

  it('closes every reader when the publisher disconnects, and forgets the path', async () => {
    const relay = await startRelay();
    const publisher = publish(relay.url('cam'), 60);
    try {
      await waitForStream(relay.paths, 'cam');
      const readers = await Promise.all([1, 2, 3].map(() => RawReader.connect(relay.url('cam'))));
      await Promise.all(readers.map((r) => r.play(relay.url('cam'))));
      const closed = Promise.all(readers.map((r) => once(r, 'closed')));
      const unpublished = once(relay.paths, 'unpublished');
      await stopProcess(publisher);
      await unpublished;
      await closed;
      assert.equal(relay.paths.streams.has('cam'), false);
    } finally {
      await stopProcess(publisher);
      await relay.stop();
    }
  });
});

/** H.264 RTP payloads (single NAL, STAP-A, FU-A) as an Annex B byte stream. */
function annexB(parameterSets: Buffer[], packets: Buffer[]): Buffer {
  const start = Buffer.from([0, 0, 0, 1]);
  const out: Buffer[] = parameterSets.flatMap((nal) => [start, nal]);
  for (const packet of packets) {
    const header = parseRtpHeader(packet);
    if (!header) continue;
    const payload = packet.subarray(
      header.payloadOffset,
      header.payloadOffset + header.payloadLength,
    );
    const type = (payload[0] ?? 0) & 0x1f;
    if (type >= 1 && type <= 23) {
      out.push(start, payload);
    } else if (type === 24) {
      for (let offset = 1; offset + 2 <= payload.length;) {
        const size = payload.readUInt16BE(offset);
        out.push(start, payload.subarray(offset + 2, offset + 2 + size));
        offset += 2 + size;
      }
    } else if (type === 28 && payload.length > 2) {
      const fu = payload[1] as number;
      if (fu & 0x80) {
        out.push(start, Buffer.from([((payload[0] as number) & 0xe0) | (fu & 0x1f)]));
      }
      out.push(payload.subarray(2));
    }
  }
  return Buffer.concat(out);
}
