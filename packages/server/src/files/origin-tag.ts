/**
 * Which camera made a snapshot, written into the JPEG itself: a comment segment (COM,
 * `FF FE`) after the file's leading application segments, holding
 * `camera-service origin {"device":"/dev/video0","stream":"camera0"}`. Any viewer ignores
 * it, and it goes wherever the file goes (a restart, a backup, a copy of the directory), so
 * listings, the device filter and get_snapshot_info know the camera whatever the file is
 * named. The catalog reads it back from the first bytes of each new or changed file.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

export interface FileOrigin {
  /** The camera's device: `/dev/video0`, or a declared camera's id. */
  device: string;
  /** Its stream path: `camera0`, or the declared id. */
  stream: string;
}

const PREFIX = 'camera-service origin ';
/** Bytes read first; a tag written by the service sits within the first hundred or so. */
const HEAD_BYTES = 4096;
/** Bytes read at most, for a file with large application segments (EXIF) before the tag. */
const MAX_HEAD_BYTES = 65_536;
const MAX_FIELD = 256;

const SOI = 0xd8;
const SOS = 0xda;
const EOI = 0xd9;
const COM = 0xfe;
const isApp = (marker: number) => marker >= 0xe0 && marker <= 0xef;
/** Markers without a length: SOI, EOI, RSTn, TEM. */
const standalone = (marker: number) =>
  marker === SOI || marker === EOI || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01;

/**
 * The JPEG with the origin comment added after SOI and the application segments that follow
 * it (JFIF wants APP0 first). A buffer that does not start like a JPEG is returned as it is.
 */
export function tagJpeg(jpeg: Buffer, origin: FileOrigin): Buffer {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return jpeg;
  const payload = Buffer.from(
    `${PREFIX}${JSON.stringify({ device: origin.device, stream: origin.stream })}`,
    'utf8',
  );
  if (payload.length + 2 > 0xffff) return jpeg;
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && isApp(jpeg[at + 1] as number)) {
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  if (at > jpeg.length) return jpeg;
  const segment = Buffer.alloc(4 + payload.length);
  segment[0] = 0xff;
  segment[1] = COM;
  segment.writeUInt16BE(payload.length + 2, 2);
  payload.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, at), segment, jpeg.subarray(at)]);
}

type Scan = { origin: FileOrigin | null } | { more: true };

/** Looks for the tag in the segments before the image data; `more` when `head` ends first. */
function scan(head: Buffer, complete: boolean): Scan {
  if (head.length < 2 || head[0] !== 0xff || head[1] !== SOI) return { origin: null };
  let at = 2;
  while (at + 2 <= head.length) {
    if (head[at] !== 0xff) return { origin: null };
    const marker = head[at + 1] as number;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === SOS || marker === EOI) return { origin: null };
    if (standalone(marker)) {
      at += 2;
      continue;
    }
    if (at + 4 > head.length) break;
    const length = head.readUInt16BE(at + 2);
    if (length < 2) return { origin: null };
    if (marker === COM) {
      if (at + 2 + length > head.length) break;
      const origin = parseOrigin(head.subarray(at + 4, at + 2 + length));
      if (origin) return { origin };
    }
    at += 2 + length;
  }
  return complete ? { origin: null } : { more: true };
}

function parseOrigin(payload: Buffer): FileOrigin | null {
  const text = payload.toString('utf8');
  if (!text.startsWith(PREFIX)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(PREFIX.length));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { device, stream } = value as Record<string, unknown>;
  const field = (v: unknown): v is string =>
    typeof v === 'string' &&
    v.length > 0 &&
    v.length <= MAX_FIELD &&
    ![...v].some((c) => c.charCodeAt(0) < 0x20);
  return field(device) && field(stream) ? { device, stream } : null;
}

/** The origin tag of a JPEG in its first bytes: null when it has none (or is not a JPEG). */
export function readOrigin(head: Buffer): FileOrigin | null {
  const found = scan(head, true);
  return 'origin' in found ? found.origin : null;
}

/**
 * The origin tag of a JPEG file, reading its first 4 KiB (64 KiB when large application
 * segments come first); null when it has none, or cannot be read.
 */
export async function readFileOrigin(file: string): Promise<FileOrigin | null> {
  let handle;
  try {
    // Not through a link swapped in after the catalog resolved the name.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    let size = HEAD_BYTES;
    for (;;) {
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buffer, 0, size, 0);
      const complete = bytesRead < size || size >= MAX_HEAD_BYTES;
      const found = scan(buffer.subarray(0, bytesRead), complete);
      if ('origin' in found) return found.origin;
      size = MAX_HEAD_BYTES;
    }
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
