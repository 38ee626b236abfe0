/**
 * The ffmpeg command that feeds a camera's path, run by the media server as the path's
 * `runOnDemand`. MediaMTX runs it without a shell: it splits the line into words with
 * POSIX-shell quoting (go-shellquote), expands `$VAR` and `${VAR}` inside each word
 * (MTX_PATH, RTSP_PORT...) and executes the first word. The embedded relay runs it
 * through `/bin/sh -c "exec <line>"`. The line is built so that both give the same argv:
 *
 *   - every word that is not plain is single-quoted (`'it'\''s'` for a quote inside),
 *     which both read the same way;
 *   - the one word with variables, the output URL, is double-quoted, which both expand;
 *   - no other word may hold a `$` (MediaMTX would expand it even inside quotes), and
 *     nothing relies on shell syntax: redirections, pipes and `;` would be arguments.
 *
 * It publishes to `rtsp://<publisher>@127.0.0.1:$RTSP_PORT/$MTX_PATH`: the media server
 * sets both variables for its commands, so the command never goes stale when a port
 * changes. ffmpeg's own output goes to the media server's log, so it is kept quiet
 * (`-loglevel error -nostats`); with `stderrFile`, ffmpeg is started through the
 * service's launcher (scripts/stream-launch), which appends ffmpeg's stderr to that file
 * and then becomes ffmpeg (exec), so that the service can say why a stream did not start
 * ("Device or resource busy", "No such file or directory").
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';

export type CodecConfig = Config['mediamtx']['codec'];

export type CameraSource =
  | {
      kind: 'v4l2';
      device: string;
      /** ffmpeg's -input_format name (mjpeg, yuyv422, h264...); omitted: the driver's default. */
      inputFormat?: string;
      /** "WxH"; omitted: the driver's current size. */
      size?: string;
      fps?: number;
      /** ffmpeg's -framerate when it is not a whole number of fps (e.g. "2997/100"). */
      framerate?: string;
    }
  | {
      kind: 'test_pattern';
      size: string;
      fps: number;
      clock?: boolean;
      /** Draw the machine-readable wall clock (cameras/clock-code.ts) across the top. */
      clockCode?: boolean;
    };

export interface PublishCommandOptions {
  source: CameraSource;
  codec: CodecConfig;
  /**
   * Where ffmpeg's stderr goes, appended (a restart must not empty it while the service
   * reads why the last run failed), through the launcher; omitted: the media server's log.
   */
  stderrFile?: string;
  /** The launcher that appends stderr to `stderrFile` (default STREAM_LAUNCHER). */
  launcher?: string;
  /** The ffmpeg executable (default `ffmpeg` from PATH). */
  ffmpeg?: string;
  /** The render node for h264_vaapi (default /dev/dri/renderD128). */
  vaapiDevice?: string;
  /**
   * The address of this machine the media server's RTSP listens on, which ffmpeg
   * publishes to (default 127.0.0.1, right for a media server listening on every address).
   */
  publishHost?: string;
  /** The service's publisher credential, put in the URL (the media server asks for it). */
  publisher?: { user: string; password: string };
}

/** The frame rate a source produces, when known: the default GOP is one second of it. */
function sourceFps(source: CameraSource): number | undefined {
  return source.fps === undefined ? undefined : Math.max(1, Math.round(source.fps));
}

/**
 * The test pattern's machine-readable clock (decoded by cameras/clock-code.ts, which
 * documents the encoding): 40 blocks of floor(width / 40) pixels across the top.
 */
const CODE_BITS = 40;

function clockCodeBlock(width: number): number {
  return Math.max(1, Math.floor(width / CODE_BITS));
}

/**
 * The ffmpeg filters that draw the code, to follow the source in a filter chain: they
 * stamp each frame with the wall clock as it leaves `realtime` (which paces the
 * generator, in place of `-re`), draw the strip, and give the frames back their own
 * timestamps. The expression language has no clock of its own; `setpts` has RTCTIME.
 */
function clockCodeFilters(width: number): string[] {
  const block = clockCodeBlock(width);
  const filters = [
    'realtime',
    'settb=1/1000',
    'setpts=RTCTIME/1000',
    `drawbox=x=0:y=0:w=${block * CODE_BITS}:h=${block}:color=black:t=fill`,
  ];
  for (let i = 0; i < CODE_BITS; i += 1) {
    const weight = 2 ** (CODE_BITS - 1 - i);
    filters.push(
      `drawbox=x=${i * block}:y=0:w=${block}:h=${block}:color=white:t=fill:enable=mod(floor(floor(t*1000+0.5)/${weight})\\,2)`,
    );
  }
  filters.push('setpts=PTS-STARTPTS');
  return filters;
}

function inputArgs(source: CameraSource): string[] {
  if (source.kind === 'test_pattern') {
    const filters = [`testsrc2=size=${source.size}:rate=${source.fps}`];
    const width = Number(source.size.split('x')[0]);
    // The code strip paces the generator itself (its `realtime` filter) in place of -re.
    if (source.clockCode) filters.push(...clockCodeFilters(width));
    if (source.clock ?? true) {
      // A burnt-in wall clock shows at a glance that the picture is live and how late it is.
      const y = source.clockCode ? clockCodeBlock(width) + 8 : 8;
      filters.push(
        `drawtext=text='%{localtime\\:%T}':x=8:y=${y}:fontsize=16:fontcolor=white:box=1:boxcolor=black@0.6`,
      );
    }
    return [...(source.clockCode ? [] : ['-re']), '-f', 'lavfi', '-i', filters.join(',')];
  }
  const args = ['-f', 'v4l2'];
  if (source.inputFormat) args.push('-input_format', source.inputFormat);
  if (source.size) args.push('-video_size', source.size);
  const framerate = source.framerate ?? (source.fps ? String(source.fps) : undefined);
  if (framerate) args.push('-framerate', framerate);
  args.push('-i', source.device);
  return args;
}

/** H.264 profile numbers as AVCodecContext.profile takes them (any encoder accepts these). */
const PROFILE_NUMBER: Record<CodecConfig['video_profile'], number> = {
  // Constrained baseline (66 | FF_PROFILE_H264_CONSTRAINED): what "baseline" means for
  // players and for STANAG 4609-style compliance; libx264's "baseline" is the same.
  baseline: 578,
  main: 77,
  high: 100,
};

/** "3.0" → 30, "4.1" → 41: the form hardware encoders take. */
function levelNumber(level: string): number {
  return Math.round(Number(level) * 10);
}

function encoderArgs(codec: CodecConfig, gop: number | undefined, vaapiDevice: string): string[] {
  const gopArgs = gop === undefined ? [] : ['-g', String(gop)];
  switch (codec.encoder) {
    case 'libx264':
      return [
        '-c:v',
        'libx264',
        '-profile:v',
        codec.video_profile,
        '-level:v',
        codec.video_level,
        '-pix_fmt',
        codec.pixel_format,
        '-preset',
        codec.preset,
        '-tune',
        'zerolatency',
        ...gopArgs,
        '-b:v',
        codec.bitrate,
      ];
    case 'h264_v4l2m2m':
      // The SoC encoder (Raspberry Pi and others): no presets; profile and level as numbers.
      return [
        '-pix_fmt',
        codec.pixel_format,
        '-c:v',
        'h264_v4l2m2m',
        '-profile:v',
        String(PROFILE_NUMBER[codec.video_profile]),
        '-level:v',
        String(levelNumber(codec.video_level)),
        ...gopArgs,
        '-b:v',
        codec.bitrate,
      ];
    case 'h264_vaapi':
      // Frames are uploaded to the GPU as NV12, the layout VA-API encoders take.
      return [
        '-vaapi_device',
        vaapiDevice,
        '-vf',
        'format=nv12,hwupload',
        '-c:v',
        'h264_vaapi',
        '-profile:v',
        codec.video_profile === 'baseline' ? 'constrained_baseline' : codec.video_profile,
        '-level:v',
        String(levelNumber(codec.video_level)),
        ...gopArgs,
        '-b:v',
        codec.bitrate,
      ];
  }
}

/** ffmpeg's arguments, without the output URL (see publishWords). */
export function publishArgs(options: PublishCommandOptions): string[] {
  const gop = options.codec.gop ?? sourceFps(options.source);
  const vaapiDevice = options.vaapiDevice ?? '/dev/dri/renderD128';
  // -vaapi_device is a global option: it must come before the input.
  const encoder = encoderArgs(options.codec, gop, vaapiDevice);
  const globalArgs = ['-hide_banner', '-loglevel', 'error', '-nostats', '-nostdin'];
  if (options.codec.encoder === 'h264_vaapi') {
    globalArgs.push(...encoder.splice(0, 2));
  }
  return [
    ...globalArgs,
    ...inputArgs(options.source),
    // Video only: a camera's microphone is not part of the product's streams.
    '-an',
    ...encoder,
    '-f',
    'rtsp',
    '-rtsp_transport',
    'tcp',
  ];
}

/**
 * The launcher shipped with the server package, by absolute path (from dist/src/media
 * once built; from src/media when run from source).
 */
export const STREAM_LAUNCHER: string = (() => {
  const candidates = ['../../../scripts/stream-launch', '../../scripts/stream-launch'].map(
    (relative) => fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((file) => existsSync(file)) ?? candidates[0]!;
})();

/** A word of the command cannot be passed to the media server as it is. */
export class StreamCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamCommandError';
  }
}

/**
 * The words of the command, before quoting: [launcher, stderrFile,] ffmpeg, its
 * arguments, and the output URL with `$RTSP_PORT` and `$MTX_PATH` left for the media
 * server to fill in.
 */
export function publishWords(options: PublishCommandOptions): string[] {
  const host = options.publishHost ?? '127.0.0.1';
  const userinfo = options.publisher
    ? `${encodeURIComponent(options.publisher.user)}:${encodeURIComponent(options.publisher.password)}@`
    : '';
  const url = `rtsp://${userinfo}${host.includes(':') ? `[${host}]` : host}:$RTSP_PORT/$MTX_PATH`;
  const launch = options.stderrFile
    ? [options.launcher ?? STREAM_LAUNCHER, options.stderrFile]
    : [];
  return [...launch, options.ffmpeg ?? 'ffmpeg', ...publishArgs(options), url];
}

/**
 * The command line of a path's runOnDemand. Throws a StreamCommandError when a word
 * holds a `$`, which the media server would take for a variable.
 */
export function publishCommand(options: PublishCommandOptions): string {
  const words = publishWords(options);
  const url = words.pop()!;
  for (const word of words) {
    if (word.includes('$')) {
      throw new StreamCommandError(
        `The stream command cannot contain ${JSON.stringify(word)}: MediaMTX reads every "$" in a command as the start of a variable. Rename the device, directory or setting so that it has no "$".`,
      );
    }
  }
  // Double quotes: the media server (and a shell) expand the variables in it.
  return [...words.map(shellQuote), `"${url}"`].join(' ');
}

const SAFE_WORD = /^[A-Za-z0-9_./:=,+@%-]+$/;

/**
 * One word, read the same by a POSIX shell and by go-shellquote: unchanged when it is
 * plain, else single-quoted (a quote inside becomes '\'').
 */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''")}'`;
}
