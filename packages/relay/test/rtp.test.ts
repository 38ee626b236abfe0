import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { h264NalTypes, parseRtpHeader, startsKeyframe } from '../src/index.js';

function packet(
  payload: number[],
  options: { csrc?: number; extensionWords?: number; padding?: number; marker?: boolean } = {},
): Buffer {
  const csrc = options.csrc ?? 0;
  const ext = options.extensionWords;
  const pad = options.padding ?? 0;
  const header = [
    0x80 | (ext !== undefined ? 0x10 : 0) | (pad ? 0x20 : 0) | csrc,
    (options.marker ? 0x80 : 0) | 96,
    0x12,
    0x34,
    0,
    0,
    0x0b,
    0xb8,
    0xde,
    0xad,
    0xbe,
    0xef,
  ];
  const csrcs = Array.from({ length: csrc * 4 }, () => 0);
  const extension =
    ext !== undefined ? [0xbe, 0xde, 0, ext, ...Array.from({ length: ext * 4 }, () => 0)] : [];
  const padding = pad ? [...Array.from({ length: pad - 1 }, () => 0), pad] : [];
  return Buffer.from([...header, ...csrcs, ...extension, ...payload, ...padding]);
}

describe('RTP and H.264 payloads', () => {
  it('reads the header fields', () => {
    const h = parseRtpHeader(packet([0x65], { marker: true }));
    assert.deepEqual(h, {
      version: 2,
      marker: true,
      payloadType: 96,
      sequence: 0x1234,
      timestamp: 3000,
      ssrc: 0xdeadbeef,
      payloadOffset: 12,
      payloadLength: 1,
    });
  });

  it('skips CSRCs, a header extension and padding', () => {
    const h = parseRtpHeader(packet([0x65, 1, 2], { csrc: 2, extensionWords: 1, padding: 3 }));
    assert.equal(h?.payloadOffset, 12 + 8 + 8);
    assert.equal(h?.payloadLength, 3);
  });

  it('refuses what is not RTP version 2 or too short', () => {
    assert.equal(parseRtpHeader(Buffer.from([0x40, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), null);
    assert.equal(parseRtpHeader(Buffer.alloc(5)), null);
  });

  const cases: [string, number[], number[], boolean][] = [
    ['a single IDR slice', [0x65, 0x88], [5], true],
    ['a single non-IDR slice', [0x41, 0x9a], [1], false],
    ['a STAP-A with SPS and PPS', [0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce], [7, 8], true],
    ['the first FU-A fragment of an IDR', [0x7c, 0x85, 0x88], [5], true],
    ['a middle FU-A fragment of an IDR', [0x7c, 0x05, 0x88], [], false],
    ['the first FU-A fragment of a non-IDR slice', [0x7c, 0x81, 0x9a], [1], false],
    ['a truncated STAP-A', [0x78, 0, 9, 0x67], [], false],
  ];
  for (const [name, payload, types, keyframe] of cases) {
    it(`sees ${name}`, () => {
      assert.deepEqual(h264NalTypes(Buffer.from(payload)), types);
      assert.equal(startsKeyframe(packet(payload)), keyframe);
    });
  }
});
