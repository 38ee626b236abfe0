/**
 * Takes one file out of a .tar.gz held in memory: what a MediaMTX release archive is
 * (`mediamtx`, `mediamtx.yml`, `LICENSE`). Reads ustar and GNU headers, skips pax and
 * long-name records, and refuses anything past the size bounds; no tar(1) needed.
 */
import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

/** Thrown with a sentence for an archive that is not what a release holds. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

function octal(header: Buffer, start: number, length: number): number {
  const text = field(header, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new ArchiveError('the archive has a corrupt tar header');
  return text === '' ? 0 : parseInt(text, 8);
}

/** Whether the bytes start like gzip (1f 8b). */
export function isGzip(data: Buffer): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/**
 * The content of the regular file called `name` (at the top of the archive, or under
 * one directory) in the gzip-compressed tar `data`; `maxBytes` bounds the unpacked size.
 */
export function extractFile(data: Buffer, name: string, maxBytes: number): Buffer {
  let tar: Buffer;
  try {
    tar = gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArchiveError(
      code === 'ERR_BUFFER_TOO_LARGE'
        ? `the archive unpacks to more than ${maxBytes} bytes, more than a MediaMTX release`
        : 'the file is not a valid .tar.gz archive',
    );
  }
  const names: string[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = field(header, 345, 155);
    const entry = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new ArchiveError('the archive is truncated');
    const path = entry.replace(/^\.\//, '');
    const isFile = type === '0' || type === '\0';
    if (isFile) names.push(path);
    if (isFile && (path === name || path.split('/').slice(1).join('/') === name)) {
      return Buffer.from(tar.subarray(start, start + size));
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new ArchiveError(
    `the archive holds no file named ${name} (it holds ${names.length > 0 ? names.slice(0, 8).join(', ') : 'no files'})`,
  );
}
