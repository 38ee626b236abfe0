/**
 * The decoder and helpers against what a real ffmpeg publisher sends: a minimal
 * responder accepts ANNOUNCE/SETUP/RECORD (refusing UDP with 461 first) and records
 * everything ffmpeg pushes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { it } from 'node:test';
import {
  RtspDecoder,
  encodeResponse,
  h264NalTypes,
  h264ParameterSets,
  parseRtpHeader,
  parseSdp,
  parseTransport,
  pickInterleaved,
  rtpMap,
  startsKeyframe,
  writeSdp,
  type InterleavedFrame,
  type RtspRequest,
} from '../src/index.js';

it('understands a real ffmpeg H.264 publisher end to end', { timeout: 30_000 }, async () => {
  const requests: RtspRequest[] = [];
  const frames: InterleavedFrame[] = [];
  const answers: number[] = [];
  const server = net.createServer((socket) => {
    const decoder = new RtspDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind === 'interleaved') {
          frames.push(item);
          continue;
        }
        if (item.kind !== 'request') continue;
        requests.push(item);
        const cseq: [string, string] = ['CSeq', item.headers.get('cseq') ?? '0'];
        let status = 200;
        const headers: [string, string][] = [cseq];
        if (item.method === 'OPTIONS')
          headers.push(['Public', 'OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN']);
        if (item.method === 'SETUP') {
          const spec = pickInterleaved(parseTransport(item.headers.get('transport') ?? ''));
          if (!spec) status = 461;
          else
            headers.push(
              ['Transport', `RTP/AVP/TCP;unicast;interleaved=${spec.interleaved?.join('-')}`],
              ['Session', '1234;timeout=60'],
            );
        }
        if (item.method === 'RECORD') headers.push(['Session', '1234']);
        answers.push(status);
        socket.write(encodeResponse(status, headers));
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  // No -rtsp_transport: ffmpeg asks for UDP first and must fall back to TCP on 461.
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=10',
      '-t',
      '2',
      '-c:v',
      'libx264',
      '-profile:v',
      'baseline',
      '-level',
      '3.0',
      '-pix_fmt',
      'yuv420p',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '10',
      '-f',
      'rtsp',
      `rtsp://127.0.0.1:${port}/cam`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(ffmpeg, 'exit')) as [number];
  server.close();
  assert.equal(code, 0, stderr);

  const methods = requests.map((r) => r.method);
  assert.deepEqual(methods.slice(0, 2), ['OPTIONS', 'ANNOUNCE']);
  assert.ok(methods.includes('RECORD'));
  assert.ok(answers.includes(461), 'UDP was asked for and refused');

  const announce = requests.find((r) => r.method === 'ANNOUNCE')!;
  assert.equal(announce.headers.get('content-type'), 'application/sdp');
  const sdp = parseSdp(announce.body.toString());
  assert.deepEqual(parseSdp(writeSdp(sdp)), sdp, 'SDP round trip');
  const video = sdp.media[0]!;
  assert.equal(video.type, 'video');
  assert.equal(rtpMap(video)?.encoding, 'H264');
  assert.equal(rtpMap(video)?.clockRate, 90000);
  const sets = h264ParameterSets(video);
  assert.deepEqual(
    sets.map((s) => (s[0] as number) & 0x1f),
    [7, 8],
    'SPS and PPS in sprop-parameter-sets',
  );
  assert.equal(sets[0]![1], 66, 'baseline profile in the SPS');
  assert.equal(sets[0]![3], 30, 'level 3.0 in the SPS');

  const setup = requests.filter((r) => r.method === 'SETUP').at(-1)!;
  const channel = pickInterleaved(parseTransport(setup.headers.get('transport')!))!.interleaved![0];
  const rtpFrames = frames.filter((f) => f.channel === channel);
  assert.ok(rtpFrames.length > 20, `only ${rtpFrames.length} RTP packets`);
  const headers = rtpFrames.map((f) => parseRtpHeader(f.payload)!);
  assert.ok(headers.every((h) => h.version === 2 && h.payloadType === rtpMap(video)!.payloadType));
  for (let i = 1; i < headers.length; i += 1) {
    assert.equal(headers[i]!.sequence, (headers[i - 1]!.sequence + 1) & 0xffff, 'no gaps over TCP');
  }
  const keyframes = rtpFrames.filter((f) => startsKeyframe(f.payload)).length;
  assert.ok(keyframes >= 2, `a GOP of 10 frames over 2 s has keyframes, saw ${keyframes}`);
  const first = h264NalTypes(rtpFrames[0]!.payload.subarray(headers[0]!.payloadOffset));
  assert.ok(
    first.includes(5) || first.includes(7) || first.includes(6),
    `the stream opens with ${first}`,
  );
});
