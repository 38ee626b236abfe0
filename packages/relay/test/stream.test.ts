import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stream, type StreamReader } from '../src/stream.js';

const SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\n' +
  'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';

/** An RTP packet carrying one H.264 NAL unit of the given type. */
function rtp(nalType: number, timestamp: number, size = 100): Buffer {
  const packet = Buffer.alloc(size);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt32BE(timestamp, 4);
  packet[12] = nalType;
  return packet;
}

/** A reader that accepts packets while `accepting` is true, as RtspConnection.deliver does. */
class Reader implements StreamReader {
  readonly id: string;
  accepting = true;
  received = 0;
  constructor(id: string) {
    this.id = id;
  }
  deliver(): boolean {
    if (this.accepting) this.received += 1;
    return this.accepting;
  }
  close(): void {}
}

describe('Stream accounting', () => {
  it('counts packets and bytes in, and out only for packets a reader actually sent', () => {
    const stream = new Stream(SDP);
    const a = new Reader('a');
    const b = new Reader('b');
    stream.addReader(a, { fastStart: true });
    stream.addReader(b, { fastStart: true });
    stream.write(0, false, rtp(5, 1000));
    b.accepting = false; // not playing, or dropped as too slow
    stream.write(0, false, rtp(1, 4000));
    stream.write(0, true, Buffer.alloc(28));
    const stats = stream.stats();
    assert.equal(stats.packetsReceived, 3);
    assert.equal(stats.bytesReceived, 228);
    assert.equal(stats.packetsSent, 4);
    assert.equal(stats.bytesSent, 100 + 100 + 100 + 28);
    assert.equal(a.received, 3);
    assert.equal(b.received, 1);
  });

  it('replays the GOP since the last IDR to a new reader, and counts it as sent', () => {
    const stream = new Stream(SDP);
    stream.write(0, false, rtp(1, 1000)); // before any keyframe: not cached
    stream.write(0, false, rtp(5, 4000));
    stream.write(0, false, rtp(1, 7000));
    const late = new Reader('late');
    stream.addReader(late, { fastStart: true });
    assert.equal(late.received, 2);
    assert.equal(stream.stats().packetsSent, 2);
  });
});

/** What a reader was given, as NAL types and timestamps. */
class Recorder implements StreamReader {
  readonly id = 'recorder';
  readonly got: [number, number][] = [];
  deliver(_track: number, _rtcp: boolean, packet: Buffer): boolean {
    this.got.push([(packet[12] as number) & 0x1f, packet.readUInt32BE(4)]);
    return true;
  }
  close(): void {}
}

type Packets = readonly (readonly [nal: number, timestamp: number])[];

/** What a reader joining after `written` is sent first: NAL types and timestamps. */
function replayed(written: Packets, sdp = SDP): [number, number][] {
  const stream = new Stream(sdp);
  for (const [nal, ts] of written) stream.write(0, false, rtp(nal, ts));
  const late = new Recorder();
  stream.addReader(late, { fastStart: true });
  return late.got;
}

const WITH_SPROP = `${SDP}a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAHqtAoPyA,aM48gA==\r\n`;

describe('GOP cache and H.264 parameter sets', () => {
  const cases: [name: string, written: Packets, sent: Packets, sdp?: string][] = [
    [
      'starts the GOP at in-band SPS/PPS stamped with the IDR’s timestamp',
      [
        [7, 1000],
        [8, 1000],
        [5, 1000],
        [1, 4000],
        [7, 7000],
        [8, 7000],
        [5, 7000],
        [1, 10000],
      ],
      [
        [7, 7000],
        [8, 7000],
        [5, 7000],
        [1, 10000],
      ],
    ],
    [
      'keeps SPS/PPS stamped with another timestamp in front of the IDR they announce',
      [
        [7, 6000],
        [8, 6000],
        [5, 7000],
        [1, 10000],
      ],
      [
        [7, 6000],
        [8, 6000],
        [5, 7000],
        [1, 10000],
      ],
    ],
    [
      'puts parameter sets sent only once in front of every later GOP when the SDP has none',
      [
        [7, 1000],
        [8, 1000],
        [5, 1000],
        [1, 4000],
        [5, 7000],
        [1, 10000],
      ],
      [
        [7, 1000],
        [8, 1000],
        [5, 7000],
        [1, 10000],
      ],
    ],
    [
      'does not repeat them when the SDP announces them (sprop-parameter-sets)',
      [
        [7, 1000],
        [8, 1000],
        [5, 1000],
        [5, 7000],
      ],
      [[5, 7000]],
      WITH_SPROP,
    ],
  ];
  for (const [name, written, sent, sdp] of cases) {
    it(name, () => assert.deepEqual(replayed(written, sdp), sent));
  }
});

describe('readiness', () => {
  it('is ready at the first keyframe of an H.264 stream', async () => {
    const stream = new Stream(SDP);
    let ready = false;
    void stream.firstKeyframe.then(() => (ready = true));
    stream.write(0, false, rtp(1, 1000));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ready, false, 'not before a keyframe');
    stream.write(0, false, rtp(5, 4000));
    await stream.firstKeyframe;
  });

  it('is ready at the first packet of a stream without H.264', async () => {
    const stream = new Stream(
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
        'm=video 0 RTP/AVP 97\r\na=rtpmap:97 H265/90000\r\n',
    );
    stream.write(0, false, rtp(1, 1000));
    await stream.firstKeyframe;
  });
});
