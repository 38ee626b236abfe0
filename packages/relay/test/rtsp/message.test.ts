import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  RtspDecoder,
  RtspParseError,
  encodeRequest,
  encodeResponse,
  interleavedHeader,
  type RtspItem,
} from '../../src/index.js';

const options = Buffer.from(
  'OPTIONS rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf60.16.100\r\n\r\n',
);
const sdp =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
const announce = encodeRequest(
  'ANNOUNCE',
  'rtsp://127.0.0.1:8554/cam',
  [
    ['CSeq', '2'],
    ['Content-Type', 'application/sdp'],
  ],
  Buffer.from(sdp),
);
const rtp = Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65, 0xaa, 0xbb]);
const frame = Buffer.concat([interleavedHeader(0, rtp.length), rtp]);
const stream = Buffer.concat([options, announce, frame, frame, options]);

function summary(items: RtspItem[]): string[] {
  return items.map((item) =>
    item.kind === 'interleaved'
      ? `$${item.channel}:${item.payload.toString('hex')}`
      : item.kind === 'request'
        ? `${item.method} ${item.uri} cseq=${item.headers.get('cseq')} body=${item.body.length}`
        : `${item.status} ${item.reason}`,
  );
}

describe('RTSP stream decoder', () => {
  it('decodes requests, bodies and interleaved frames from one stream', () => {
    const items = new RtspDecoder().push(stream);
    assert.deepEqual(summary(items), [
      'OPTIONS rtsp://127.0.0.1:8554/cam cseq=1 body=0',
      `ANNOUNCE rtsp://127.0.0.1:8554/cam cseq=2 body=${sdp.length}`,
      `$0:${rtp.toString('hex')}`,
      `$0:${rtp.toString('hex')}`,
      'OPTIONS rtsp://127.0.0.1:8554/cam cseq=1 body=0',
    ]);
    const first = items[0];
    assert.equal(first?.kind === 'request' && first.headers.get('user-agent'), 'Lavf60.16.100');
  });

  it('gives the same items however the stream is split, at every byte', () => {
    const whole = summary(new RtspDecoder().push(stream));
    for (let cut = 1; cut < stream.length; cut += 1) {
      const decoder = new RtspDecoder();
      const items = [
        ...decoder.push(stream.subarray(0, cut)),
        ...decoder.push(stream.subarray(cut)),
      ];
      assert.deepEqual(summary(items), whole, `cut at ${cut}`);
      assert.equal(decoder.pending, 0);
    }
  });

  it('gives the same items fed one byte at a time', () => {
    const decoder = new RtspDecoder();
    const items = [...stream].flatMap((byte) => decoder.push(Buffer.from([byte])));
    assert.deepEqual(summary(items), summary(new RtspDecoder().push(stream)));
  });

  it('hands interleaved payloads out as views of the received bytes, not copies', () => {
    const chunk = Buffer.concat([frame]);
    const [item] = new RtspDecoder().push(chunk);
    assert.ok(item?.kind === 'interleaved');
    assert.equal(item.payload.buffer, chunk.buffer);
  });

  it('decodes responses and round-trips what it encodes', () => {
    const encoded = encodeResponse(
      200,
      [
        ['CSeq', '3'],
        ['Session', '12345678;timeout=60'],
      ],
      Buffer.from('x'),
    );
    const [item] = new RtspDecoder().push(encoded);
    assert.ok(item?.kind === 'response');
    assert.equal(item.status, 200);
    assert.equal(item.reason, 'OK');
    assert.equal(item.headers.get('session'), '12345678;timeout=60');
    assert.equal(item.body.toString(), 'x');
  });

  it('refuses to write a header that would inject a line', () => {
    assert.throws(() => encodeResponse(200, [['CSeq', '1\r\nX-Evil: 1']]), /line break/);
  });

  const bad: [string, string | Buffer, number][] = [
    ['a request line with two parts', 'OPTIONS rtsp://x\r\nCSeq: 1\r\n\r\n', 400],
    ['a lower-case method', 'options rtsp://x RTSP/1.0\r\n\r\n', 400],
    ['an HTTP request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['RTSP 2.0', 'OPTIONS rtsp://x RTSP/2.0\r\nCSeq: 1\r\n\r\n', 505],
    ['a header line without a colon', 'OPTIONS rtsp://x RTSP/1.0\r\nCSeq 1\r\n\r\n', 400],
    ['a negative Content-Length', 'ANNOUNCE rtsp://x RTSP/1.0\r\nContent-Length: -1\r\n\r\n', 400],
    [
      'a huge Content-Length',
      'ANNOUNCE rtsp://x RTSP/1.0\r\nContent-Length: 99999999\r\n\r\n',
      413,
    ],
    [
      'a head with no end past the limit',
      `OPTIONS rtsp://x RTSP/1.0\r\nX: ${'a'.repeat(20_000)}`,
      431,
    ],
    ['a bad status line', 'RTSP/1.0 2OO OK\r\n\r\n', 400],
  ];
  for (const [name, input, status] of bad) {
    it(`answers ${status} to ${name}`, () => {
      assert.throws(
        () => new RtspDecoder().push(Buffer.from(input)),
        (e: unknown) => e instanceof RtspParseError && e.status === status,
      );
    });
  }

  it('never throws anything but RtspParseError on random and mutated input', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 3000; i += 1) {
      const input = Buffer.from(stream);
      for (let k = 0; k < 1 + Math.floor(rand() * 8); k += 1) {
        input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
      }
      const decoder = new RtspDecoder();
      try {
        for (let offset = 0; offset < input.length;) {
          const size = 1 + Math.floor(rand() * 64);
          decoder.push(input.subarray(offset, offset + size));
          offset += size;
        }
      } catch (error) {
        assert.ok(error instanceof RtspParseError, String(error));
      }
    }
  });
});
