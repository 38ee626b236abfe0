/**
 * The ffmpeg command of a camera path: exact arguments per codec setting, shell quoting
 * that survives /bin/sh, and every option accepted by the real ffmpeg (the libx264
 * stream itself is checked with ffprobe in readiness.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/index.js';
import {
  publishArgs,
  publishCommand,
  shellQuote,
  type CodecConfig,
} from '../../src/media/command.js';

const codec = (overrides: Partial<CodecConfig> = {}): CodecConfig => ({
  ...defaultConfig().mediamtx.codec,
  ...overrides,
});
const v4l2 = {
  kind: 'v4l2' as const,
  device: '/dev/video0',
  inputFormat: 'mjpeg',
  size: '640x480',
  fps: 30,
};
const pattern = { kind: 'test_pattern' as const, size: '320x240', fps: 10, clock: false };
const QUIET = ['-hide_banner', '-loglevel', 'error', '-nostats', '-nostdin'];
const OUT = ['-f', 'rtsp', '-rtsp_transport', 'tcp'];

describe('publishArgs', () => {
  it('builds the SPEC command for a V4L2 camera with the default codec block', () => {
    assert.deepEqual(publishArgs({ source: v4l2, codec: codec() }), [
      ...QUIET,
      ...['-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', '640x480', '-framerate', '30'],
      ...['-i', '/dev/video0', '-an'],
      ...['-c:v', 'libx264', '-profile:v', 'baseline', '-level:v', '3.0', '-pix_fmt', 'yuv420p'],
      ...['-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-b:v', '600k'],
      ...OUT,
    ]);
  });

  it('takes profile, level, pixel format, bitrate, preset and GOP from the codec block', () => {
    const args = publishArgs({
      source: v4l2,
      codec: codec({
        video_profile: 'high',
        video_level: '4.1',
        pixel_format: 'yuv422p',
        bitrate: '2M',
        preset: 'veryfast',
        gop: 60,
      }),
    });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after('-profile:v'), 'high');
    assert.equal(after('-level:v'), '4.1');
    assert.equal(after('-pix_fmt'), 'yuv422p');
    assert.equal(after('-b:v'), '2M');
    assert.equal(after('-preset'), 'veryfast');
    assert.equal(after('-g'), '60');
  });

  it('leaves out what the device should choose when the capture mode does not say', () => {
    const args = publishArgs({ source: { kind: 'v4l2', device: '/dev/video2' }, codec: codec() });
    assert.deepEqual(args.slice(QUIET.length, QUIET.length + 4), [
      '-f',
      'v4l2',
      '-i',
      '/dev/video2',
    ]);
    assert.ok(!args.includes('-g'), 'no GOP without a known frame rate');
  });

  it('uses the SoC encoder h264_v4l2m2m with numeric profile and level', () => {
    const args = publishArgs({ source: v4l2, codec: codec({ encoder: 'h264_v4l2m2m' }) });
    assert.deepEqual(args.slice(args.indexOf('-an') + 1), [
      ...['-pix_fmt', 'yuv420p', '-c:v', 'h264_v4l2m2m', '-profile:v', '578', '-level:v', '30'],
      ...['-g', '30', '-b:v', '600k'],
      ...OUT,
    ]);
  });

  it('uses VA-API with the device before the input and an upload filter', () => {
    const args = publishArgs({
      source: v4l2,
      codec: codec({ encoder: 'h264_vaapi', video_profile: 'main', video_level: '3.1' }),
    });
    assert.deepEqual(args.slice(0, QUIET.length + 2), [
      ...QUIET,
      '-vaapi_device',
      '/dev/dri/renderD128',
    ]);
    assert.deepEqual(args.slice(args.indexOf('-an') + 1), [
      ...['-vf', 'format=nv12,hwupload', '-c:v', 'h264_vaapi', '-profile:v', 'main'],
      ...['-level:v', '31', '-g', '30', '-b:v', '600k'],
      ...OUT,
    ]);
    const baseline = publishArgs({ source: v4l2, codec: codec({ encoder: 'h264_vaapi' }) });
    assert.equal(baseline[baseline.indexOf('-profile:v') + 1], 'constrained_baseline');
  });

  it('paces a test pattern in real time, with a clock unless asked not to', () => {
    const plain = publishArgs({ source: pattern, codec: codec() });
    assert.deepEqual(plain.slice(QUIET.length, QUIET.length + 5), [
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=10',
    ]);
    const clocked = publishArgs({ source: { ...pattern, clock: true }, codec: codec() });
    assert.match(clocked[QUIET.length + 4] ?? '', /^testsrc2=size=320x240:rate=10,drawtext=/);
  });
});

describe('the options are ones the installed ffmpeg accepts', () => {
  // Hardware is absent here: the encoder fails to open, but only after every option was
  // parsed. An unknown option or value fails earlier, with a different message.
  for (const encoder of ['libx264', 'h264_v4l2m2m', 'h264_vaapi'] as const) {
    it(encoder, () => {
      let args = publishArgs({ source: { ...pattern, clock: true }, codec: codec({ encoder }) });
      args = args.slice(0, -OUT.length).filter((a) => a !== '-re');
      if (encoder === 'h264_vaapi') args.splice(args.indexOf('-vaapi_device'), 2);
      const run = spawnSync('ffmpeg', [...args, '-t', '0.3', '-f', 'null', '-'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.doesNotMatch(
        run.stderr,
        /Unrecognized option|Option not found|Invalid value|Error parsing|Unable to parse|No such filter/,
      );
      if (encoder === 'libx264') assert.equal(run.status, 0, run.stderr);
    });
  }
});

describe('publishCommand', () => {
  it('is one shell line publishing to the media server given port and path', () => {
    const line = publishCommand({
      source: v4l2,
      codec: codec(),
      stderrFile: '/var/lib/camera service/streams/camera0.log',
    });
    assert.match(line, /^ffmpeg -hide_banner /);
    assert.ok(
      line.endsWith(
        `"rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH" 2>>'/var/lib/camera service/streams/camera0.log'`,
      ),
    );
  });

  it('survives /bin/sh word for word, odd device names and the clock filter included', () => {
    const source = { kind: 'v4l2' as const, device: "/dev/v4l/by-id/usb-Cam's $HOME `x` \\ 1" };
    const words = ['ffmpeg', ...publishArgs({ source, codec: codec() })];
    const line = publishCommand({ source, codec: codec() });
    const printed = spawnSync('/bin/sh', ['-c', `printf '%s\\n' ${line.slice('ffmpeg'.length)}`], {
      encoding: 'utf8',
      env: { RTSP_PORT: '8554', MTX_PATH: 'camera0', PATH: process.env.PATH },
    });
    assert.deepEqual(printed.stdout.trimEnd().split('\n'), [
      ...words.slice(1),
      'rtsp://127.0.0.1:8554/camera0',
    ]);
    const clock = publishArgs({ source: { ...pattern, clock: true }, codec: codec() });
    const echoed = spawnSync(
      '/bin/sh',
      ['-c', `printf '%s\\n' ${clock.map(shellQuote).join(' ')}`],
      {
        encoding: 'utf8',
      },
    );
    assert.deepEqual(echoed.stdout.trimEnd().split('\n'), clock);
  });

  it('quotes only what needs it', () => {
    assert.equal(shellQuote('/dev/video0'), '/dev/video0');
    assert.equal(shellQuote('testsrc2=size=320x240:rate=10'), 'testsrc2=size=320x240:rate=10');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });
});
