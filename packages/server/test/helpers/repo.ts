/**
 * Where the repository is, found from this file rather than assumed, so that a clone
 * anywhere runs the same tests; and `../shared` beside it, which holds the reference
 * material some tests compare against (MediaMTX's own configuration and API description).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
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

/**
 * Why running `npm start` or `npm test` from this checkout would first run `npm ci`
 * (a manifest is newer than the install), or null. A test that starts them must not: the
 * reinstall would pull node_modules from under the tests running beside it.
 */
export function pendingInstall(): string | null {
  const mtime = (path: string) => (existsSync(path) ? statSync(path).mtimeMs : 0);
  const installed = mtime(join(REPO_ROOT, 'node_modules', '.package-lock.json'));
  const manifests = [
    'package.json',
    'package-lock.json',
    ...readdirSync(join(REPO_ROOT, 'packages')).map((p) => join('packages', p, 'package.json')),
  ];
  const newer = manifests.filter((m) => mtime(join(REPO_ROOT, m)) > installed);
  return newer.length > 0
    ? `npm start would run npm ci first (${newer.join(', ')} newer than node_modules): run npm ci`
    : null;
}
