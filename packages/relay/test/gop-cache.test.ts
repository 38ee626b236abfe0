/**
 * The GOP cache switch. With it (the default) a new reader is first sent the packets since
 * the last keyframe; without it the relay does what MediaMTX does for an RTSP reader
 * (gortsplib's ServerStream): the reader gets the packets written after it started
 * playing, from whichever comes next, and a path is ready when its publisher starts
 * recording, not at its first keyframe.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Relay, Stream, interleavedHeader, type StreamReader } from '../src/index.js';
import { RawReader } from './helpers/reader.js';

const SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\n' +
  'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';

/** An RTP packet with one H.264 NAL unit of `nal` type. */
function rtp(seq: number, nal: number, timestamp: number): Buffer {
  const packet = Buffer.alloc(40);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(timestamp, 4);
  packet[12] = nal;
  return packet;
}

/** SPS, PPS and IDR of a keyframe, then two P frames. */
const GOP: [seq: number, nal: number, timestamp: number][] = [
  [1, 7, 1000],
  [2, 8, 1000],
  [3, 5, 1000],
  [4, 1, 4000],
  [5, 1, 7000],
];

class Recorder implements StreamReader {
  readonly id = 'recorder';
  readonly seqs: number[] = [];
  deliver(_track: number, _rtcp: boolean, packet: Buffer): boolean {
    this.seqs.push(packet.readUInt16BE(2));
    return true;
  }
  close(): void {}
}

describe('Stream without the GOP cache', () => {
  it('replays nothing to a new reader, which gets the next packet whatever it is', () => {
    const stream = new Stream(SDP, { gopCache: false });
    for (const [seq, nal, ts] of GOP) stream.write(0, false, rtp(seq, nal, ts));
    const late = new Recorder();
    stream.addReader(late, { fastStart: true });
    assert.deepEqual(late.seqs, []);
    assert.equal(stream.gopBytes, 0);
    stream.write(0, false, rtp(6, 1, 10_000)); // a P frame, mid-GOP
    assert.deepEqual(late.seqs, [6]);
  });

  it('still tells when the first keyframe came, and when the publisher began', async () => {
    const stream = new Stream(SDP, { gopCache: false });
    let begun = false;
    void stream.begun.then(() => (begun = true));
    stream.write(0, false, rtp(1, 5, 1000));
    await stream.firstKeyframe;
    assert.equal(begun, false);
    stream.begin();
    await stream.begun;
  });

  it('with the cache (default), a new reader is sent the GOP first', () => {
    const stream = new Stream(SDP);
    for (const [seq, nal, ts] of GOP) stream.write(0, false, rtp(seq, nal, ts));
    const late = new Recorder();
    stream.addReader(late, { fastStart: true });
    assert.deepEqual(late.seqs, [1, 2, 3, 4, 5]);
  });
});

/** A publisher speaking RTSP by hand, so the packets and their order are exact. */
async function publisher(url: string) {
  const client = await RawReader.connect(url);
  const announce = await client.request(
    'ANNOUNCE',
    url,
    [['Content-Type', 'application/sdp']],
    Buffer.from(SDP),
  );
  assert.equal(announce.status, 200);
  const setup = await client.request('SETUP', `${url}/streamid=0`, [
    ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record'],
  ]);
  const session = (setup.headers.get('session') ?? '').split(';')[0] ?? '';
  return {
    client,
    record: () => client.request('RECORD', url, [['Session', session]]),
    send(seq: number, nal: number, ts: number) {
      const packet = rtp(seq, nal, ts);
      client.socket.write(Buffer.concat([interleavedHeader(0, packet.length), packet]));
    },
  };
}

/** Resolves with the sequence number of every packet `reader` gets until `count` arrived. */
function firstPackets(reader: RawReader, count: number): Promise<number[]> {
  const seqs: number[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${seqs.join(',')} only`)), 10_000);
    reader.on('packet', (packet) => {
      seqs.push(packet.readUInt16BE(2));
      if (seqs.length === count) {
        clearTimeout(timer);
        resolve(seqs);
      }
    });
  });
}

describe('a reader joining a running stream, over RTSP', () => {
  for (const gopCache of [true, false]) {
    it(`gopCache ${gopCache}: ${gopCache ? 'the cached GOP first' : 'only what comes after PLAY, from the next packet'}`, async () => {
      const relay = new Relay({ rtspPort: 0, apiPort: 0, gopCache, paths: [{ name: 'cam' }] });
      const { rtspPort } = await relay.start();
      const url = `rtsp://127.0.0.1:${rtspPort}/cam`;
      try {
        const pub = await publisher(url);
        const ready = once(relay.paths, 'ready', { signal: AbortSignal.timeout(10_000) });
        assert.equal((await pub.record()).status, 200);
        if (!gopCache) await ready; // as MediaMTX: ready at RECORD, before any packet
        // A first reader that has received the whole GOP proves the relay has handled it.
        const first = await RawReader.connect(url);
        const firstGot = firstPackets(first, GOP.length);
        await first.play(url);
        for (const [seq, nal, ts] of GOP) pub.send(seq, nal, ts);
        await ready;
        assert.deepEqual(await firstGot, [1, 2, 3, 4, 5]);
        const late = await RawReader.connect(url);
        const lateGot = firstPackets(late, gopCache ? 6 : 1);
        await late.play(url);
        pub.send(6, 1, 10_000);
        assert.deepEqual(await lateGot, gopCache ? [1, 2, 3, 4, 5, 6] : [6]);
        for (const socket of [first.socket, late.socket, pub.client.socket]) socket.destroy();
      } finally {
        await relay.stop();
      }
    });
  }
});
