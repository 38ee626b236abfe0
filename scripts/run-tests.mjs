#!/usr/bin/env node
// Runs the compiled test files with Node's test runner. A compiled test whose source
// was deleted is skipped, so a stale dist/ cannot run ghost tests. At the end it names
// every test and suite that was skipped, with its reason (skip-reporter.mjs).
// In this order: the Node tests; on a whole run the media, camera and capture tests again
// against a MediaMTX v1.15 imitation; the Python SDK's pytest suite (sdk-python/tests)
// against the real service, on a whole run or when a filter names sdk-python
// (`sdk-python` or `sdk-python/tests/test_x.py`); last the package tests, one at a time.
// Usage: node scripts/run-tests.mjs [filter...]   (filters match test file paths)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const allFilters = process.argv.slice(2);
const pythonFilters = allFilters.filter((f) => f.startsWith('sdk-python'));
const filters = allFilters.filter((f) => !f.startsWith('sdk-python'));
const runNode = allFilters.length === 0 || filters.length > 0;
const runPython = allFilters.length === 0 || pythonFilters.length > 0;

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
if (runNode && selected.length === 0) {
  process.stderr.write('No test files found: build first (npx tsc -b).\n');
  process.exit(1);
}
const skipsDir = mkdtempSync(join(tmpdir(), 'camera-service-skips-'));
const skipFiles = [];
// The reporter Node picks by itself (spec on a terminal, else TAP), and the skip list.
const reporter = process.stdout.isTTY ? 'spec' : 'tap';
/**
 * Tests that build and install the Debian package (minutes each, issue 17): run in a pass
 * of their own after the others, one file at a time, with a longer limit.
 */
const HEAVY = ['/server/dist/test/deploy/package.test.js'];
const isHeavy = (file) => HEAVY.some((dir) => file.includes(dir));
const runLabels = [];
const runTests = (files, env = {}, timeoutMs = 120000, concurrency = 2, label = '') => {
  const skips = join(skipsDir, `run-${skipFiles.length}.jsonl`);
  skipFiles.push(skips);
  runLabels.push(label);
  return (
    spawnSync(
      process.execPath,
      [
        '--test',
        `--test-concurrency=${concurrency}`,
        `--test-timeout=${timeoutMs}`,
        '--enable-source-maps',
        `--test-reporter=${reporter}`,
        '--test-reporter-destination=stdout',
        `--test-reporter=${join(root, 'scripts', 'skip-reporter.mjs')}`,
        `--test-reporter-destination=${skips}`,
        ...files,
      ],
      { cwd: root, stdio: 'inherit', env: { ...process.env, CAMERA_SERVICE_TEST: '1', ...env } },
    ).status ?? 1
  );
};

/** Every skip of the runs, named: the source file, the test, and why. */
function reportSkips(labels) {
  const lines = skipFiles.flatMap((file, run) =>
    (existsSync(file) ? readFileSync(file, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const skip = JSON.parse(line);
        const source = skip.file
          ? relative(root, skip.file).replace('/dist/test/', '/test/').replace(/\.js$/, '.ts')
          : '?';
        const what = skip.suite ? `suite "${skip.name}" (none of its tests ran)` : `"${skip.name}"`;
        return `  ${source}: ${what}${labels[run]}: ${skip.reason}`;
      }),
  );
  rmSync(skipsDir, { recursive: true, force: true });
  const tests = lines.filter((l) => !l.includes('(none of its tests ran)')).length;
  const suites = lines.length - tests;
  process.stdout.write(
    lines.length === 0
      ? '\n== skipped: none\n'
      : `\n== skipped: ${tests} test${tests === 1 ? '' : 's'}` +
          (suites > 0 ? ` and ${suites} suite${suites === 1 ? '' : 's'}` : '') +
          `\n${lines.join('\n')}\n`,
  );
}

const light = runNode ? selected.filter((f) => !isHeavy(f)) : [];
const heavy = runNode ? selected.filter(isHeavy) : [];
let status = light.length > 0 ? runTests(light) : 0;
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
if (
  runNode &&
  (filters.length === 0 || process.env.TEST_BOTH_IMITATIONS === '1') &&
  second.length > 0
) {
  process.stderr.write(
    '\n== the same media, camera and capture tests against a MediaMTX v1.15 imitation without GOP cache\n',
  );
  secondStatus = runTests(
    second,
    { TEST_MEDIAMTX_VERSION: '1.15', TEST_GOP_CACHE: 'off' },
    120000,
    2,
    ' (v1.15 imitation run)',
  );
}
const pythonStatus = runPython ? runPytest() : 0;
// Last: building and installing the package leaves the disk busy writing back for a
// while, which would slow the real-time test patterns of the timing tests run after it.
if (heavy.length > 0) {
  process.stderr.write(
    '\n== the package tests: build, lintian, systemd-analyze, install in a Debian 12 root\n',
  );
  const heavyStatus = runTests(heavy, {}, 40 * 60_000, 1);
  if (status === 0) status = heavyStatus;
}
reportSkips(runLabels);

/**
 * The Python SDK's tests with Debian's python3 (where apt installs python3-websockets,
 * python3-pytest and mypy; TEST_PYTHON chooses another), bounded to 15 minutes.
 */
function runPytest() {
  const python =
    process.env.TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const targets = pythonFilters
    .map((f) => relative(join(root, 'sdk-python'), join(root, f)))
    .filter((t) => t !== '');
  process.stderr.write(`\n== the Python SDK's tests (${python} -m pytest, sdk-python/)\n`);
  const result = spawnSync(
    python,
    [
      '-m',
      'pytest',
      '-p',
      'no:cacheprovider',
      '-rs',
      ...(targets.length > 0 ? targets : ['tests']),
    ],
    {
      cwd: join(root, 'sdk-python'),
      stdio: 'inherit',
      timeout: 15 * 60_000,
      env: { ...process.env, PYTHONPATH: join(root, 'sdk-python'), PYTHONDONTWRITEBYTECODE: '1' },
    },
  );
  if (result.error) process.stderr.write(`pytest could not run: ${result.error.message}\n`);
  return result.status ?? 1;
}
process.exit(status !== 0 ? status : secondStatus !== 0 ? secondStatus : pythonStatus);
