/**
 * The SDP and Transport parsers: tables of what they read, and fuzzing (mutated and
 * random input never throws anything but the parser's own error, and what parses writes
 * back to the same description).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SdpError, fmtp, h264ParameterSets, parseSdp, rtpMap, writeSdp } from '../src/sdp.js';
import { parseTransport, pickInterleaved } from '../src/rtsp/transport.js';
import { Stream } from '../src/stream.js';

/** As ffmpeg's RTSP muxer announces a libx264 stream with an AAC track. */
const ANNOUNCED = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 59.27.100',
  'm=video 0 RTP/AVP 96',
  'b=AS:600',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHtkBQfsBEAAAAwAQAAADAUDxYuSA,aMuDyyA=; profile-level-id=42C01E',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'b=AS:128',
  'a=rtpmap:97 MPEG4-GENERIC/48000/2',
  'a=control:streamid=1',
  '',
].join('\r\n');

/** A seeded generator, so a failing input can be found again. */
function prng(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

describe('parseSdp', () => {
  it('reads sessions, media sections and their attributes in order', () => {
    const sdp = parseSdp(ANNOUNCED);
    assert.equal(sdp.session[0]?.[0], 'v');
    assert.deepEqual(
      sdp.media.map((m) => [m.type, m.protocol, m.formats]),
      [
        ['video', 'RTP/AVP', ['96']],
        ['audio', 'RTP/AVP', ['97']],
      ],
    );
    const video = sdp.media[0]!;
    assert.deepEqual(rtpMap(video), { payloadType: 96, encoding: 'H264', clockRate: 90000 });
    assert.equal(fmtp(video).get('packetization-mode'), '1');
    const [sps, pps] = h264ParameterSets(video);
    assert.equal((sps![0] as number) & 0x1f, 7, 'SPS');
    assert.equal((pps![0] as number) & 0x1f, 8, 'PPS');
  });

  it('writes back what it read', () => {
    const sdp = parseSdp(ANNOUNCED);
    assert.equal(writeSdp(sdp), ANNOUNCED);
    assert.deepEqual(parseSdp(writeSdp(sdp)), sdp);
  });

  for (const [name, text] of [
    ['no v= line', 's=x\r\nm=video 0 RTP/AVP 96\r\n'],
    ['a line without type=', 'v=0\r\nhello\r\n'],
    ['an m= line without its fields', 'v=0\r\nm=video\r\n'],
  ] as const) {
    it(`refuses ${name} with an SdpError`, () => {
      assert.throws(() => parseSdp(text), SdpError);
    });
  }

  it('never throws anything but SdpError on mutated and random input, and round-trips what it reads', () => {
    const rand = prng(7);
    const alphabet = 'vmatcsob=\r\n :/;,0123456789H264RTP/AVPrtpmapfmtp-\u0000\u00ff';
    for (let i = 0; i < 3000; i += 1) {
      let text: string;
      if (i % 3 === 0) {
        text = Array.from(
          { length: Math.floor(rand() * 200) },
          () => alphabet[Math.floor(rand() * alphabet.length)],
        ).join('');
      } else {
        const chars = [...ANNOUNCED];
        for (let k = 0; k < 1 + Math.floor(rand() * 10); k += 1) {
          chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 256));
        }
        text = chars.join('');
      }
      let sdp;
      try {
        sdp = parseSdp(text);
      } catch (error) {
        assert.ok(error instanceof SdpError, `${String(error)} for ${JSON.stringify(text)}`);
        continue;
      }
      assert.deepEqual(parseSdp(writeSdp(sdp)), sdp, JSON.stringify(text));
      // What a publisher could announce: the stream built on it must not throw either.
      for (const media of sdp.media) {
        rtpMap(media);
        fmtp(media);
        h264ParameterSets(media);
      }
      new Stream(text).describe();
    }
  });
});

describe('parseTransport', () => {
  it('reads the specs ffmpeg offers, UDP first, and picks TCP interleaved', () => {
    const specs = parseTransport(
      'RTP/AVP/UDP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=2-3',
    );
    assert.equal(specs.length, 2);
    assert.deepEqual(pickInterleaved(specs)?.interleaved, [2, 3]);
    assert.equal(
      pickInterleaved(parseTransport('RTP/AVP;unicast;client_port=5000-5001')),
      undefined,
    );
  });

  it('never throws on mutated and random headers', () => {
    const rand = prng(11);
    const base = 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record,RTP/AVP;client_port=1-2';
    for (let i = 0; i < 3000; i += 1) {
      const chars = [...base];
      for (let k = 0; k < 1 + Math.floor(rand() * 8); k += 1) {
        chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
      }
      const specs = parseTransport(chars.join(''));
      const picked = pickInterleaved(specs);
      if (picked?.interleaved) {
        for (const channel of picked.interleaved) {
          assert.ok(Number.isInteger(channel) && channel >= 0 && channel <= 255, chars.join(''));
        }
      }
    }
  });
});
