/**
 * The ffmpeg command that feeds a camera's path: MediaMTX runs it as the path's
 * `runOnDemand` (through `/bin/sh -c "exec <command>"`, as the embedded relay does too),
 * so the result is one shell command line, built from data with every argument quoted.
 *
 * It publishes to `rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH`: the media server sets both
 * variables for its commands, so the command never goes stale when a port changes.
 * ffmpeg's own output goes to the media server's log, so it is kept quiet
 * (`-loglevel error -nostats`), and its stderr is appended to `stderrFile` when given, so that the service can say why a stream did not start ("Device or resource
 * busy", "No such file or directory").
 */
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
  | { kind: 'test_pattern'; size: string; fps: number; clock?: boolean };

export interface PublishCommandOptions {
  source: CameraSource;
  codec: CodecConfig;
  /**
   * Where ffmpeg's stderr goes, appended (a restart must not empty it while the service
   * reads why the last run failed); omitted: the media server's log.
   */
  stderrFile?: string;
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

function inputArgs(source: CameraSource): string[] {
  if (source.kind === 'test_pattern') {
    const filters = [`testsrc2=size=${source.size}:rate=${source.fps}`];
    if (source.clock ?? true) {
      // A burnt-in wall clock shows at a glance that the picture is live and how late it is.
      filters.push(
        "drawtext=text='%{localtime\\:%T}':x=8:y=8:fontsize=16:fontcolor=white:box=1:boxcolor=black@0.6",
      );
    }
    return ['-re', '-f', 'lavfi', '-i', filters.join(',')];
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

/** The argument list, without the output URL and redirection (see publishCommand). */
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

/** The shell command line a path's runOnDemand runs. */
export function publishCommand(options: PublishCommandOptions): string {
  const words = [options.ffmpeg ?? 'ffmpeg', ...publishArgs(options)].map(shellQuote);
  // Left to the shell: the media server gives these to the command.
  const host = options.publishHost ?? '127.0.0.1';
  const userinfo = options.publisher
    ? `${encodeURIComponent(options.publisher.user)}:${encodeURIComponent(options.publisher.password)}@`
    : '';
  words.push(`"rtsp://${userinfo}${host.includes(':') ? `[${host}]` : host}:$RTSP_PORT/$MTX_PATH"`);
  if (options.stderrFile) words.push(`2>>${shellQuote(options.stderrFile)}`);
  return words.join(' ');
}

const SAFE_WORD = /^[A-Za-z0-9_./:=,+@%-]+$/;

/** One shell word: unchanged when it is plain, else single-quoted. */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''")}'`;
}
