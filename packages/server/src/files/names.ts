/**
 * File names of snapshots and recordings: the default ones (sortable, collision-free)
 * and the rules a caller's name must follow (SPEC section 5).
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ServiceError } from '../errors/index.js';

/** 2025-01-15_14-30-00 in local time: sorts by name as by time. */
export function fileTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}_` +
    `${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`
  );
}

/** camera0_2025-01-15_14-30-00_ab12cd.jpg */
export function snapshotName(stream: string, date: Date, extension: string): string {
  return `${stream}_${fileTimestamp(date)}_${randomBytes(3).toString('hex')}.${extension}`;
}

/** camera0_2025-01-15_14-30-00.mp4 (the session's first segment; later ones get their start time). */
export function recordingName(stream: string, date: Date, extension: string): string {
  return `${stream}_${fileTimestamp(date)}.${extension}`;
}

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The extension of a name, lower case, without the dot ('' when it has none). */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * Whether `name` is a plain media file name with one of the extensions: the only names
 * the service lists, serves or deletes (so no separator, `..`, control character or
 * hidden file can ever reach the file system through a name).
 */
export function isMediaName(name: string, extensions: readonly string[]): boolean {
  return PLAIN.test(name) && !name.includes('..') && extensions.includes(extensionOf(name));
}

/**
 * A caller's file name: a plain name (letters, digits, '.', '_', '-'; no separators, no
 * '..', no control characters, at most 200 characters) with one of the allowed
 * extensions. Throws -1011 with what is wrong.
 */
export function checkFilename(name: string, extensions: readonly string[]): string {
  const bad = (why: string) =>
    new ServiceError('invalid_filename', `The file name ${JSON.stringify(name)} ${why}.`, {
      filename: name,
    });
  if (!PLAIN.test(name) || name.includes('..')) {
    throw bad(
      'is not a plain file name: use letters, digits, ".", "_" and "-" only, at most 200 characters, without "/" or ".."',
    );
  }
  if (!extensions.includes(extensionOf(name))) {
    throw bad(`must end with ${extensions.map((e) => `.${e}`).join(' or ')}`);
  }
  return name;
}

/**
 * The path to open for `name` in `dir`: the file itself, or, for a symbolic link, what it
 * points to when that is a plain media name (with one of `extensions`) directly in `dir`
 * too; null otherwise (missing, a link leading out, to a hidden file or to a folder).
 * Open the result with O_NOFOLLOW (see `openInside`), so a link swapped in after this
 * check is not followed.
 */
export async function resolveInside(
  dir: string,
  name: string,
  extensions: readonly string[],
): Promise<string | null> {
  const file = join(dir, name);
  const link = await lstat(file).catch(() => null);
  if (!link) return null;
  if (!link.isSymbolicLink()) return file;
  const [real, realDir] = await Promise.all([
    realpath(file).catch(() => null),
    realpath(dir).catch(() => null),
  ]);
  if (!real || !realDir || dirname(real) !== realDir) return null;
  return isMediaName(basename(real), extensions) ? real : null;
}

/**
 * Whether what a media name leads to may be listed, served, probed or deleted: a regular
 * file with no other hard link. A second link could be anywhere on the volume, so a file
 * linked into the directory from outside it (or out of it) is treated as absent.
 */
export function isOwnFile(stats: Stats): boolean {
  return stats.isFile() && stats.nlink === 1;
}
