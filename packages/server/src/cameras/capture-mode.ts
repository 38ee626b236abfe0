/**
 * Chooses how ffmpeg captures from a V4L2 camera: the `-input_format`, `-video_size` and
 * `-framerate` of the pipeline in SPEC section 2. Pure: it works on formats parsed by
 * probe-parse.ts and returns either a mode or a sentence saying why there is none.
 *
 * The rule, in order:
 *
 * 1. Only capture formats (`Video Capture`, `Video Capture Multiplanar`) whose fourcc ffmpeg's
 *    v4l2 input can read ({@link ffmpegInputFormat}) are candidates.
 * 2. A configured override (any of format, size, fps) is honoured when the device offers it,
 *    and is otherwise refused with a reason naming what the device does offer. A format
 *    override may be a fourcc (`MJPG`) or an ffmpeg name (`mjpeg`), in any case. What the
 *    override leaves open is chosen by the rules below, among the modes that satisfy it.
 * 3. Size: the target size if offered (default {@link DEFAULT_TARGET}, 640x480); otherwise the
 *    largest offered size that fits inside the target; otherwise the smallest offered size.
 *    A stepwise or continuous range offers the target clamped to the range and rounded down
 *    to the step, so it never exceeds the target unless the range's minimum does.
 * 4. Frame rate: the target rate (default 30) or the highest offered at or below it; if all
 *    are above it, the lowest. A size listed without frame intervals (every range) is asked
 *    for the target rate and the driver adjusts.
 * 5. Format, among those offering the chosen size: first the one whose frame rate comes
 *    closest to the target (within 1% counts as equal), then by preference. Above 640x480,
 *    MJPEG first, then H.264, then raw: raw YUYV at 1280x720 and 30 fps is 55 MB/s, more
 *    than twice what a UVC camera gets over USB 2 (isochronous transfers top out near
 *    24 MB/s), and decoding MJPEG before our own H.264 encode costs less CPU than decoding
 *    H.264. Up to 640x480, raw first (YUYV, then NV12 and the other YUV layouts, then RGB):
 *    no decode step, no double compression, and 640x480 YUYV at 30 fps (18 MB/s) fits USB 2.
 *    The bus is not consulted: the same preference applies on USB 3 and to platform cameras,
 *    where it is harmless. Greyscale and Bayer come last. A device offering H.264 only gets
 *    `h264`.
 */
import type {
  DiscreteFrameSize,
  FrameInterval,
  FrameIntervalRange,
  FrameSize,
  FrameSizeRange,
  PixelFormat,
} from './probe-parse.js';
import { isCaptureBufferType, rangeIncludes } from './probe-parse.js';

/**
 * The default target: 640x480 at 30 fps. The default codec settings (SPEC: H.264 baseline,
 * level 3.0, 600 kbit/s) decide it. Level 3.0 allows 1,620 macroblocks per frame and 40,500
 * per second: 640x480 is 1,200 macroblocks, 36,000 per second at 30 fps, so it fits, while
 * 1280x720 (3,600 macroblocks) exceeds the level's frame size. And 600 kbit/s spread over
 * 640x480 at 30 fps is about 0.065 bit per pixel, already the low end for baseline H.264;
 * 1280x720 would get a third of that and look blocky. A larger target belongs with a
 * higher level and bitrate in the configuration.
 */
export const DEFAULT_TARGET: Readonly<{ width: number; height: number; fps: number }> = {
  width: 640,
  height: 480,
  fps: 30,
};

/** Sizes up to this many pixels (640x480) count as small: raw formats are preferred. */
const SMALL_AREA = 640 * 480;

/**
 * ffmpeg's `-input_format` name for each V4L2 fourcc its v4l2 input reads (the table in
 * libavdevice/v4l2-common.c). `YV12` and `YVU9` are left out: ffmpeg maps `yuv420p` and
 * `yuv410p` to `YU12` and `YUV9` first, so asking for them would not select those formats.
 */
export const FFMPEG_INPUT_FORMATS: Readonly<Record<string, string>> = {
  MJPG: 'mjpeg',
  JPEG: 'mjpeg',
  H264: 'h264',
  CPIA: 'cpia',
  YUYV: 'yuyv422',
  UYVY: 'uyvy422',
  NV12: 'nv12',
  YU12: 'yuv420p',
  '422P': 'yuv422p',
  '411P': 'yuv411p',
  YUV9: 'yuv410p',
  RGB3: 'rgb24',
  BGR3: 'bgr24',
  RGB4: '0rgb',
  BGR4: 'bgr0',
  RGBP: 'rgb565le',
  RGBR: 'rgb565be',
  RGBO: 'rgb555le',
  RGBQ: 'rgb555be',
  GREY: 'gray',
  Y16: 'gray16le',
  BA81: 'bayer_bggr8',
  GBRG: 'bayer_gbrg8',
  GRBG: 'bayer_grbg8',
  RGGB: 'bayer_rggb8',
};

/** ffmpeg's `-input_format` name for a fourcc (`MJPG` gives `mjpeg`), or null if unreadable. */
export function ffmpegInputFormat(fourcc: string): string | null {
  return Object.hasOwn(FFMPEG_INPUT_FORMATS, fourcc.trim())
    ? (FFMPEG_INPUT_FORMATS[fourcc.trim()] ?? null)
    : null;
}

/** Raw layouts in order of preference: packed 4:2:2 as UVC delivers it, then 4:2:0, then RGB. */
const RAW_ORDER: readonly string[] = [
  'yuyv422',
  'nv12',
  'yuv420p',
  'uyvy422',
  'yuv422p',
  'yuv411p',
  'yuv410p',
  'rgb24',
  'bgr24',
  '0rgb',
  'bgr0',
  'rgb565le',
  'rgb565be',
  'rgb555le',
  'rgb555be',
];
const COMPRESSED_ORDER: readonly string[] = ['mjpeg', 'h264'];

/** Lower is better. Formats in neither list (grey, Bayer, CPiA) come after both. */
function formatRank(inputFormat: string, width: number, height: number): number {
  const order =
    width * height > SMALL_AREA
      ? [...COMPRESSED_ORDER, ...RAW_ORDER]
      : [...RAW_ORDER, ...COMPRESSED_ORDER];
  const i = order.indexOf(inputFormat);
  return i < 0 ? order.length : i;
}

/** A configured override; every part is optional, width and height go together. */
export interface CaptureOverride {
  /** A fourcc (`MJPG`) or an ffmpeg input format name (`mjpeg`), case-insensitive. */
  readonly format?: string;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
}

export interface CaptureModeOptions {
  readonly override?: CaptureOverride;
  /** What to aim for when not overridden; missing parts default to {@link DEFAULT_TARGET}. */
  readonly target?: { readonly width?: number; readonly height?: number; readonly fps?: number };
}

/** The chosen mode, ready for `-input_format`, `-video_size` and `-framerate`. */
export interface CaptureMode {
  /** The device's fourcc, e.g. `MJPG`. */
  readonly fourcc: string;
  /** ffmpeg's `-input_format`, e.g. `mjpeg`. */
  readonly inputFormat: string;
  readonly width: number;
  readonly height: number;
  /** Frames per second, e.g. 30 or 29.97. */
  readonly fps: number;
  /** ffmpeg's `-framerate`: `30`, or an exact fraction such as `2997/100`. */
  readonly framerate: string;
  /** The buffer type of the chosen format. */
  readonly bufferType: string;
  /** Sentences about limits of the choice (unverified frame rate, multiplanar buffers). */
  readonly notes: readonly string[];
}

export type CaptureModeFailureCode =
  | 'no_formats'
  | 'no_usable_format'
  | 'invalid_override'
  | 'format_not_offered'
  | 'format_not_readable'
  | 'size_not_offered'
  | 'fps_not_offered';

export type CaptureModeChoice =
  | { readonly ok: true; readonly mode: CaptureMode }
  | { readonly ok: false; readonly code: CaptureModeFailureCode; readonly reason: string };

/** What one (format, size) pair can do about frame rates. */
type Rates =
  | {
      readonly known: true;
      readonly intervals: readonly FrameInterval[];
      readonly ranges: readonly FrameIntervalRange[];
    }
  | { readonly known: false };

interface Candidate {
  readonly format: PixelFormat;
  readonly inputFormat: string;
  readonly width: number;
  readonly height: number;
  readonly rates: Rates;
}

/** A frame rate choice: the rate, and the exact interval when the device listed one. */
interface RateChoice {
  readonly fps: number;
  readonly interval: FrameInterval | null;
  readonly verified: boolean;
}

function ratesOf(size: DiscreteFrameSize): Rates {
  if (size.intervals.length === 0 && size.intervalRanges.length === 0) return { known: false };
  return { known: true, intervals: size.intervals, ranges: size.intervalRanges };
}

/** Clamps a target to a range and rounds it down onto the range's step. */
function fitAxis(target: number, min: number, max: number, step: number): number {
  if (target <= min) return min;
  const clamped = Math.min(target, max);
  return min + Math.floor((clamped - min) / step) * step;
}

function fitRange(range: FrameSizeRange, width: number, height: number): [number, number] {
  return [
    fitAxis(width, range.minWidth, range.maxWidth, range.stepWidth),
    fitAxis(height, range.minHeight, range.maxHeight, range.stepHeight),
  ];
}

function sameRate(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(0.01, b * 0.005);
}

/** Every rate a candidate offers, for messages. */
function listedRates(rates: Rates): number[] {
  if (!rates.known) return [];
  const all = [...rates.intervals.map((i) => i.fps), ...rates.ranges.map((r) => r.min.fps)];
  return [...new Set(all)].sort((a, b) => b - a);
}

/** The rate matching a requested one, or null when the candidate cannot run at it. */
function matchRate(rates: Rates, fps: number): RateChoice | null {
  if (!rates.known) return { fps, interval: null, verified: false };
  const exact = rates.intervals.find((i) => sameRate(i.fps, fps));
  if (exact) return { fps: exact.fps, interval: exact, verified: true };
  const inRange = rates.ranges.some((r) => fps <= r.min.fps + 0.01 && fps >= r.max.fps - 0.01);
  return inRange ? { fps, interval: null, verified: true } : null;
}

/** The highest rate at or below the target, else the lowest above it. */
function pickRate(rates: Rates, target: number): RateChoice {
  if (!rates.known) return { fps: target, interval: null, verified: false };
  const options: RateChoice[] = rates.intervals.map((i) => ({
    fps: i.fps,
    interval: i,
    verified: true,
  }));
  for (const r of rates.ranges) {
    const fps = Math.min(Math.max(target, r.max.fps), r.min.fps);
    options.push({ fps, interval: null, verified: true });
  }
  const below = options.filter((o) => o.fps <= target).sort((a, b) => b.fps - a.fps);
  const above = options.filter((o) => o.fps > target).sort((a, b) => a.fps - b.fps);
  return below[0] ?? above[0] ?? { fps: target, interval: null, verified: false };
}

/** How close a rate comes to the target: rates above it count as worse the further they go. */
function rateScore(fps: number, target: number): number {
  return fps <= target ? fps : (target * target) / fps;
}

function framerateArg(choice: RateChoice): string {
  const i = choice.interval;
  if (i) return i.numerator === 1 ? String(i.denominator) : `${i.denominator}/${i.numerator}`;
  return String(choice.fps);
}

function describeSize(size: FrameSize): string {
  if (size.kind === 'discrete') return `${size.width}x${size.height}`;
  const step =
    size.stepWidth === 1 && size.stepHeight === 1
      ? ''
      : ` in steps of ${size.stepWidth}x${size.stepHeight}`;
  return `${size.minWidth}x${size.minHeight} to ${size.maxWidth}x${size.maxHeight}${step}`;
}

function listOf(items: readonly string[], max = 12): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

function positive(n: number | undefined): boolean {
  return n === undefined || (Number.isFinite(n) && n > 0);
}

function failure(code: CaptureModeFailureCode, reason: string): CaptureModeChoice {
  return { ok: false, code, reason };
}

/**
 * Picks the capture mode for a camera from its parsed formats, following the rule in this
 * module's comment. Never throws.
 */
export function chooseCaptureMode(
  formats: readonly PixelFormat[],
  options: CaptureModeOptions = {},
): CaptureModeChoice {
  const override = options.override ?? {};
  const targetWidth = options.target?.width ?? DEFAULT_TARGET.width;
  const targetHeight = options.target?.height ?? DEFAULT_TARGET.height;
  const targetFps = options.target?.fps ?? DEFAULT_TARGET.fps;

  if ((override.width === undefined) !== (override.height === undefined)) {
    return failure('invalid_override', 'A size override needs both a width and a height.');
  }
  if (
    !positive(override.width) ||
    !positive(override.height) ||
    !positive(override.fps) ||
    !Number.isInteger(override.width ?? 1) ||
    !Number.isInteger(override.height ?? 1)
  ) {
    return failure(
      'invalid_override',
      'A size override needs positive whole numbers and a frame rate override a positive number.',
    );
  }
  if (!positive(targetWidth) || !positive(targetHeight) || !positive(targetFps)) {
    return failure('invalid_override', 'The target size and frame rate must be positive.');
  }

  const capture = formats.filter((f) => isCaptureBufferType(f.bufferType));
  if (capture.length === 0) {
    return failure(
      'no_formats',
      'The device lists no video capture format (a metadata-only node lists none).',
    );
  }

  let usable = capture.filter((f) => ffmpegInputFormat(f.fourcc) !== null);
  const wanted = override.format?.trim();
  if (wanted !== undefined) {
    const w = wanted.toLowerCase();
    const named = capture.filter(
      (f) => f.fourcc.toLowerCase() === w || ffmpegInputFormat(f.fourcc) === w,
    );
    if (named.length === 0) {
      return failure(
        'format_not_offered',
        `The camera does not offer the format ${wanted}; it offers ${listOf(capture.map((f) => f.fourcc))}.`,
      );
    }
    usable = named.filter((f) => ffmpegInputFormat(f.fourcc) !== null);
    if (usable.length === 0) {
      const readable = capture.filter((f) => ffmpegInputFormat(f.fourcc) !== null);
      return failure(
        'format_not_readable',
        `ffmpeg cannot read the format ${wanted} from a V4L2 device; ` +
          (readable.length > 0
            ? `choose one of ${listOf(readable.map((f) => f.fourcc))}.`
            : 'the camera offers no format ffmpeg can read.'),
      );
    }
  }
  if (usable.length === 0) {
    return failure(
      'no_usable_format',
      `ffmpeg's v4l2 input reads none of the camera's formats (${listOf(capture.map((f) => f.fourcc))}).`,
    );
  }
  const formatNames = listOf(usable.map((f) => f.fourcc));

  if (!usable.some((f) => f.sizes.length > 0)) {
    return failure('no_usable_format', `The camera lists no frame size for ${formatNames}.`);
  }

  // Every (format, size) pair on offer; a range offers one size: the target or the override.
  const sizeGoal: [number, number] =
    override.width !== undefined && override.height !== undefined
      ? [override.width, override.height]
      : [targetWidth, targetHeight];
  let candidates: Candidate[] = [];
  for (const format of usable) {
    const inputFormat = ffmpegInputFormat(format.fourcc) as string;
    for (const size of format.sizes) {
      if (size.kind === 'discrete') {
        const { width, height } = size;
        candidates.push({ format, inputFormat, width, height, rates: ratesOf(size) });
      } else if (override.width !== undefined && override.height !== undefined) {
        // An overridden size must lie on the range's grid; it is not moved onto it.
        if (rangeIncludes(size, override.width, override.height)) {
          const [width, height] = [override.width, override.height];
          candidates.push({ format, inputFormat, width, height, rates: { known: false } });
        }
      } else {
        const [width, height] = fitRange(size, targetWidth, targetHeight);
        candidates.push({ format, inputFormat, width, height, rates: { known: false } });
      }
    }
  }

  if (override.width !== undefined && override.height !== undefined) {
    const [w, h] = [override.width, override.height];
    const offered = candidates.filter((c) => c.width === w && c.height === h);
    if (offered.length === 0) {
      const sizes = [...new Set(usable.flatMap((f) => f.sizes.map(describeSize)))];
      return failure(
        'size_not_offered',
        `The camera does not offer ${w}x${h} in ${formatNames}; it offers ${listOf(sizes)}.`,
      );
    }
    candidates = offered;
  }

  const fpsOverride = override.fps;
  if (fpsOverride !== undefined) {
    const offered = candidates.filter((c) => matchRate(c.rates, fpsOverride) !== null);
    if (offered.length === 0) {
      const rates = [...new Set(candidates.flatMap((c) => listedRates(c.rates)))].sort(
        (a, b) => b - a,
      );
      const where = override.width !== undefined ? ` at ${override.width}x${override.height}` : '';
      return failure(
        'fps_not_offered',
        `The camera does not offer ${fpsOverride} fps${where} in ${formatNames}; ` +
          `it offers ${listOf(rates.map(String))} fps.`,
      );
    }
    candidates = offered;
  }

  // The size: the goal itself, else the largest inside it, else the smallest.
  const area = (c: Candidate): number => c.width * c.height;
  const [goalW, goalH] = sizeGoal;
  const exact = candidates.filter((c) => c.width === goalW && c.height === goalH);
  const inside = candidates
    .filter((c) => c.width <= goalW && c.height <= goalH)
    .sort((a, b) => area(b) - area(a) || b.width - a.width);
  const smallest = [...candidates].sort((a, b) => area(a) - area(b) || a.width - b.width);
  const pick = exact[0] ?? inside[0] ?? smallest[0];
  if (!pick)
    return failure('no_usable_format', `The camera lists no frame size for ${formatNames}.`);
  const atSize = candidates.filter((c) => c.width === pick.width && c.height === pick.height);

  // The format at that size: closest frame rate first, then preference, then device order.
  const goalFps = fpsOverride ?? targetFps;
  const scored = atSize.map((c, order) => {
    const rate =
      fpsOverride !== undefined
        ? (matchRate(c.rates, fpsOverride) as RateChoice)
        : pickRate(c.rates, targetFps);
    return {
      c,
      rate,
      order,
      score: rateScore(rate.fps, goalFps),
      rank: formatRank(c.inputFormat, c.width, c.height),
    };
  });
  scored.sort((a, b) => {
    if (Math.abs(a.score - b.score) > goalFps * 0.01) return b.score - a.score;
    return a.rank - b.rank || a.order - b.order;
  });
  const best = scored[0];
  if (!best)
    return failure('no_usable_format', `The camera lists no frame size for ${formatNames}.`);

  const notes: string[] = [];
  if (!best.rate.verified) {
    notes.push(
      `The camera lists no frame intervals for ${best.c.width}x${best.c.height} ${best.c.format.fourcc}; ` +
        `${best.rate.fps} fps is asked for and the driver may adjust it.`,
    );
  }
  if (best.c.format.bufferType === 'Video Capture Multiplanar') {
    notes.push(
      "This format uses multiplanar buffers, which ffmpeg's v4l2 input does not open: it needs " +
        'a single-planar Video Capture node or another capture path.',
    );
  }
  return {
    ok: true,
    mode: {
      fourcc: best.c.format.fourcc,
      inputFormat: best.c.inputFormat,
      width: best.c.width,
      height: best.c.height,
      fps: best.rate.fps,
      framerate: framerateArg(best.rate),
      bufferType: best.c.format.bufferType,
      notes,
    },
  };
}
