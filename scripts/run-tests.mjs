#!/usr/bin/env node
// Runs the compiled test files with Node's test runner. A compiled test whose source
// was deleted is skipped, so a stale dist/ cannot run ghost tests.
// Usage: node scripts/run-tests.mjs [filter...]   (filters match test file paths)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const filters = process.argv.slice(2);

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.js'))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

const files = readdirSync(join(root, 'packages')).flatMap((pkg) => {
  const pkgDir = join(root, 'packages', pkg);
  return testFiles(join(pkgDir, 'dist', 'test')).filter((file) => {
    const source = join(pkgDir, relative(join(pkgDir, 'dist'), file)).replace(/\.js$/, '.ts');
    return existsSync(source);
  });
});
const selected = files
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (selected.length === 0) {
  process.stderr.write('No test files found: build first (npx tsc -b).\n');
  process.exit(1);
}
const runTests = (files, env = {}) =>
  spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-timeout=120000', '--enable-source-maps', ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, CAMERA_SERVICE_TEST: '1', ...env } },
  ).status ?? 1;

const status = runTests(selected);
// The service's media, camera and capture suites once more, against the embedded relay
// imitating MediaMTX v1.15 without a GOP cache (the other end of what it supports), so
// that a behaviour the service relies on holds for both. Only on a whole run, or when
// asked (TEST_BOTH_IMITATIONS=1).
const IMITATED = [
  '/server/dist/test/media/',
  '/server/dist/test/cameras/',
  '/server/dist/test/capture/',
];
const second = selected.filter((f) => IMITATED.some((dir) => f.includes(dir)));
let secondStatus = 0;
if ((filters.length === 0 || process.env.TEST_BOTH_IMITATIONS === '1') && second.length > 0) {
  process.stderr.write(
    '\n== the same media, camera and capture tests against a MediaMTX v1.15 imitation without GOP cache\n',
  );
  secondStatus = runTests(second, { TEST_MEDIAMTX_VERSION: '1.15', TEST_GOP_CACHE: 'off' });
}
process.exit(status !== 0 ? status : secondStatus);
