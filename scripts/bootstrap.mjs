#!/usr/bin/env node
// `npm start`, `npm test` and `npm run bench` on any machine, fresh or not:
//   1. check Node, 2. install the system packages the service needs (ffmpeg, v4l-utils;
//   for tests also python3-websockets, python3-pytest and mypy, for the Python SDK)
//   with apt-get when root, else print the exact command, 3. install npm dependencies
//   when the lockfile changed, 4. build (incremental tsc, then the dashboard's bundle),
//   5. start / test / bench. Tests and bench also need Chromium (the dashboard's tests).
// Uses only Node's standard library: it runs before `npm ci`.
//
// `npm start` runs this with `exec`, so npm's child is this process, which then becomes
// the service: npm's SIGTERM and SIGINT reach it, its pid is the one to send SIGHUP to
// (it logs it), and it stops by itself when npm is gone (killed, or ended by a SIGHUP).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const [mode, ...args] = process.argv.slice(2);
/** Who started this (npm, under `npm start`): taken before the build, which npm may not outlive. */
const parentPid = process.ppid;
const say = (text) => process.stderr.write(`[setup] ${text}\n`);

const SYSTEM_TOOLS = [
  { command: 'ffmpeg', pkg: 'ffmpeg' },
  { command: 'ffprobe', pkg: 'ffmpeg' },
  { command: 'v4l2-ctl', pkg: 'v4l-utils' },
];
/**
 * What `npm test` needs besides, for the package tests (issue 17): building the .deb
 * (dpkg-dev, with binutils' strip), lintian, systemd-analyze, shellcheck, and debootstrap
 * with zstd for the cached Debian 12 root the package is installed into.
 */
const PACKAGE_TOOLS = [
  { command: 'dpkg-shlibdeps', pkg: 'dpkg-dev' },
  { command: 'strip', pkg: 'binutils' },
  { command: 'lintian', pkg: 'lintian' },
  { command: 'systemd-analyze', pkg: 'systemd' },
  { command: 'shellcheck', pkg: 'shellcheck' },
  { command: 'debootstrap', pkg: 'debootstrap' },
  { command: 'zstd', pkg: 'zstd' },
];
/** What `npm test` and `npm run bench` need besides: Chromium, driven by the SDK's and the dashboard's tests. */
const BROWSER_TOOLS = [{ command: 'chromium', pkg: 'chromium' }];
/** What `npm run bench` needs besides: nginx and curl, to compare file downloads against. */
const BENCH_TOOLS = [
  { command: 'nginx', pkg: 'nginx' },
  { command: 'curl', pkg: 'curl' },
];
/**
 * Python modules of the Python SDK (sdk-python/): its tests (`npm test`) and its bench
 * section. Modules are no commands: each is checked by importing it with Debian's python3
 * (where apt-get installs them; TEST_PYTHON chooses another, as in run-tests.mjs).
 */
const PYTHON_TOOLS = [
  { module: 'websockets', pkg: 'python3-websockets' },
  { module: 'pytest', pkg: 'python3-pytest' },
  { module: 'mypy', pkg: 'mypy' },
];
const python = () =>
  process.env.TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function importable(module) {
  return spawnSync(python(), ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

const present = (tool) => (tool.module ? importable(tool.module) : onPath(tool.command));
/**
 * What `npm test` needs besides: nginx and openssl (the TLS proxy test), promtool (the
 * alert rules' checks and unit tests; Debian ships it in `prometheus`).
 */
const TEST_TOOLS = [
  { command: 'nginx', pkg: 'nginx' },
  { command: 'openssl', pkg: 'openssl' },
  { command: 'promtool', pkg: 'prometheus' },
];

function fail(text) {
  process.stderr.write(`[setup] ${text}\n`);
  process.exit(1);
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function runOrFail(command, commandArgs, what, env = process.env) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) fail(`${what} failed (${command} ${commandArgs.join(' ')}).`);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 11)) {
    fail(`Node.js ${process.versions.node} is too old: install Node.js 20.11 or newer.`);
  }
}

function ensureSystemPackages({ required, tools = SYSTEM_TOOLS }) {
  const missing = [...new Set(tools.filter((t) => !present(t)).map((t) => t.pkg))];
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    say(`installing ${missing.join(', ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    runOrFail('apt-get', ['update', '-qq'], 'apt-get update', env);
    runOrFail(
      'apt-get',
      ['install', '-y', '-qq', '--no-install-recommends', ...missing],
      'apt-get install',
      env,
    );
    return;
  }
  const hint = `The service needs ${missing.join(' and ')}. Install ${missing.length > 1 ? 'them' : 'it'} with:\n    sudo ${command}`;
  if (required) fail(hint);
  say(`${hint}\n  Starting anyway: features that run ffmpeg or v4l2-ctl will report it missing.`);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function ensureDependencies() {
  const installed = mtime(join(root, 'node_modules', '.package-lock.json'));
  const manifests = [
    'package.json',
    'package-lock.json',
    ...readdirSync(join(root, 'packages')).map((pkg) => join('packages', pkg, 'package.json')),
  ];
  if (installed > 0 && manifests.every((m) => mtime(join(root, m)) <= installed)) return;
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const verb = existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install';
  say(`installing npm dependencies (npm ${verb})`);
  runOrFail(npm[0], [...npm.slice(1), verb, '--no-audit', '--no-fund'], `npm ${verb}`);
}

function build() {
  const first = !existsSync(join(root, 'packages', 'server', 'dist', 'src', 'main.js'));
  say(
    first
      ? 'building the TypeScript sources (tsc -b): the first build takes about half a minute, later ones seconds'
      : 'bringing the build up to date (tsc -b)',
  );
  const started = Date.now();
  runOrFail(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'],
    'The TypeScript build',
  );
  // The dashboard: esbuild bundles packages/web into packages/web/dist (checks its budget).
  runOrFail(
    process.execPath,
    [join(root, 'packages', 'web', 'dist', 'scripts', 'bundle.js')],
    'The dashboard bundle',
  );
  say(`build ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function step(name, command, commandArgs) {
  const started = Date.now();
  process.stderr.write(`\n== ${name}\n`);
  runOrFail(command, commandArgs, name);
  process.stderr.write(`== ${name}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

checkNode();
if (!['start', 'test', 'bench'].includes(mode))
  fail('usage: bootstrap.mjs start|test|bench [args...]');
ensureSystemPackages({
  required: mode === 'test',
  tools:
    mode === 'bench'
      ? [...SYSTEM_TOOLS, ...BENCH_TOOLS, ...BROWSER_TOOLS, ...PYTHON_TOOLS.slice(0, 1)]
      : mode === 'test'
        ? [...SYSTEM_TOOLS, ...TEST_TOOLS, ...BROWSER_TOOLS, ...PYTHON_TOOLS, ...PACKAGE_TOOLS]
        : SYSTEM_TOOLS,
});
ensureDependencies();
build();

if (mode === 'start') {
  const main = pathToFileURL(join(root, 'packages', 'server', 'dist', 'src', 'main.js')).href;
  const { run } = await import(main);
  say(`running camera-service${args.length > 0 ? ` ${args.join(' ')}` : ''}`);
  const code = await run(args, { parentPid });
  if (code !== undefined) process.exitCode = code;
} else if (mode === 'test') {
  const bin = (name, file) => [process.execPath, [join(root, 'node_modules', name, file)]];
  const [node, eslint] = bin('eslint', 'bin/eslint.js');
  step('lint', node, [...eslint, '--max-warnings', '0', '.']);
  const [, prettier] = bin('prettier', 'bin/prettier.cjs');
  step('format', node, [...prettier, '--check', '--log-level', 'warn', '.']);
  step('tests', node, [join(root, 'scripts', 'run-tests.mjs'), ...args]);
} else {
  step('bench', process.execPath, [join(root, 'bench', 'dist', 'run.js'), ...args]);
}
