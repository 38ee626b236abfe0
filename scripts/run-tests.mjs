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
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', '--enable-source-maps', ...selected],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CAMERA_SERVICE_TEST: '1' } },
);
process.exit(result.status ?? 1);
