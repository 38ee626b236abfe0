/** H.264 RTP payloads back to Annex B: by payload kind, and a real GOP that ffmpeg decodes. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { h264AnnexB, type StreamReader } from '../src/index.js';
import {
  publish,
  startRelay,
  stopProcess,
  waitForStream,
  type TestRelay,
} from './helpers/media.js';

/** An RTP packet (version 2, payload type 96) with this sequence number and payload. */
function rtp(sequence: number, payload: number[], marker = false): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | 96;
  header.writeUInt16BE(sequence & 0xffff, 2);
  return Buffer.concat([header, Buffer.from(payload)]);
}

const START = [0, 0, 0, 1];
const SPS = [0x67, 0x42, 0xc0, 0x1e];
const PPS = [0x68, 0xce, 0x3c, 0x80];

describe('h264AnnexB', () => {
  const cases: [string, Buffer[], Buffer[], number[]][] = [
    [
      'single NAL units, as they are',
      [rtp(1, [0x65, 1, 2]), rtp(2, [0x41, 3])],
      [],
      [...START, 0x65, 1, 2, ...START, 0x41, 3],
    ],
    [
      'a STAP-A split into its NAL units',
      [rtp(1, [0x18, 0, 4, ...SPS, 0, 4, ...PPS])],
      [],
      [...START, ...SPS, ...START, ...PPS],
    ],
    [
      'FU-A fragments joined, with the NAL header rebuilt',
      [rtp(1, [0x7c, 0x85, 1, 2]), rtp(2, [0x7c, 0x05, 3]), rtp(3, [0x7c, 0x45, 4], true)],
      [],
      [...START, 0x65, 1, 2, 3, 4],
    ],
    [
      'a fragment run whose start was lost: skipped',
      [rtp(1, [0x7c, 0x05, 3]), rtp(2, [0x7c, 0x45, 4]), rtp(3, [0x41, 9])],
      [],
      [...START, 0x41, 9],
    ],
    [
      'a fragment run broken by a lost packet: skipped',
      [rtp(1, [0x7c, 0x85, 1]), rtp(3, [0x7c, 0x45, 4]), rtp(4, [0x41, 9])],
      [],
      [...START, 0x41, 9],
    ],
    [
      'the SDP parameter sets in front when the packets have none',
      [rtp(1, [0x65, 7])],
      [Buffer.from(SPS), Buffer.from(PPS)],
      [...START, ...SPS, ...START, ...PPS, ...START, 0x65, 7],
    ],
    [
      'in-band parameter sets kept, the SDP ones not added twice',
      [rtp(1, [0x18, 0, 4, ...SPS, 0, 4, ...PPS]), rtp(2, [0x65, 7])],
      [Buffer.from(SPS), Buffer.from(PPS)],
      [...START, ...SPS, ...START, ...PPS, ...START, 0x65, 7],
    ],
    [
      'a truncated STAP-A and garbage: nothing',
      [rtp(1, [0x18, 0, 9, 1]), Buffer.from([1, 2])],
      [],
      [],
    ],
  ];
  for (const [name, packets, sets, expected] of cases) {
    it(name, () => assert.deepEqual([...h264AnnexB(packets, sets)], expected));
  }
});

describe('a real GOP from the relay, depacketized', () => {
  let relay: TestRelay;
  let publisher: ReturnType<typeof publish>;
  before(async () => {
    relay = await startRelay();
    publisher = publish(relay.url('cam'));
  });
  after(async () => {
    await stopProcess(publisher);
    await relay.stop();
  });

  it('decodes with ffmpeg to a 320x240 picture from the first byte', async () => {
    const stream = await waitForStream(relay.paths, 'cam');
    // The cached GOP, as a new reader would get it.
    const packets: Buffer[] = [];
    const collector: StreamReader = {
      id: 'collector',
      deliver: (track, rtcp, packet) => {
        if (track === 0 && !rtcp) packets.push(packet);
        return true;
      },
      close: () => undefined,
    };
    stream.addReader(collector, { fastStart: true });
    stream.removeReader(collector);
    assert.ok(packets.length > 0);
    const annexB = h264AnnexB(packets, stream.parameterSets(0));
    const child = spawn(
      'ffprobe',
      [
        ...['-v', 'error', '-f', 'h264', '-i', 'pipe:0', '-select_streams', 'v:0'],
        ...['-count_frames', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json'],
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end(annexB);
    await new Promise((resolve) => child.on('close', resolve));
    const [video] = (JSON.parse(out) as { streams: Record<string, unknown>[] }).streams;
    assert.equal(video?.width, 320);
    assert.equal(video?.height, 240);
    assert.ok(Number(video?.nb_read_frames) >= 1, 'at least the keyframe decodes');
  });
});
