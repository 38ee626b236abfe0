/**
 * Finds the `mediamtx` executable for managed mode: the configured path, or else the
 * first `mediamtx` in PATH.
 *
 * A configured path that is wrong is an error, not a reason to fall back to PATH or to
 * the embedded relay: the operator asked for that binary, and silently running another
 * one (or none) would hide the mistake. Not finding one in PATH is not an error: `auto`
 * mode then uses the embedded relay.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export interface FoundBinary {
  /** Absolute path of the executable. */
  path: string;
  how: 'configured' | 'PATH';
}

const NAME = 'mediamtx';

/**
 * The mediamtx executable to run, or null when none is configured and none is in PATH.
 * `configured` is the `mediamtx.binary` setting: a path (relative ones are resolved
 * against the working directory), or a bare name looked up in PATH. Throws an Error
 * saying what to fix when the configured binary cannot be used.
 */
export function findMediaMtxBinary(
  configured: string | null,
  env: NodeJS.ProcessEnv = process.env,
): FoundBinary | null {
  if (configured !== null && configured.trim() !== '') {
    if (!configured.includes('/')) {
      const found = searchPath(configured, env.PATH);
      if (found === null) {
        throw new Error(
          `mediamtx.binary is ${configured}, which is not an executable file in any directory ` +
            `of PATH (${env.PATH ?? 'PATH is not set'}): give the full path of the binary instead`,
        );
      }
      return { path: found, how: 'configured' };
    }
    const path = resolve(configured);
    const problem = whyNotExecutable(path);
    if (problem !== null) throw new Error(`mediamtx.binary is ${configured}, which ${problem}`);
    return { path, how: 'configured' };
  }
  const found = searchPath(NAME, env.PATH);
  return found === null ? null : { path: found, how: 'PATH' };
}

/**
 * The first executable regular file called `name` in the PATH directories. Empty and
 * relative entries are skipped: they mean "the current directory", and the service
 * should not run whatever happens to lie in its working directory.
 */
function searchPath(name: string, pathVariable: string | undefined): string | null {
  if (!pathVariable) return null;
  for (const dir of pathVariable.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (whyNotExecutable(candidate) === null) return candidate;
  }
  return null;
}

/** null when `path` is an executable regular file (after symlinks), else the reason why not. */
function whyNotExecutable(path: string): string | null {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return 'does not exist: install MediaMTX there or correct the path';
    }
    if (code === 'EACCES') {
      return 'cannot be reached: the service has no permission to search one of its directories';
    }
    return `cannot be examined (${(error as Error).message})`;
  }
  if (stats.isDirectory()) return 'is a directory: give the path of the mediamtx binary in it';
  if (!stats.isFile()) return 'is not a regular file: give the path of the mediamtx binary';
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `is not executable: make it so (chmod +x ${path}) or correct the path`;
  }
  return null;
}
