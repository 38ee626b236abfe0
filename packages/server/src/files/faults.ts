/**
 * File-system faults in the media directories, as errors a user can act on: which
 * directory (by its configuration key, never its path), what is wrong with it, what cannot
 * be done because of it, and what to do. A missing, unreadable or read-only directory is
 * -1012 (storage_unavailable); a full disk is -1010 (storage_critical).
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { ServiceError } from '../errors/index.js';

export type MediaKind = 'recordings' | 'snapshots';

export type DirCause =
  'missing' | 'not_a_directory' | 'read_only' | 'permission_denied' | 'io_error' | 'full';

const KEYS: Record<MediaKind, string> = {
  recordings: 'storage.recordings_dir',
  snapshots: 'storage.snapshots_dir',
};

const CAUSES: Record<string, DirCause> = {
  ENOENT: 'missing',
  ENOTDIR: 'not_a_directory',
  EROFS: 'read_only',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  EIO: 'io_error',
  ENOSPC: 'full',
  EDQUOT: 'full',
};

const STATES: Record<DirCause, string> = {
  missing: 'is missing',
  not_a_directory: 'is not a directory',
  read_only: 'is read-only',
  permission_denied: 'is not accessible to the service (permission denied)',
  io_error: 'cannot be read or written (input/output error)',
  full: 'is on a full disk',
};

const REMEDIES: Record<DirCause, (key: string) => string> = {
  missing: (key) => `create it or point ${key} elsewhere`,
  not_a_directory: (key) => `make it a directory or point ${key} elsewhere`,
  read_only: (key) => `make it writable or point ${key} elsewhere`,
  permission_denied: (key) =>
    `give the service's user read and write access to it, or point ${key} elsewhere`,
  io_error: (key) => `check the disk (the kernel log says more) or point ${key} elsewhere`,
  full: () => 'free space: delete old files or set a retention policy',
};

/** The cause an error code stands for, or null when it is not a fault of the directory. */
export function faultCause(error: unknown): DirCause | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && Object.hasOwn(CAUSES, code) ? (CAUSES[code] ?? null) : null;
}

/** "the snapshots directory (storage.snapshots_dir) is read-only" */
export function describeFault(kind: MediaKind, cause: DirCause): string {
  return `the ${kind} directory (${KEYS[kind]}) ${STATES[cause]}`;
}

/**
 * The error for a directory's fault: "The snapshots directory (storage.snapshots_dir) is
 * read-only: snapshots cannot be saved; make it writable or point storage.snapshots_dir
 * elsewhere."
 */
export function storageError(kind: MediaKind, cause: DirCause, consequence: string): ServiceError {
  const what = describeFault(kind, cause);
  return new ServiceError(
    cause === 'full' ? 'storage_critical' : 'storage_unavailable',
    `${what.charAt(0).toUpperCase()}${what.slice(1)}: ${consequence}; ${REMEDIES[cause](KEYS[kind])}.`,
    { directory: KEYS[kind], cause },
  );
}

/**
 * A file-system error met while working in a media directory, as the error to answer;
 * the error itself when it is not one of the directory's faults. Callers deal first with
 * what concerns the file (ENOENT of a file that may be gone, EISDIR).
 */
export function storageFault(error: unknown, kind: MediaKind, consequence: string): unknown {
  if (error instanceof ServiceError) return error;
  const cause = faultCause(error);
  return cause ? storageError(kind, cause, consequence) : error;
}

/**
 * What is wrong with a media directory, or null: missing, not a directory, or lacking
 * read access (and write access when `write`). Asks the kernel (access(2), which also
 * answers EROFS for a read-only mount), so nothing is written to find out.
 */
export async function dirProblem(dir: string, write: boolean): Promise<DirCause | null> {
  try {
    const stats = await stat(dir);
    if (!stats.isDirectory()) return 'not_a_directory';
    await access(dir, constants.R_OK | constants.X_OK | (write ? constants.W_OK : 0));
    return null;
  } catch (error) {
    return faultCause(error) ?? 'io_error';
  }
}

/** Throws the directory's fault, if it has one. */
export async function checkDir(
  dir: string,
  kind: MediaKind,
  write: boolean,
  consequence: string,
): Promise<void> {
  const cause = await dirProblem(dir, write);
  if (cause) throw storageError(kind, cause, consequence);
}
