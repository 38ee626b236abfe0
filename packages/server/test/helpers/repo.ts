/**
 * Where the repository is, found from this file rather than assumed, so that a clone
 * anywhere runs the same tests; and `../shared` beside it, which holds the reference
 * material some tests compare against (MediaMTX's own configuration and API description).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json')) && existsSync(join(dir, 'packages'))) {
      return dir;
    }
  }
  throw new Error(`no repository root (package-lock.json beside packages/) above ${from}`);
}

/** The repository root (the directory with package-lock.json and packages/). */
export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The shared reference directory, beside the repository. */
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');

/**
 * A file under ../shared, or why a test that needs it cannot run: the reason to give
 * `t.skip()`, naming the file, so that a skip says what it skipped and why.
 */
export function sharedFile(path: string): { file: string; missing: string | null } {
  const file = join(SHARED_DIR, path);
  return {
    file,
    missing: existsSync(file)
      ? null
      : `${file} is absent (the reference material is expected in ../shared beside the repository)`,
  };
}
