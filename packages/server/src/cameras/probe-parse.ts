/**
 * Pure parsers for the text `v4l2-ctl` prints: `--all`, `-D`/`--info`, `--list-formats-ext`
 * (alone or after `--all`/`-D` in the same output) and `--list-devices`. No I/O happens here:
 * the prober runs the command and hands the text over, so every case can be tested on real
 * captured outputs (test/fixtures/v4l2/).
 *
 * The output format is that of v4l-utils (utils/common/v4l2-info.cpp, utils/v4l2-ctl/
 * v4l2-ctl.cpp and v4l2-ctl-common.cpp). Two generations of `--list-formats-ext` exist: the
 * compact `[0]: 'MJPG' (Motion-JPEG, compressed)` style (v4l-utils 1.16, 2018, and later) and
 * the older `Index : 0 / Type : ... / Pixel Format: 'MJPG' (compressed) / Name : ...` style.
 * Both are read; indentation may be tabs or spaces (copies pasted into web pages often turn
 * tabs into spaces).
 *
 * Every parser is total: whatever the input (empty, binary junk, truncated in the middle of a
 * line, CRLF line endings, megabytes of noise), it returns a {@link ParseResult} and never
 * throws. The regular expressions are anchored, free of nested quantifiers and only ever see
 * lines of at most {@link MAX_LINE_LENGTH} characters, so the running time is linear in the
 * input. Lines that look like v4l2-ctl output but cannot be read become warnings rather than
 * failures: a probe that half-worked still yields what it could.
 */

/** V4L2 capability bits (linux/videodev2.h) that the camera service looks at. */
export const V4L2_CAP = {
  VIDEO_CAPTURE: 0x00000001,
  VIDEO_OUTPUT: 0x00000002,
  VIDEO_OVERLAY: 0x00000004,
  VIDEO_CAPTURE_MPLANE: 0x00001000,
  VIDEO_M2M: 0x00008000,
  META_CAPTURE: 0x00800000,
  READWRITE: 0x01000000,
  STREAMING: 0x04000000,
  IO_MC: 0x20000000,
  DEVICE_CAPS: 0x80000000,
} as const;

/**
 * Every capability bit with the name v4l2-ctl prints for it, in the order it prints them
 * (cap2s in v4l2-info.cpp). Used to decode a capability value whose printed names are
 * incomplete: an older v4l-utils prints no name for a bit it does not know (I/O MC, EDID).
 */
const CAPABILITY_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x00000001, 'Video Capture'],
  [0x00001000, 'Video Capture Multiplanar'],
  [0x00000002, 'Video Output'],
  [0x00002000, 'Video Output Multiplanar'],
  [0x00008000, 'Video Memory-to-Memory'],
  [0x00004000, 'Video Memory-to-Memory Multiplanar'],
  [0x00000004, 'Video Overlay'],
  [0x00000200, 'Video Output Overlay'],
  [0x00000010, 'VBI Capture'],
  [0x00000020, 'VBI Output'],
  [0x00000040, 'Sliced VBI Capture'],
  [0x00000080, 'Sliced VBI Output'],
  [0x00000100, 'RDS Capture'],
  [0x00000800, 'RDS Output'],
  [0x00100000, 'SDR Capture'],
  [0x00400000, 'SDR Output'],
  [0x00800000, 'Metadata Capture'],
  [0x08000000, 'Metadata Output'],
  [0x00010000, 'Tuner'],
  [0x10000000, 'Touch Device'],
  [0x00000400, 'HW Frequency Seek'],
  [0x00080000, 'Modulator'],
  [0x00020000, 'Audio'],
  [0x00040000, 'Radio'],
  [0x20000000, 'I/O MC'],
  [0x01000000, 'Read/Write'],
  [0x02000000, 'EDID Only'],
  [0x04000000, 'Streaming'],
  [0x00200000, 'Extended Pix Format'],
  [0x80000000, 'Device Capabilities'],
];

/**
 * Lines longer than this are skipped with a warning. The longest real v4l2-ctl lines (media
 * links, controls with long menus) stay well under 300 characters; the cap keeps every
 * regular expression's work per line small whatever the input.
 */
export const MAX_LINE_LENGTH = 4096;

/** At most this many warnings are kept; the last one says how many more were dropped. */
export const MAX_WARNINGS = 50;

/** Width and height above this are not believed (the kernel's own limits are far lower). */
const MAX_DIMENSION = 65535;

/** Why a parser could not produce a result at all. */
export type ProbeParseErrorCode =
  'not_text' | 'empty_input' | 'no_driver_info' | 'no_format_list' | 'no_device_list';

/**
 * A parser's refusal, returned (never thrown) inside a failed {@link ParseResult}. The message
 * is a sentence fit for a camera's ERROR status reason.
 */
export class ProbeParseError extends Error {
  readonly code: ProbeParseErrorCode;

  constructor(code: ProbeParseErrorCode, message: string) {
    super(message);
    this.name = 'ProbeParseError';
    this.code = code;
  }
}

/**
 * What every parser returns. `warnings` lists lines that looked like v4l2-ctl output but could
 * not be read (with their line numbers); they never make the result fail.
 */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: ProbeParseError; readonly warnings: readonly string[] };

/** A capability value with the names printed under it. */
export interface CapabilitySet {
  /** The 32-bit value (unsigned), or null when the printed hex could not be read. */
  readonly value: number | null;
  /** The names v4l2-ctl printed under the value, in its order; see {@link decodeCapabilities}. */
  readonly names: readonly string[];
}

/**
 * A frame interval: `numerator/denominator` seconds per frame, as V4L2's timeperframe, and the
 * frame rate it means. Fractions are reduced. `--list-formats-ext` prints only rounded
 * numbers (`0.033s (30.000 fps)`), so there the fraction is rebuilt from the fps, which keeps
 * three decimals: 30.000 gives 1/30 and 29.970 gives 100/2997.
 */
export interface FrameInterval {
  readonly numerator: number;
  readonly denominator: number;
  readonly fps: number;
}

/** A stepwise or continuous range of frame intervals listed for one discrete size. */
export interface FrameIntervalRange {
  readonly kind: 'stepwise' | 'continuous';
  /** The shortest interval, i.e. the highest frame rate. */
  readonly min: FrameInterval;
  /** The longest interval, i.e. the lowest frame rate. */
  readonly max: FrameInterval;
  /** The step between intervals; null for a continuous range. */
  readonly step: FrameInterval | null;
}

/** One discrete frame size and the frame intervals the device lists for it. */
export interface DiscreteFrameSize {
  readonly kind: 'discrete';
  readonly width: number;
  readonly height: number;
  /** Discrete intervals in the device's order, duplicates removed. */
  readonly intervals: readonly FrameInterval[];
  /** Interval ranges, for the rare driver that reports them instead of discrete ones. */
  readonly intervalRanges: readonly FrameIntervalRange[];
}

/**
 * A range of frame sizes: any width `minWidth + k * stepWidth` up to `maxWidth` (likewise for
 * height). v4l2-ctl lists no frame intervals for ranges.
 */
export interface FrameSizeRange {
  readonly kind: 'stepwise' | 'continuous';
  readonly minWidth: number;
  readonly maxWidth: number;
  readonly stepWidth: number;
  readonly minHeight: number;
  readonly maxHeight: number;
  readonly stepHeight: number;
}

export type FrameSize = DiscreteFrameSize | FrameSizeRange;

/** One pixel format of `--list-formats-ext`. */
export interface PixelFormat {
  /** The fourcc without padding: `'Y10 '` becomes `Y10`; big-endian ones keep `-BE`. */
  readonly fourcc: string;
  /** The driver's description, e.g. `Motion-JPEG` or `10-bit Greyscale (MIPI Packed)`. */
  readonly description: string;
  /** True when v4l2-ctl printed the `compressed` flag. */
  readonly compressed: boolean;
  /** Every format flag printed (`compressed`, `emulated`, ...). */
  readonly flags: readonly string[];
  /** The buffer type it was listed under, e.g. `Video Capture` or `Video Capture Multiplanar`. */
  readonly bufferType: string;
  /** Sizes in the device's order; a size the device lists twice appears once. */
  readonly sizes: readonly FrameSize[];
}

/** The format currently set on the device (`Format Video Capture:` in `--all`). */
export interface CurrentFormat {
  readonly bufferType: string;
  readonly width: number;
  readonly height: number;
  readonly fourcc: string;
  readonly description: string;
}

/** What `--all`, `-D` or `--info` say about one device node. */
export interface DeviceInfo {
  /** `Driver name`, e.g. `uvcvideo`. */
  readonly driver: string;
  /**
   * `Card type`: the camera's name. The kernel field holds 31 characters, so long names come
   * truncated (`EMEET SmartCam S800: EMEET Smar`).
   */
  readonly card: string;
  /** `Bus info`, e.g. `usb-0000:00:14.0-5` or `platform:fe801000.csi`. */
  readonly busInfo: string;
  /** `Driver version`, e.g. `6.8.12` (usually the kernel version). */
  readonly driverVersion: string;
  /** `Capabilities`: what the whole physical device can do. */
  readonly capabilities: CapabilitySet | null;
  /** `Device Caps`: what this node can do; absent on old drivers. */
  readonly deviceCaps: CapabilitySet | null;
  /** This node captures video (single- or multiplanar). */
  readonly capture: boolean;
  /** This node captures video through the multiplanar API. */
  readonly multiplanar: boolean;
  /** This node captures metadata only (e.g. the second node of a UVC camera): not a camera. */
  readonly metadataOnly: boolean;
  /** This node supports streaming I/O. */
  readonly streaming: boolean;
  /** `Serial` from Media Driver Info, when present and not empty. */
  readonly serial: string | null;
  /** The current video format, when `--all` printed one. */
  readonly currentFormat: CurrentFormat | null;
  /** The current metadata format's fourcc (`UVCH`), on a metadata node. */
  readonly metadataFormat: string | null;
  /** The current frame interval (`Frames per second: 30.000 (30/1)`), when printed. */
  readonly currentFrameInterval: FrameInterval | null;
}

/** One group of `--list-devices`: the nodes sharing a bus info. */
export interface DeviceGroup {
  /** The card name (truncated to 31 characters by the kernel). */
  readonly name: string;
  /** The bus info in the parentheses, e.g. `usb-0000:00:14.0-5` or `platform: rkisp`. */
  readonly bus: string;
  /** `/dev/videoN` nodes, in the listed order. */
  readonly nodes: readonly string[];
  /** `/dev/mediaN` nodes. */
  readonly mediaNodes: readonly string[];
  /** Any other node (`/dev/v4l-subdevN`, `/dev/vbiN`, `/dev/radioN`, ...). */
  readonly otherNodes: readonly string[];
}

/** The `capabilities` object of the camera API (SPEC section 3). */
export interface CameraCapabilities {
  /** Fourccs of the capture formats, in the device's order. */
  readonly formats: string[];
  /** `WxH`, unique, largest first. */
  readonly resolutions: string[];
  /** Frame rates, unique, highest first. */
  readonly frame_rates: number[];
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Collects warnings, keeping at most MAX_WARNINGS so junk input cannot make a huge list. */
class Warnings {
  private readonly list: string[] = [];
  private dropped = 0;

  add(lineNo: number, message: string): void {
    if (this.list.length < MAX_WARNINGS) this.list.push(`Line ${lineNo}: ${message}`);
    else this.dropped += 1;
  }

  done(): string[] {
    if (this.dropped > 0) {
      return [...this.list, `${this.dropped} more warnings were left out.`];
    }
    return this.list;
  }
}

interface Line {
  readonly no: number;
  /** Leading whitespace width; 0 for a top-level line. */
  readonly indent: number;
  /** The line without leading and trailing whitespace. */
  readonly text: string;
}

function fail<T>(code: ProbeParseErrorCode, message: string, warnings: Warnings): ParseResult<T> {
  return { ok: false, error: new ProbeParseError(code, message), warnings: warnings.done() };
}

function succeed<T>(value: T, warnings: Warnings): ParseResult<T> {
  return { ok: true, value, warnings: warnings.done() };
}

/** The common refusal: a value that is not a string, or nothing but whitespace. */
function refusal<T>(text: unknown, what: string, warnings: Warnings): ParseResult<T> {
  if (typeof text !== 'string') {
    return fail('not_text', `Expected the text output of ${what}, got ${typeof text}.`, warnings);
  }
  return fail('empty_input', `The output of ${what} is empty.`, warnings);
}

/** Splits on LF, CRLF or lone CR, dropping blank lines and lines too long to be real. */
function toLines(text: string, warnings: Warnings): Line[] {
  const lines: Line[] = [];
  const raw = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < raw.length; i += 1) {
    const line = raw[i] as string;
    if (line.length > MAX_LINE_LENGTH) {
      warnings.add(i + 1, `skipped: longer than ${MAX_LINE_LENGTH} characters.`);
      continue;
    }
    const body = line.trimStart();
    const text = body.trimEnd();
    if (text === '') continue;
    lines.push({ no: i + 1, indent: line.length - body.length, text });
  }
  return lines;
}

/** `Key   : value` split at the first colon; null when there is no colon. */
function keyValue(text: string): { key: string; value: string } | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  return { key: text.slice(0, colon).trimEnd(), value: text.slice(colon + 1).trim() };
}

/** A top-level header's name: `Format Video Capture:` gives `Format Video Capture`. */
function headerName(text: string): string {
  return text.endsWith(':') ? text.slice(0, -1).trimEnd() : text;
}

/**
 * Reads `'MJPG' (Motion-JPEG)` or `'Y10 '`: the quoted fourcc (up to 7 characters: four, or
 * four plus `-BE`/`BE-` for big-endian formats) and the text after it.
 */
function quotedFourcc(value: string): { fourcc: string; rest: string } | null {
  if (!value.startsWith("'")) return null;
  const close = value.indexOf("'", 1);
  if (close < 2 || close > 8) return null;
  const fourcc = value.slice(1, close).trim();
  if (fourcc === '') return null;
  return { fourcc, rest: value.slice(close + 1).trim() };
}

/** Drops one pair of enclosing parentheses: `(Motion-JPEG)` gives `Motion-JPEG`. */
function unparenthesize(text: string): { inner: string; closed: boolean } {
  if (!text.startsWith('(')) return { inner: text, closed: true };
  if (text.endsWith(')')) return { inner: text.slice(1, -1).trim(), closed: true };
  return { inner: text.slice(1).trim(), closed: false };
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y > 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * A frame interval from `numerator/denominator` seconds per frame; null unless both are
 * positive safe integers.
 */
export function frameInterval(numerator: number, denominator: number): FrameInterval | null {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator)) return null;
  if (numerator <= 0 || denominator <= 0) return null;
  const g = gcd(numerator, denominator);
  return {
    numerator: numerator / g,
    denominator: denominator / g,
    fps: round3(denominator / numerator),
  };
}

/** A frame interval from a frame rate printed with three decimals (`29.970`). */
function intervalFromFps(fps: number): FrameInterval | null {
  if (!Number.isFinite(fps)) return null;
  return frameInterval(1000, Math.round(fps * 1000));
}

/** A frame interval from seconds printed with three decimals (`0.033`). */
function intervalFromSeconds(seconds: number): FrameInterval | null {
  if (!Number.isFinite(seconds)) return null;
  return frameInterval(Math.round(seconds * 1000), 1000);
}

function dimension(text: string | undefined): number | null {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n <= MAX_DIMENSION ? n : null;
}

/** The buffer types a camera captures video through. */
export function isCaptureBufferType(bufferType: string): boolean {
  return bufferType === 'Video Capture' || bufferType === 'Video Capture Multiplanar';
}

/** The names of the bits set in a capability value, in v4l2-ctl's order. */
export function decodeCapabilities(value: number): string[] {
  return CAPABILITY_NAMES.filter(([bit]) => (value & bit) !== 0).map(([, name]) => name);
}

// ---------------------------------------------------------------------------------------------
// --all / -D / --info

type InfoSection = 'preamble' | 'driver' | 'media' | 'format' | 'meta' | 'parm' | 'other';

interface CapsBuilder {
  value: number | null;
  names: string[];
}

function infoSection(name: string): InfoSection {
  // "Driver Info:" in current releases, "Driver Info (not using libv4l2):" in old ones.
  if (name.startsWith('Driver Info')) return 'driver';
  if (name.startsWith('Media Driver Info')) return 'media';
  if (name === 'Format Video Capture' || name === 'Format Video Capture Multiplanar') {
    return 'format';
  }
  if (name === 'Format Metadata Capture') return 'meta';
  if (
    name === 'Streaming Parameters Video Capture' ||
    name === 'Streaming Parameters Video Capture Multiplanar'
  ) {
    return 'parm';
  }
  return 'other';
}

/**
 * Parses `--all`, `-D` or `--info` output (other options' output may follow; it is ignored).
 * Fails only when the text holds no Driver Info at all (no driver name, card, bus info or
 * capabilities): then it is not a v4l2-ctl device description.
 *
 * The derived booleans come from the Device Caps bits (the node's own capabilities), or from
 * Capabilities (the whole device's) when the driver reports no Device Caps; the printed names
 * stand in only when the hex value is unreadable. Bits rather than names, because an older
 * v4l-utils omits names for bits it does not know.
 */
export function parseDeviceInfo(text: unknown): ParseResult<DeviceInfo> {
  const warnings = new Warnings();
  if (typeof text !== 'string' || text.trim() === '') {
    return refusal(text, 'v4l2-ctl --all or --info', warnings);
  }

  const fields = new Map<string, string>();
  let capabilities: CapsBuilder | null = null;
  let deviceCaps: CapsBuilder | null = null;
  let namesTarget: CapsBuilder | null = null;
  let serial: string | null = null;
  let formatType = '';
  let width: number | null = null;
  let height: number | null = null;
  let pixel: { fourcc: string; description: string } | null = null;
  let metadataFormat: string | null = null;
  let currentFrameInterval: FrameInterval | null = null;
  let section: InfoSection = 'preamble';
  let driverBlocks = 0;

  const readCaps = (line: Line, value: string): CapsBuilder => {
    const m = /^0x([0-9a-fA-F]{1,8})$/.exec(value);
    if (!m) warnings.add(line.no, `capability value "${value}" is not a 32-bit hex number.`);
    return { value: m ? Number.parseInt(m[1] as string, 16) : null, names: [] };
  };

  for (const line of toLines(text, warnings)) {
    if (line.indent === 0) {
      const name = headerName(line.text);
      section = infoSection(name);
      if (section === 'driver') driverBlocks += 1;
      if (section === 'format') formatType = name.slice('Format '.length);
      namesTarget = null;
      continue;
    }
    // Only the first Driver Info block counts (concatenated outputs of several devices).
    const inDriver =
      (section === 'driver' && driverBlocks === 1) ||
      (section === 'preamble' && driverBlocks === 0);
    const kv = keyValue(line.text);
    if (inDriver) {
      if (!kv) {
        // A capability name printed under Capabilities or Device Caps.
        if (namesTarget) namesTarget.names.push(line.text);
        else warnings.add(line.no, `unexpected line "${line.text}" in Driver Info.`);
        continue;
      }
      namesTarget = null;
      if (kv.key === 'Capabilities') {
        if (!capabilities) namesTarget = capabilities = readCaps(line, kv.value);
      } else if (kv.key === 'Device Caps') {
        if (!deviceCaps) namesTarget = deviceCaps = readCaps(line, kv.value);
      } else if (!fields.has(kv.key)) {
        fields.set(kv.key, kv.value);
      }
      continue;
    }
    if (!kv) continue;
    if (section === 'media' && kv.key === 'Serial') {
      serial = kv.value === '' ? null : kv.value;
    } else if (section === 'format' && kv.key === 'Width/Height') {
      const m = /^(\d{1,6})\/(\d{1,6})$/.exec(kv.value);
      width = dimension(m?.[1]);
      height = dimension(m?.[2]);
      if (width === null || height === null) {
        warnings.add(line.no, `current size "${kv.value}" is not WIDTH/HEIGHT.`);
      }
    } else if (section === 'format' && kv.key === 'Pixel Format') {
      const q = quotedFourcc(kv.value);
      if (q) pixel = { fourcc: q.fourcc, description: unparenthesize(q.rest).inner };
      else warnings.add(line.no, `current pixel format "${kv.value}" has no quoted fourcc.`);
    } else if (section === 'meta' && kv.key === 'Sample Format') {
      metadataFormat = quotedFourcc(kv.value)?.fourcc ?? null;
    } else if (section === 'parm' && kv.key === 'Frames per second') {
      // "30.000 (30/1)": the parenthesised fraction is frames per second, exact.
      const m = /^[\d.]{1,20} ?\((\d{1,10})\/(\d{1,10})\)$/.exec(kv.value);
      currentFrameInterval = m ? frameInterval(Number(m[2]), Number(m[1])) : null;
      if (!currentFrameInterval) {
        warnings.add(line.no, `frame rate "${kv.value}" is not "FPS (NUM/DEN)".`);
      }
    }
  }

  const driver = fields.get('Driver name');
  const card = fields.get('Card type');
  const busInfo = fields.get('Bus info');
  if (driver === undefined && card === undefined && busInfo === undefined && !capabilities) {
    return fail(
      'no_driver_info',
      'The output holds no Driver Info (driver name, card type, bus info or capabilities).',
      warnings,
    );
  }

  const effective = deviceCaps ?? capabilities;
  const has = (bit: number, name: string): boolean => {
    if (!effective) return false;
    if (effective.value !== null) return (effective.value & bit) !== 0;
    return effective.names.includes(name);
  };
  const single = has(V4L2_CAP.VIDEO_CAPTURE, 'Video Capture');
  const multiplanar = has(V4L2_CAP.VIDEO_CAPTURE_MPLANE, 'Video Capture Multiplanar');
  const capture = single || multiplanar;

  return succeed(
    {
      driver: driver ?? '',
      card: card ?? '',
      busInfo: busInfo ?? '',
      driverVersion: fields.get('Driver version') ?? '',
      capabilities,
      deviceCaps,
      capture,
      multiplanar,
      metadataOnly: !capture && has(V4L2_CAP.META_CAPTURE, 'Metadata Capture'),
      streaming: has(V4L2_CAP.STREAMING, 'Streaming'),
      serial,
      currentFormat:
        width !== null && height !== null && pixel
          ? { bufferType: formatType, width, height, ...pixel }
          : null,
      metadataFormat,
      currentFrameInterval,
    },
    warnings,
  );
}

// ---------------------------------------------------------------------------------------------
// --list-formats-ext

/**
 * The format flags v4l2-ctl prints after the description (fmtdesc2s in v4l2-info.cpp);
 * unknown bits are printed as `0x%08x`.
 */
const FORMAT_FLAGS: ReadonlySet<string> = new Set([
  'compressed',
  'emulated',
  'continuous-bytestream',
  'dyn-resolution',
  'enc-cap-frame-interval',
  'csc-colorspace',
  'csc-ycbcr',
  'csc-hsv',
  'csc-quantization',
  'csc-xfer-func',
  'meta-line-based',
]);

function isFormatFlag(word: string): boolean {
  return FORMAT_FLAGS.has(word) || /^0x[0-9a-f]{8}$/.test(word);
}

/**
 * Splits `Motion-JPEG, compressed` into the description and its trailing flags. Only known
 * flag words are taken, so a description with a comma of its own stays whole.
 */
function splitFlags(inner: string): { description: string; flags: string[] } {
  const flags: string[] = [];
  let description = inner;
  for (;;) {
    const comma = description.lastIndexOf(', ');
    if (comma < 0) break;
    const word = description.slice(comma + 2).trim();
    if (!isFormatFlag(word)) break;
    flags.unshift(word);
    description = description.slice(0, comma).trimEnd();
  }
  return { description, flags };
}

/** Flags alone, as in the old style's `Pixel Format: 'MJPG' (compressed, emulated)`. */
function flagList(inner: string): string[] {
  return inner
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

interface MutableSize {
  readonly kind: 'discrete';
  readonly width: number;
  readonly height: number;
  readonly intervals: FrameInterval[];
  readonly intervalRanges: FrameIntervalRange[];
  readonly seen: Set<string>;
}

interface MutableFormat {
  fourcc: string;
  description: string;
  flags: string[];
  bufferType: string;
  sizes: (MutableSize | FrameSizeRange)[];
  sizeKeys: Map<string, MutableSize | FrameSizeRange>;
}

const NUM = '(\\d{1,9}(?:\\.\\d{1,9})?)';
const DISCRETE_SIZE = /^(\d{1,6})x(\d{1,6})$/;
const SIZE_RANGE =
  /^(\d{1,6})x(\d{1,6}) ?- ?(\d{1,6})x(\d{1,6})(?: with step (\d{1,6})\/(\d{1,6}))?$/;
const DISCRETE_INTERVAL = new RegExp(`^${NUM}s \\(${NUM} fps\\)$`);
const INTERVAL_RANGE = new RegExp(
  `^${NUM}s - ${NUM}s(?: with step ${NUM}s)? \\(${NUM}-${NUM} fps\\)$`,
);

/** Parses a `Size:` line's text after the kind word. */
function readSize(
  kind: string,
  rest: string,
  line: Line,
  warnings: Warnings,
): { size: FrameSizeRange | { width: number; height: number }; key: string } | null {
  if (kind === 'Discrete') {
    const m = DISCRETE_SIZE.exec(rest);
    const width = dimension(m?.[1]);
    const height = dimension(m?.[2]);
    if (width === null || height === null) {
      warnings.add(line.no, `frame size "${rest}" is not WIDTHxHEIGHT.`);
      return null;
    }
    return { size: { width, height }, key: `${width}x${height}` };
  }
  const m = SIZE_RANGE.exec(rest);
  if (!m) {
    // Some v4l-utils releases print nothing after "Continuous": the range is not known.
    warnings.add(line.no, `frame size range "${`${kind} ${rest}`.trim()}" cannot be read.`);
    return null;
  }
  const [minWidth, minHeight, maxWidth, maxHeight] = [m[1], m[2], m[3], m[4]].map(dimension);
  let stepWidth = m[5] === undefined ? 1 : Number(m[5]);
  let stepHeight = m[6] === undefined ? 1 : Number(m[6]);
  if (
    minWidth == null ||
    minHeight == null ||
    maxWidth == null ||
    maxHeight == null ||
    minWidth > maxWidth ||
    minHeight > maxHeight
  ) {
    warnings.add(line.no, `frame size range "${rest}" is empty or out of bounds.`);
    return null;
  }
  if (stepWidth < 1 || stepHeight < 1) {
    warnings.add(line.no, `frame size step in "${rest}" is 0; taking 1.`);
    stepWidth = Math.max(1, stepWidth);
    stepHeight = Math.max(1, stepHeight);
  }
  const size: FrameSizeRange = {
    kind: kind === 'Stepwise' ? 'stepwise' : 'continuous',
    minWidth,
    maxWidth,
    stepWidth,
    minHeight,
    maxHeight,
    stepHeight,
  };
  return { size, key: JSON.stringify(size) };
}

/** Parses an `Interval:` line's text after the kind word. */
function readInterval(
  kind: string,
  rest: string,
): { interval: FrameInterval } | { range: FrameIntervalRange } | null {
  if (kind === 'Discrete') {
    const m = DISCRETE_INTERVAL.exec(rest);
    if (!m) return null;
    const interval = intervalFromFps(Number(m[2])) ?? intervalFromSeconds(Number(m[1]));
    return interval ? { interval } : null;
  }
  const m = INTERVAL_RANGE.exec(rest);
  if (!m) return null;
  // "MIN s - MAX s [with step STEP s] (LOWFPS-HIGHFPS fps)": the shortest interval is the
  // highest rate.
  const min = intervalFromFps(Number(m[5])) ?? intervalFromSeconds(Number(m[1]));
  const max = intervalFromFps(Number(m[4])) ?? intervalFromSeconds(Number(m[2]));
  const step = m[3] === undefined ? null : intervalFromSeconds(Number(m[3]));
  if (!min || !max) return null;
  return { range: { kind: kind === 'Stepwise' ? 'stepwise' : 'continuous', min, max, step } };
}

/**
 * Parses `--list-formats-ext` (or `--list-formats`) output, also when it follows `--all` or
 * `-D` output in the same text. Format lines are read after an `ioctl: VIDIOC_ENUM_FMT` line,
 * or from the start of the text when no other section came first; another top-level line
 * ends the list, so `--all`'s `Format Video Capture:` section is never taken for a format.
 *
 * Devices report duplicates (the Arducam H264 node lists 1920x1080 twice, with its 30 fps
 * interval twice): a size listed again is merged into its first occurrence and a repeated
 * interval is dropped, keeping the device's order. A fourcc listed twice under the same
 * buffer type is merged likewise.
 *
 * Fails only when the text has neither an `ioctl: VIDIOC_ENUM_FMT` line nor any format line;
 * a node that lists no formats (a metadata node) gives an empty list.
 */
export function parseFormats(text: unknown): ParseResult<PixelFormat[]> {
  const warnings = new Warnings();
  if (typeof text !== 'string' || text.trim() === '') {
    return refusal(text, 'v4l2-ctl --list-formats-ext', warnings);
  }

  const formats = new Map<string, MutableFormat>();
  let sawHeader = false;
  let sawTopLevel = false;
  let inList = false;
  let bufferType = 'Video Capture';
  let current: MutableFormat | null = null;
  let currentSize: MutableSize | null = null;
  /** Old style: an `Index :` line opened an entry that its `Pixel Format:` line completes. */
  let oldEntryOpen = false;

  const openFormat = (fourcc: string, description: string, flags: string[]): MutableFormat => {
    const key = `${bufferType}\u0000${fourcc}`;
    let format = formats.get(key);
    if (!format) {
      format = { fourcc, description, flags, bufferType, sizes: [], sizeKeys: new Map() };
      formats.set(key, format);
    }
    return format;
  };

  for (const line of toLines(text, warnings)) {
    if (line.indent === 0) {
      sawTopLevel = true;
      inList = line.text.startsWith('ioctl: VIDIOC_ENUM_FMT');
      if (inList) {
        sawHeader = true;
        bufferType = 'Video Capture';
      }
      current = null;
      currentSize = null;
      oldEntryOpen = false;
      continue;
    }
    if (!inList && sawTopLevel) continue;
    const t = line.text;

    if (t.startsWith('[')) {
      // "[12]: 'BA81' (8-bit Bayer BGBG/GRGR)" or "[0]: 'MJPG' (Motion-JPEG, compressed)"
      const m = /^\[(\d{1,6})\]: ?(.*)$/.exec(t);
      const q = m ? quotedFourcc(m[2] as string) : null;
      current = null;
      currentSize = null;
      oldEntryOpen = false;
      if (!q) {
        warnings.add(line.no, `format line "${t}" has no quoted fourcc.`);
        continue;
      }
      const { inner, closed } = unparenthesize(q.rest);
      if (!closed) warnings.add(line.no, `format line "${t}" is cut short.`);
      const { description, flags } = splitFlags(inner);
      current = openFormat(q.fourcc, description, flags);
      continue;
    }

    const kv = keyValue(t);
    if (!kv) continue;
    switch (kv.key) {
      case 'Type':
        bufferType = kv.value;
        break;
      case 'Index':
        current = null;
        currentSize = null;
        oldEntryOpen = true;
        break;
      case 'Pixel Format': {
        if (!oldEntryOpen) break;
        oldEntryOpen = false;
        const q = quotedFourcc(kv.value);
        if (!q) {
          warnings.add(line.no, `format line "${t}" has no quoted fourcc.`);
          break;
        }
        current = openFormat(q.fourcc, '', flagList(unparenthesize(q.rest).inner));
        break;
      }
      case 'Name':
        if (current && current.description === '') current.description = kv.value;
        break;
      case 'Size': {
        currentSize = null;
        const space = kv.value.indexOf(' ');
        const kind = space < 0 ? kv.value : kv.value.slice(0, space);
        const rest = space < 0 ? '' : kv.value.slice(space + 1).trim();
        if (kind !== 'Discrete' && kind !== 'Stepwise' && kind !== 'Continuous') {
          warnings.add(line.no, `frame size kind "${kind}" is unknown.`);
          break;
        }
        if (!current) {
          warnings.add(line.no, 'frame size outside any format.');
          break;
        }
        const read = readSize(kind, rest, line, warnings);
        if (!read) break;
        const existing = current.sizeKeys.get(read.key);
        if (existing) {
          currentSize = existing.kind === 'discrete' ? existing : null;
          break;
        }
        if ('kind' in read.size) {
          current.sizes.push(read.size);
          current.sizeKeys.set(read.key, read.size);
        } else {
          const size: MutableSize = {
            kind: 'discrete',
            width: read.size.width,
            height: read.size.height,
            intervals: [],
            intervalRanges: [],
            seen: new Set(),
          };
          current.sizes.push(size);
          current.sizeKeys.set(read.key, size);
          currentSize = size;
        }
        break;
      }
      case 'Interval': {
        if (!currentSize) {
          warnings.add(line.no, 'frame interval outside any discrete frame size.');
          break;
        }
        const space = kv.value.indexOf(' ');
        const kind = space < 0 ? kv.value : kv.value.slice(0, space);
        const rest = space < 0 ? '' : kv.value.slice(space + 1).trim();
        const read =
          kind === 'Discrete' || kind === 'Stepwise' || kind === 'Continuous'
            ? readInterval(kind, rest)
            : null;
        if (!read) {
          warnings.add(line.no, `frame interval "${kv.value}" cannot be read.`);
          break;
        }
        const key = JSON.stringify(read);
        if (currentSize.seen.has(key)) break;
        currentSize.seen.add(key);
        if ('interval' in read) currentSize.intervals.push(read.interval);
        else currentSize.intervalRanges.push(read.range);
        break;
      }
      default:
        break;
    }
  }

  if (!sawHeader && formats.size === 0) {
    return fail(
      'no_format_list',
      'The output holds no format list (no "ioctl: VIDIOC_ENUM_FMT" line and no format).',
      warnings,
    );
  }

  const value: PixelFormat[] = [...formats.values()].map((f) => ({
    fourcc: f.fourcc,
    description: f.description,
    compressed: f.flags.includes('compressed'),
    flags: f.flags,
    bufferType: f.bufferType,
    sizes: f.sizes.map((s) =>
      s.kind === 'discrete'
        ? {
            kind: 'discrete',
            width: s.width,
            height: s.height,
            intervals: s.intervals,
            intervalRanges: s.intervalRanges,
          }
        : s,
    ),
  }));
  return succeed(value, warnings);
}

// ---------------------------------------------------------------------------------------------
// --list-devices

/**
 * Splits a group header `NAME (BUS):` (v4l2-ctl always prints the parentheses, empty or not)
 * at its last balanced parenthesis, since a card name may
 * hold parentheses of its own (`UVC Camera (534d:2109): USB Vid (usb-0000:00:14.0-1):`) and a
 * platform bus info may hold spaces (`platform: rkisp`).
 */
function groupHeader(text: string): { name: string; bus: string } | null {
  if (!text.endsWith('):')) return null;
  const body = text.slice(0, -1);
  let depth = 0;
  for (let i = body.length - 1; i >= 0; i -= 1) {
    const c = body[i];
    if (c === ')') depth += 1;
    else if (c === '(') {
      depth -= 1;
      if (depth === 0) return { name: body.slice(0, i).trimEnd(), bus: body.slice(i + 1, -1) };
    }
  }
  return null;
}

/**
 * Parses `--list-devices` output into groups. A node line may carry the symbolic links to it
 * (`/dev/video0 <- /dev/video`); only the node is kept. Blank input is a valid empty list
 * (v4l2-ctl prints nothing on stdout when there is no device); other text with no group
 * fails.
 */
export function parseListDevices(text: unknown): ParseResult<DeviceGroup[]> {
  const warnings = new Warnings();
  if (typeof text !== 'string') return refusal(text, 'v4l2-ctl --list-devices', warnings);
  if (text.trim() === '') return succeed([], warnings);

  interface MutableGroup {
    name: string;
    bus: string;
    nodes: string[];
    mediaNodes: string[];
    otherNodes: string[];
  }
  const groups: MutableGroup[] = [];
  let current: MutableGroup | null = null;

  for (const line of toLines(text, warnings)) {
    if (line.indent === 0) {
      const header = groupHeader(line.text);
      current = header ? { ...header, nodes: [], mediaNodes: [], otherNodes: [] } : null;
      if (current) groups.push(current);
      else warnings.add(line.no, `"${line.text}" is not a device group header.`);
      continue;
    }
    const node = line.text.split(' <- ')[0]?.trim() ?? '';
    if (!current || !/^\/dev\/\S+$/.test(node)) {
      warnings.add(line.no, `"${line.text}" is not a device node of a group.`);
      continue;
    }
    if (/^\/dev\/video\d+$/.test(node)) current.nodes.push(node);
    else if (/^\/dev\/media\d+$/.test(node)) current.mediaNodes.push(node);
    else current.otherNodes.push(node);
  }

  if (groups.length === 0) {
    return fail('no_device_list', 'The output holds no device group ("NAME (BUS):").', warnings);
  }
  return succeed(groups, warnings);
}

// ---------------------------------------------------------------------------------------------
// The camera API's capabilities

/**
 * Common sizes offered for a stepwise or continuous range, since a range cannot be listed
 * whole (the imx708 through unicam accepts any size from 16x16 to 16376x16376).
 */
const COMMON_SIZES: ReadonlyArray<readonly [number, number]> = [
  [3840, 2160],
  [2592, 1944],
  [2560, 1440],
  [1920, 1080],
  [1600, 1200],
  [1280, 960],
  [1280, 720],
  [1024, 768],
  [800, 600],
  [640, 480],
  [640, 360],
  [352, 288],
  [320, 240],
  [176, 144],
  [160, 120],
];

/** Common rates offered for an interval range, besides its highest rate. */
const COMMON_RATES: readonly number[] = [120, 60, 50, 30, 25, 24, 20, 15, 10, 5];

/** Whether `width x height` is one of the sizes a range allows. */
export function rangeIncludes(range: FrameSizeRange, width: number, height: number): boolean {
  return (
    width >= range.minWidth &&
    width <= range.maxWidth &&
    (width - range.minWidth) % range.stepWidth === 0 &&
    height >= range.minHeight &&
    height <= range.maxHeight &&
    (height - range.minHeight) % range.stepHeight === 0
  );
}

/**
 * The camera API's `capabilities` (SPEC section 3) from parsed formats: the capture formats'
 * fourccs; every discrete size plus, for a size range, the common sizes it allows (its
 * largest size when none fits); every listed frame rate plus, for an interval range, the
 * common rates inside it and its highest rate.
 */
export function summarizeCapabilities(formats: readonly PixelFormat[]): CameraCapabilities {
  const fourccs = new Set<string>();
  const sizes = new Map<string, readonly [number, number]>();
  const rates = new Set<number>();
  const addSize = (w: number, h: number): void => {
    sizes.set(`${w}x${h}`, [w, h]);
  };

  for (const format of formats) {
    if (!isCaptureBufferType(format.bufferType)) continue;
    fourccs.add(format.fourcc);
    for (const size of format.sizes) {
      if (size.kind !== 'discrete') {
        const fitting = COMMON_SIZES.filter(([w, h]) => rangeIncludes(size, w, h));
        if (fitting.length === 0) addSize(size.maxWidth, size.maxHeight);
        for (const [w, h] of fitting) addSize(w, h);
        continue;
      }
      addSize(size.width, size.height);
      for (const interval of size.intervals) rates.add(interval.fps);
      for (const range of size.intervalRanges) {
        rates.add(range.min.fps);
        for (const r of COMMON_RATES) if (r >= range.max.fps && r <= range.min.fps) rates.add(r);
      }
    }
  }

  return {
    formats: [...fourccs],
    resolutions: [...sizes.entries()]
      .sort(([, [aw, ah]], [, [bw, bh]]) => bw * bh - aw * ah || bw - aw)
      .map(([key]) => key),
    frame_rates: [...rates].sort((a, b) => b - a),
  };
}
