/**
 * The ffmpeg command of a camera path: exact arguments per codec setting, quoting that
 * gives the same argv to MediaMTX (no shell) and to /bin/sh, the launcher that keeps
 * ffmpeg's errors, and every option accepted by the real ffmpeg (the libx264 stream
 * itself is checked with ffprobe in readiness.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/index.js';
import {
  STREAM_LAUNCHER,
  StreamCommandError,
  publishArgs,
  publishCommand,
  publishWords,
  shellQuote,
  type CodecConfig,
} from '../../src/media/command.js';
import { tempDir } from '../helpers/files.js';
import { within } from '../helpers/wait.js';
import { commandArgv } from '@camera-service/relay';

/**
 * The argv MediaMTX runs for a command line: the relay's splitter (go-shellquote, then
 * Go's os.Expand per word), which its own tests hold to MediaMTX's rules.
 */
const mediamtxArgv = (
  line: string,
  vars: Record<string, string>,
  env: Record<string, string | undefined> = process.env,
) => commandArgv(line, vars, { environment: env });

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
  const vars = { MTX_PATH: 'camera0', RTSP_PORT: '8554' };
  const publisher = { user: 'camera-service-publisher', password: 'Zm9v-YmFy_MTIz' };

  it('starts ffmpeg through the launcher, which appends its stderr to the stream log', () => {
    const stderrFile = '/var/lib/camera service/streams/camera0.log';
    const line = publishCommand({ source: v4l2, codec: codec(), stderrFile, publisher });
    assert.deepEqual(mediamtxArgv(line, vars, {}), [
      STREAM_LAUNCHER,
      stderrFile,
      'ffmpeg',
      ...publishArgs({ source: v4l2, codec: codec() }),
      'rtsp://camera-service-publisher:Zm9v-YmFy_MTIz@127.0.0.1:8554/camera0',
    ]);
    assert.ok(!line.includes('2>'), 'no redirection: there is no shell');
    assert.ok(existsSync(STREAM_LAUNCHER), STREAM_LAUNCHER);
    accessSync(STREAM_LAUNCHER, constants.X_OK);
  });

  it('gives the same argv to MediaMTX (no shell) and to /bin/sh, odd device names included', () => {
    const sources = [
      v4l2,
      { kind: 'v4l2' as const, device: '/dev/v4l/by-id/usb-Cam\'s "x" `y` \\ 1 ~ #;|&*' },
      { ...pattern, clock: true },
    ];
    for (const source of sources) {
      const options = {
        source,
        codec: codec(),
        stderrFile: "/tmp/it's here/x.log",
        publisher,
        publishHost: '::1',
      };
      const expected = publishWords(options).map((w) =>
        w.replace('$RTSP_PORT', '8554').replace('$MTX_PATH', 'camera0'),
      );
      const line = publishCommand(options);
      assert.deepEqual(mediamtxArgv(line, vars, {}), expected);
      const printed = spawnSync('/bin/sh', ['-c', `exec printf '%s\\n' ${line}`], {
        encoding: 'utf8',
        env: { ...vars, PATH: process.env.PATH },
      });
      assert.deepEqual(printed.stdout.slice(0, -1).split('\n'), expected);
    }
  });

  it('refuses a word with a "$", which MediaMTX would expand even in quotes', () => {
    const source = { kind: 'v4l2' as const, device: '/dev/v4l/by-id/cam$HOME' };
    assert.throws(
      () => publishCommand({ source, codec: codec() }),
      (error: Error) => {
        assert.ok(error instanceof StreamCommandError);
        assert.match(error.message, /cannot contain "\/dev\/v4l\/by-id\/cam\$HOME"/);
        return true;
      },
    );
  });

  it('quotes only what needs it', () => {
    assert.equal(shellQuote('/dev/video0'), '/dev/video0');
    assert.equal(shellQuote('testsrc2=size=320x240:rate=10'), 'testsrc2=size=320x240:rate=10');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });
});

describe('the stream launcher, run as MediaMTX runs a command', () => {
  it("appends ffmpeg's errors to the stream log, and says when ffmpeg is missing", async () => {
    const dir = tempDir();
    const stderrFile = join(dir, 'gone.log');
    const line = publishCommand({
      source: { kind: 'v4l2', device: join(dir, 'video9') },
      codec: codec(),
      stderrFile,
    });
    const [file, ...args] = mediamtxArgv(line, vars(1));
    const first = spawn(file!, args, { detached: true, stdio: 'ignore' });
    await within(once(first, 'exit'), 20_000, 'ffmpeg to fail');
    assert.match(readFileSync(stderrFile, 'utf8'), /video9: No such file or directory/);
    const missing = mediamtxArgv(
      publishCommand({ source: pattern, codec: codec(), stderrFile, ffmpeg: 'no-such-ffmpeg' }),
      vars(1),
    );
    const second = spawn(missing[0]!, missing.slice(1), { stdio: 'ignore' });
    const [code] = (await within(once(second, 'exit'), 10_000, 'the launcher')) as [number];
    assert.equal(code, 127);
    assert.match(readFileSync(stderrFile, 'utf8'), /no-such-ffmpeg was not found: install it/);
  });

  it('becomes ffmpeg: one process in its group, so a stop signal reaches ffmpeg itself', async () => {
    // An RTSP server that accepts and never answers: ffmpeg waits in its handshake.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const connected = once(silent, 'connection');
    try {
      const line = publishCommand({
        source: pattern,
        codec: codec(),
        stderrFile: join(tempDir(), 'p.log'),
      });
      const [file, ...args] = mediamtxArgv(line, vars(port));
      // As MediaMTX starts it: a process group of its own.
      const child = spawn(file!, args, { detached: true, stdio: 'ignore' });
      const exited = once(child, 'exit');
      await within(connected, 20_000, 'ffmpeg to connect');
      const pid = child.pid!;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.equal(cmdline[0], 'ffmpeg', 'the launcher exec-ed ffmpeg in its place');
      assert.deepEqual(groupMembers(pid), [pid], 'nothing else runs in the group');
      process.kill(-pid, 'SIGKILL');
      const [, signal] = (await within(exited, 10_000, 'ffmpeg to stop')) as [null, string];
      assert.equal(signal, 'SIGKILL');
    } finally {
      silent.close();
    }
  });
});

/** The processes whose process group is `pgid` (from /proc). */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function vars(port: number): Record<string, string> {
  return { MTX_PATH: 'camera0', RTSP_PORT: String(port) };
}
