#!/usr/bin/env node
// `npm run package`: the Debian package (and a tarball with install.sh for systems
// without dpkg) for this machine's architecture, from the built workspace:
//   /usr/lib/camera-service/node/bin/node   this machine's Node.js (>= 20), stripped
//   /usr/lib/camera-service/app/            every workspace package (packages/*: its
//                                           package.json, bin/, dist/ without tests,
//                                           runtime scripts) and the production
//                                           dependencies (npm ci --omit=dev)
//   /usr/bin/<command>                      each workspace package's "bin" commands
//   /etc/camera-service/config.yml          the production configuration (conffile)
//   /lib/systemd/system/camera-service.service, maintainer scripts, man pages, docs
// Output: dist-package/camera-service_<version>_<arch>.deb and
// camera-service-<version>-linux-<arch>.tar.gz. Uses only Node's standard library.
//
// Usage: node scripts/package.mjs [--version V] [--out DIR] [--compression xz|gzip|zstd|none]
//                                 [--no-tarball] [--no-build]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const deploy = join(root, 'deploy');
const say = (text) => process.stderr.write(`[package] ${text}\n`);
const fail = (text) => {
  process.stderr.write(`[package] ${text}\n`);
  process.exit(1);
};

/** Commands of workspace packages that are development tools, not installed in /usr/bin. */
const DEV_COMMANDS = new Set(['camera-relay']);
/** Top-level entries of a workspace package that are sources or build state, not shipped. */
const SKIP_ENTRIES = new Set(['src', 'test', 'node_modules', 'bench', 'tsconfig.json']);
/** The service's command, which drops to the service user when run as root. */
const SERVICE_COMMAND = 'camera-service';
const PREFIX = '/usr/lib/camera-service';

function parseArgs(argv) {
  const options = {
    out: join(root, 'dist-package'),
    compression: 'xz',
    tarball: true,
    build: true,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      const next = argv[(i += 1)];
      if (next === undefined) fail(`${arg} needs a value.`);
      return next;
    };
    if (arg === '--version') options.version = value();
    else if (arg === '--out') options.out = value();
    else if (arg === '--compression') options.compression = value();
    else if (arg === '--no-tarball') options.tarball = false;
    else if (arg === '--no-build') options.build = false;
    else fail(`unknown option ${arg}; see the header of scripts/package.mjs.`);
  }
  if (!['xz', 'gzip', 'zstd', 'none'].includes(options.compression)) {
    fail(`--compression ${options.compression}: expected xz, gzip, zstd or none.`);
  }
  return options;
}

function run(command, args, what, extra = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...extra });
  if (result.error?.code === 'ENOENT') fail(`${what}: ${command} is not installed.`);
  if (result.status !== 0) fail(`${what} failed (${command} ${args.join(' ')}).`);
}

function output(command, args, extra = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...extra });
  if (result.status !== 0) {
    fail(`${command} ${args.join(' ')} failed: ${(result.stderr || result.error?.message) ?? ''}`);
  }
  return result.stdout;
}

/** The workspace packages, from the root package.json (a trailing /* lists a folder). */
function workspaces() {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return (manifest.workspaces ?? []).flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const dir = pattern.slice(0, -2);
    return readdirSync(join(root, dir))
      .filter((name) => existsSync(join(root, dir, name, 'package.json')))
      .map((name) => `${dir}/${name}`);
  });
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

function build(packages) {
  say('building (tsc -b)');
  run(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'],
    'the build',
    {
      cwd: root,
    },
  );
  // A package with a build of its own (the dashboard's bundler) builds with it.
  for (const pkg of packages) {
    const manifest = readJson(join(root, pkg, 'package.json'));
    if (manifest.scripts?.build && !/^tsc( -b)?$/.test(manifest.scripts.build.trim())) {
      say(`building ${manifest.name} (npm run build)`);
      run('npm', ['run', 'build', '--workspace', pkg], `the build of ${pkg}`, { cwd: root });
    }
  }
}

/** Copies a workspace package: everything but sources, tests, type maps and build state. */
function copyPackage(pkg, app) {
  const from = join(root, pkg);
  const to = join(app, pkg);
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    if (SKIP_ENTRIES.has(entry) || entry.endsWith('.tsbuildinfo') || entry.startsWith('.'))
      continue;
    cpSync(join(from, entry), join(to, entry), {
      recursive: true,
      filter: (source) => {
        const rel = relative(from, source);
        if (rel === join('dist', 'test') || rel === join('dist', 'bench')) return false;
        if (/\.(d\.ts|d\.ts\.map|js\.map|tsbuildinfo)$/.test(source)) return false;
        // TypeScript sources outside dist (e.g. scripts/*.ts) are compiled into dist.
        if (!rel.startsWith(`dist${'/'}`) && /\.tsx?$/.test(source)) return false;
        return true;
      },
    });
  }
  const scripts = join(to, 'scripts');
  if (existsSync(scripts) && readdirSync(scripts).length === 0)
    rmSync(scripts, { recursive: true });
}

/** What npm packages carry besides their code: tests, benchmarks, docs, tool configs. */
const PRUNE_DIRS = new Set([
  'test',
  'tests',
  '__tests__',
  'benchmarks',
  'bench',
  'docs',
  'example',
  'examples',
  '.github',
]);
const PRUNE_FILES =
  /^(\.eslintrc.*|\.npmignore|\.gitattributes|\.editorconfig|\.travis\.yml|\.prettierrc.*|.*\.md|.*\.markdown|.*\.html|.*\.d\.ts|.*\.map|tsconfig.*\.json)$/i;

function pruneDependencies(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      if (PRUNE_DIRS.has(entry.name)) rmSync(path, { recursive: true });
      else pruneDependencies(path);
    } else if (PRUNE_FILES.test(entry.name) && !/^licen[cs]e/i.test(entry.name)) {
      rmSync(path);
    }
  }
}

/** Node's own licence file, which ships beside the runtime. */
function nodeLicense() {
  const exe = process.execPath;
  const candidates = [
    join(dirname(dirname(exe)), 'LICENSE'),
    join(dirname(dirname(exe)), 'share', 'doc', 'node', 'LICENSE'),
    '/usr/share/doc/nodejs/LICENSE',
    '/usr/local/share/doc/node/LICENSE',
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found) {
    fail(`cannot find the licence of the Node.js runtime (looked at ${candidates.join(', ')}).`);
  }
  return found;
}

function wrapper(command, binFile) {
  const exec = `"${PREFIX}/node/bin/node" "${PREFIX}/app/${binFile}" "$@"`;
  const drop =
    command === SERVICE_COMMAND
      ? `: "\${CAMERA_SERVICE_CONFIG:=/etc/camera-service/config.yml}"
export CAMERA_SERVICE_CONFIG
# As root, every command but \`mediamtx install\` runs as the service user, so the files
# it writes (API keys) belong to the service. CAMERA_SERVICE_AS_ROOT=1 keeps root.
if [ "$(id -u)" = 0 ] && [ "\${1:-}" != mediamtx ] && [ -z "\${CAMERA_SERVICE_AS_ROOT:-}" ] &&
	getent passwd camera-service >/dev/null; then
	exec setpriv --reuid=camera-service --regid=camera-service --init-groups -- ${exec}
fi
`
      : '';
  return `#!/bin/sh
# ${command}, as the camera-service package installs it: the bundled Node.js runs it.
${drop}exec ${exec}
`;
}

/** A man page made from the command's --help. */
function manPage(command, help, version) {
  const escape = (line) => line.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');
  const summary = help.split('\n').find((l) => l.trim() && !l.startsWith('Usage')) ?? command;
  return `.TH ${command.toUpperCase()} 1 "" "camera-service ${version}" "User Commands"
.SH NAME
${command} \\- ${escape(summary.trim()).replace(/\.$/, '')}
.SH DESCRIPTION
.nf
${help.trimEnd().split('\n').map(escape).join('\n')}
.fi
.SH SEE ALSO
/usr/share/doc/camera-service/install.md
`;
}

function changelog(version) {
  const date = new Date().toUTCString().replace(/GMT$/, '+0000');
  return `camera-service (${version}) unstable; urgency=medium

  * Release ${version}; see the project's history for the changes.

 -- MediaMTX Camera Service maintainers <maintainers@camera-service.example.org>  ${date.replace(/^(\w+), (\d+)/, (_, d, n) => `${d}, ${n.padStart(2, '0')}`)}
`;
}

function du(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const stats = lstatSync(path);
    if (stats.isFile()) bytes += stats.size;
  }
  return bytes;
}

function md5sums(stage) {
  const lines = [];
  for (const entry of readdirSync(stage, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const rel = relative(stage, path);
    if (rel.startsWith('DEBIAN') || rel.startsWith('etc/') || !lstatSync(path).isFile()) continue;
    lines.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${rel}`);
  }
  return `${lines.sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1)).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------

const options = parseArgs(process.argv.slice(2));
const [major] = process.versions.node.split('.').map(Number);
if (major < 20)
  fail(`Node.js ${process.versions.node} is too old to bundle: the service needs 20 or newer.`);
const arch = output('dpkg', ['--print-architecture']).trim();
const packages = workspaces();
const server = readJson(join(root, 'packages', 'server', 'package.json'));
const version = options.version ?? server.version;
if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) fail(`--version ${version} is not a Debian version.`);
if (options.build) build(packages);
if (!existsSync(join(root, 'packages', 'server', 'dist', 'src', 'bin.js'))) {
  fail('packages/server is not built: run npm run build, or drop --no-build.');
}

const work = mkdtempSync(join(tmpdir(), 'camera-service-package-'));
const stage = join(work, 'root');
const lib = join(stage, PREFIX);
const app = join(lib, 'app');
const doc = join(stage, 'usr', 'share', 'doc', 'camera-service');
try {
  say(`staging camera-service ${version} for ${arch} in ${work}`);
  mkdirSync(app, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
  copyFileSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
  for (const pkg of packages) copyPackage(pkg, app);

  say('installing the production dependencies (npm ci --omit=dev)');
  run(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    'npm ci --omit=dev',
    { cwd: app, env: { ...process.env, NODE_ENV: 'production' } },
  );
  rmSync(join(app, 'node_modules', '.bin'), { recursive: true, force: true });
  rmSync(join(app, 'package-lock.json'));
  pruneDependencies(join(app, 'node_modules'));

  // The runtime: this machine's Node.js, one executable, without its debug symbols.
  const node = join(lib, 'node', 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true });
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  run(
    'strip',
    ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', node],
    'strip',
  );
  copyFileSync(nodeLicense(), join(lib, 'node', 'LICENSE'));

  // Commands, with a man page each.
  const man = join(stage, 'usr', 'share', 'man', 'man1');
  mkdirSync(man, { recursive: true });
  mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
  for (const pkg of packages) {
    const manifest = readJson(join(root, pkg, 'package.json'));
    const bins =
      typeof manifest.bin === 'string'
        ? { [basename(manifest.name)]: manifest.bin }
        : (manifest.bin ?? {});
    for (const [command, file] of Object.entries(bins)) {
      if (DEV_COMMANDS.has(command)) continue;
      const target = join(stage, 'usr', 'bin', command);
      writeFileSync(target, wrapper(command, join(pkg, file)), { mode: 0o755 });
      // The man page is the command's --help; a command that gives none gets a stub.
      const asked = spawnSync(node, [join(app, pkg, file), '--help'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, CAMERA_SERVICE_CONFIG: '' },
      });
      const help =
        asked.status === 0 && asked.stdout.trim()
          ? asked.stdout
          : `${manifest.description ?? command}\n\nRun ${command} --help for its options.\n`;
      writeFileSync(
        join(man, `${command}.1.gz`),
        gzipSync(manPage(command, help, version), { level: 9 }),
      );
    }
  }

  // Configuration, unit, docs.
  mkdirSync(join(stage, 'etc', 'camera-service'), { recursive: true });
  copyFileSync(
    join(deploy, 'config', 'config.yml'),
    join(stage, 'etc', 'camera-service', 'config.yml'),
  );
  const units = join(stage, 'lib', 'systemd', 'system');
  mkdirSync(units, { recursive: true });
  copyFileSync(
    join(deploy, 'systemd', 'camera-service.service'),
    join(units, 'camera-service.service'),
  );
  mkdirSync(join(doc, 'examples'), { recursive: true });
  copyFileSync(
    join(deploy, 'systemd', 'mediamtx.service'),
    join(doc, 'examples', 'mediamtx.service'),
  );
  const nodeVersion = process.versions.node;
  writeFileSync(
    join(doc, 'copyright'),
    readFileSync(join(deploy, 'debian', 'copyright'), 'utf8').replaceAll('@NODE@', nodeVersion),
  );
  writeFileSync(join(doc, 'changelog.gz'), gzipSync(changelog(version), { level: 9 }));
  for (const [from, to] of [
    ['docs/operations/install.md', 'install.md'],
    ['docs/configuration.md', 'configuration.md'],
    ['docs/operations.md', 'operations.md'],
    ['docs/security.md', 'security.md'],
  ]) {
    if (existsSync(join(root, from))) copyFileSync(join(root, from), join(doc, to));
  }
  const overrides = join(stage, 'usr', 'share', 'lintian', 'overrides');
  mkdirSync(overrides, { recursive: true });
  copyFileSync(join(deploy, 'debian', 'lintian-overrides'), join(overrides, 'camera-service'));

  // Control files.
  const control = join(stage, 'DEBIAN');
  mkdirSync(control);
  const size = Math.ceil(du(stage) / 1024);
  writeFileSync(
    join(control, 'control'),
    readFileSync(join(deploy, 'debian', 'control.in'), 'utf8')
      .replace('@VERSION@', version)
      .replace('@ARCH@', arch)
      .replace('@SIZE@', String(size))
      .replace('@NODE@', nodeVersion),
  );
  copyFileSync(join(deploy, 'debian', 'conffiles'), join(control, 'conffiles'));
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(deploy, 'debian', script), join(control, script));
    chmodSync(join(control, script), 0o755);
  }
  // Plain permissions throughout: directories 0755; files 0755 when they are programs
  // (a script with #! or an ELF executable), else 0644.
  for (const entry of readdirSync(stage, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) continue;
    if (stats.isDirectory()) {
      chmodSync(path, 0o755);
      continue;
    }
    let head = readFileSync(path).subarray(0, 64);
    if (/^#!\/usr\/bin\/env node\b/.test(head.toString())) {
      // Run only through /usr/bin wrappers that name the bundled node: the line (kept as
      // a comment, so line numbers in stack traces stay true) would name another node.
      const text = readFileSync(path, 'utf8');
      writeFileSync(
        path,
        text.replace(/^#!\/usr\/bin\/env node[^\n]*/, `// run by ${PREFIX}/node/bin/node`),
      );
      head = Buffer.from('//');
    }
    const script = head.subarray(0, 2).toString() === '#!';
    const elf = head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    chmodSync(path, script || elf ? 0o755 : 0o644);
  }
  writeFileSync(join(control, 'md5sums'), md5sums(stage), { mode: 0o644 });

  mkdirSync(options.out, { recursive: true });
  const deb = join(options.out, `camera-service_${version}_${arch}.deb`);
  say(`building ${relative(root, deb) || deb} (dpkg-deb, ${options.compression})`);
  run(
    'dpkg-deb',
    ['--root-owner-group', `-Z${options.compression}`, '--build', stage, deb],
    'dpkg-deb --build',
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  say(
    `${deb}: ${(statSync(deb).size / 1048576).toFixed(1)} MiB, installed ${(size / 1024).toFixed(0)} MiB`,
  );

  if (options.tarball) {
    const name = `camera-service-${version}-linux-${arch}`;
    const tree = join(work, name);
    mkdirSync(join(tree, 'scripts'), { recursive: true });
    cpSync(stage, join(tree, 'root'), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) =>
        !source.startsWith(join(stage, 'DEBIAN')) && !source.includes('/usr/share/lintian'),
    });
    for (const script of ['postinst', 'postrm']) {
      copyFileSync(join(deploy, 'debian', script), join(tree, 'scripts', script));
    }
    copyFileSync(join(deploy, 'tarball', 'install.sh'), join(tree, 'install.sh'));
    chmodSync(join(tree, 'install.sh'), 0o755);
    writeFileSync(join(tree, 'VERSION'), `${version}\n`);
    const files = output(
      'find',
      [
        '.',
        '-path',
        `.${PREFIX}`,
        '-prune',
        '-o',
        '-path',
        './etc',
        '-prune',
        '-o',
        '(',
        '-type',
        'f',
        '-o',
        '-type',
        'l',
        ')',
        '-print',
      ],
      {
        cwd: join(tree, 'root'),
      },
    );
    writeFileSync(
      join(tree, 'files.list'),
      files
        .split('\n')
        .filter(Boolean)
        .map((f) => f.slice(1))
        .sort()
        .join('\n') + '\n',
    );
    const tarball = join(options.out, `${name}.tar.gz`);
    run('tar', ['--owner=0', '--group=0', '-czf', tarball, '-C', work, name], 'tar');
    say(`${tarball}: ${(statSync(tarball).size / 1048576).toFixed(1)} MiB`);
  }
  process.stdout.write(`${deb}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
