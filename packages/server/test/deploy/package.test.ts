/**
 * The Debian package as `npm run package` builds it (issue 17): lintian finds nothing
 * (but the overrides it explains), it holds every workspace package, the bundled Node.js
 * >= 20, the conffile and the unit; the unit passes `systemd-analyze verify` and scores
 * at most 2.0 in `systemd-analyze security`; the scripts pass shellcheck; and the package
 * installs into a fresh Debian 12 root, runs, upgrades and purges (chroot-scenario.ts).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../helpers/repo.js';
import { APT_ARCHIVES, ROOT_TARBALL, ensureRootTarball } from './debian-root.js';

const SCENARIO = fileURLToPath(new URL('./chroot-scenario.js', import.meta.url));
const MAX_SECURITY_EXPOSURE = 2.0;

function sh(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}) {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: result.status,
    out: `${result.stdout ?? ''}${result.stderr ?? ''}`,
    stdout: result.stdout ?? '',
  };
}

function ok(command: string, args: string[], options: Parameters<typeof sh>[2] = {}): string {
  const result = sh(command, args, options);
  assert.equal(result.code, 0, `${command} ${args.join(' ')}:\n${result.out.slice(-4000)}`);
  return result.stdout;
}

/** The mounts under `dir` still in this namespace: there must be none before deleting it. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

function removeTree(dir: string): void {
  const left = mountsUnder(dir);
  assert.deepEqual(left, [], `mounts left under ${dir}; not deleting it`);
  rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
}

const server = JSON.parse(
  readFileSync(join(REPO_ROOT, 'packages/server/package.json'), 'utf8'),
) as { version: string };
const V1 = server.version;
const V2 = `${server.version}+upgrade1`;

describe('the Debian package', { timeout: 40 * 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'camera-service-package-test-'));
  const out = join(work, 'out');
  const tree = join(work, 'tree');
  let deb1 = '';
  let deb2 = '';
  let arch = '';

  before(
    () => {
      arch = ok('dpkg', ['--print-architecture']).trim();
      const started = Date.now();
      // gzip: the test's build is about speed; the release default is xz.
      // --no-build: `npm test` has built the workspace already.
      ok(
        process.execPath,
        [
          'scripts/package.mjs',
          '--compression',
          'gzip',
          '--out',
          out,
          '--version',
          V1,
          '--no-build',
        ],
        { timeoutMs: 600_000 },
      );
      const buildMs = Date.now() - started;
      ok(
        process.execPath,
        [
          'scripts/package.mjs',
          '--compression',
          'gzip',
          '--out',
          out,
          '--version',
          V2,
          '--no-build',
          '--no-tarball',
        ],
        {
          timeoutMs: 600_000,
        },
      );
      deb1 = join(out, `camera-service_${V1}_${arch}.deb`);
      deb2 = join(out, `camera-service_${V2}_${arch}.deb`);
      ok('dpkg-deb', ['-x', deb1, tree]);
      process.stderr.write(
        `[package test] built ${deb1} in ${(buildMs / 1000).toFixed(1)} s: ${(statSync(deb1).size / 1048576).toFixed(1)} MiB\n`,
      );
    },
    { timeout: 20 * 60_000 },
  );
  after(() => removeTree(work));

  it(
    'is lintian clean: no error or warning, the overrides each explained',
    { timeout: 10 * 60_000 },
    () => {
      const result = sh('lintian', ['--tag-display-limit', '0', deb1], { timeoutMs: 600_000 });
      const tags = result.out.split('\n').filter((line) => /^[EW]: /.test(line));
      assert.deepEqual(tags, [], result.out);
      const overrides = readFileSync(
        join(tree, 'usr/share/lintian/overrides/camera-service'),
        'utf8',
      );
      const lines = overrides.split('\n');
      lines.forEach((line, index) => {
        if (line.startsWith('camera-service:')) {
          assert.match(
            lines[index - 1] ?? '',
            /^# /,
            `the override "${line}" has its reason above it`,
          );
        }
      });
    },
  );

  it('holds every workspace package, its production dependencies and the bundled Node.js >= 20', () => {
    const app = join(tree, 'usr/lib/camera-service/app');
    for (const pkg of readdirSync(join(REPO_ROOT, 'packages'))) {
      if (!existsSync(join(REPO_ROOT, 'packages', pkg, 'package.json'))) continue;
      assert.ok(
        existsSync(join(app, 'packages', pkg, 'package.json')),
        `packages/${pkg} is in the package`,
      );
      assert.equal(
        existsSync(join(app, 'packages', pkg, 'dist', 'test')),
        false,
        `no tests of ${pkg}`,
      );
      assert.equal(existsSync(join(app, 'packages', pkg, 'src')), false, `no sources of ${pkg}`);
      if (existsSync(join(REPO_ROOT, 'packages', pkg, 'dist'))) {
        assert.ok(
          existsSync(join(app, 'packages', pkg, 'dist')),
          `packages/${pkg}/dist is in the package`,
        );
      }
    }
    if (existsSync(join(REPO_ROOT, 'packages/web/dist'))) {
      assert.ok(existsSync(join(app, 'packages/web/dist')), 'the dashboard is in the package');
    }
    if (existsSync(join(REPO_ROOT, 'packages/cli/package.json'))) {
      assert.ok(existsSync(join(tree, 'usr/bin/camera-cli')), 'camera-cli is in /usr/bin');
    }
    for (const dep of ['commander', 'pino', 'ws', 'yaml', 'zod']) {
      assert.ok(
        existsSync(join(app, 'node_modules', dep, 'package.json')),
        `${dep} is in the package`,
      );
    }
    for (const dev of ['typescript', 'eslint', 'prettier']) {
      assert.equal(existsSync(join(app, 'node_modules', dev)), false, `no ${dev}`);
    }
    const node = join(tree, 'usr/lib/camera-service/node/bin/node');
    const version = ok(node, ['--version']).trim();
    assert.ok(Number(/^v(\d+)/.exec(version)?.[1]) >= 20, version);
    assert.ok(
      existsSync(join(tree, 'usr/lib/camera-service/node/LICENSE')),
      "Node's licence ships beside it",
    );
    assert.equal(
      ok(node, [join(app, 'packages/server/dist/src/bin.js'), '--version']).trim(),
      server.version,
    );
    const control = ok('dpkg-deb', ['-f', deb1]);
    assert.match(control, /^Depends: .*\bffmpeg\b.*\bv4l-utils\b/m);
    assert.match(control, new RegExp(`^Architecture: ${arch}$`, 'm'));
    const conffiles = sh('sh', [
      '-c',
      `dpkg-deb --ctrl-tarfile ${deb1} | tar -xOf - ./conffiles`,
    ]).stdout;
    assert.equal(conffiles.trim(), '/etc/camera-service/config.yml');
    const config = readFileSync(join(tree, 'etc/camera-service/config.yml'), 'utf8');
    assert.match(config, /environment: production/);
    assert.match(config, /jwt_secret_file: \/etc\/camera-service\/jwt-secret/);
    for (const command of ['camera-service']) {
      assert.ok(existsSync(join(tree, 'usr/bin', command)));
      assert.ok(existsSync(join(tree, 'usr/share/man/man1', `${command}.1.gz`)));
    }
  });

  it('has a unit that systemd-analyze verifies, scoring at most 2.0 for exposure', () => {
    const unit = join(tree, 'lib/systemd/system/camera-service.service');
    // The unit's commands exist in the package, seen through an overlay on /usr/lib in a
    // mount namespace of its own: nothing on this machine changes.
    ok('unshare', [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      `mount -t overlay overlay -o lowerdir="${tree}/usr/lib":/usr/lib /usr/lib && systemd-analyze verify "${unit}"`,
    ]);
    const text = readFileSync(unit, 'utf8');
    for (const line of [
      'Restart=on-failure',
      'RestartPreventExitStatus=78',
      'DevicePolicy=closed',
      'DeviceAllow=char-video4linux rw',
      'CapabilityBoundingSet=',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'SystemCallFilter=@system-service',
      'User=camera-service',
    ]) {
      assert.ok(text.split('\n').includes(line), `the unit has ${line}`);
    }
    for (const [name, file] of [
      ['camera-service', unit],
      ['mediamtx', join(REPO_ROOT, 'deploy/systemd/mediamtx.service')],
    ] as const) {
      const report = ok('systemd-analyze', ['security', '--offline=true', file]);
      const score = Number(/Overall exposure level for \S+: ([0-9.]+)/.exec(report)?.[1]);
      assert.ok(score <= MAX_SECURITY_EXPOSURE, `${name}: exposure ${score}\n${report}`);
      process.stderr.write(`[package test] systemd-analyze security ${name}: ${score}\n`);
    }
  });

  it('has maintainer scripts, the install script and the wrappers clean under shellcheck', () => {
    const files = [
      'deploy/debian/postinst',
      'deploy/debian/prerm',
      'deploy/debian/postrm',
      'deploy/tarball/install.sh',
      join(tree, 'usr/bin/camera-service'),
    ];
    ok('shellcheck', files);
  });

  it('comes as a tarball with install.sh and the same files', () => {
    const tarball = join(out, `camera-service-${V1}-linux-${arch}.tar.gz`);
    const list = ok('tar', ['-tzf', tarball]).split('\n');
    const top = `camera-service-${V1}-linux-${arch}`;
    for (const file of [
      'install.sh',
      'files.list',
      'VERSION',
      'scripts/postinst',
      'scripts/postrm',
      'root/etc/camera-service/config.yml',
      'root/usr/lib/camera-service/node/bin/node',
      'root/lib/systemd/system/camera-service.service',
    ]) {
      assert.ok(list.includes(`${top}/${file}`), `${file} is in the tarball`);
    }
  });

  it(
    'installs into a fresh Debian 12 root with apt (and with install.sh), runs as its user, upgrades keeping data, and purges clean',
    { timeout: 30 * 60_000 },
    async () => {
      const made = ensureRootTarball();
      if (made.built)
        process.stderr.write(
          `[package test] made ${ROOT_TARBALL} in ${(made.ms / 1000).toFixed(0)} s\n`,
        );
      const scenarioDir = join(work, 'scenario');
      // Its own mount and PID namespaces: its mounts and every process it starts end with it.
      const child = spawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '--pid',
          '--fork',
          '--mount-proc',
          '--kill-child',
          '--',
          process.execPath,
          SCENARIO,
          ROOT_TARBALL,
          APT_ARCHIVES,
          scenarioDir,
          deb1,
          deb2,
          join(out, `camera-service-${V1}-linux-${arch}.tar.gz`),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
      const limit = setTimeout(() => child.kill('SIGKILL'), 25 * 60_000);
      const code = await new Promise<number | null>((resolve) =>
        child.on('exit', (c) => resolve(c)),
      );
      clearTimeout(limit);
      const steps = Object.fromEntries(
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { step: string })
          .map((s) => [s.step, s]),
      ) as Record<string, Record<string, unknown>>;
      process.stderr.write(`[package test] fresh-root scenario:\n${stdout}`);
      assert.equal(code, 0, `the scenario failed:\n${stderr}`);
      assert.deepEqual(Object.keys(steps), [
        'root',
        'install',
        'config-error',
        'run',
        'upgrade',
        'purge',
        'tarball',
      ]);
      assert.equal(steps['config-error']?.['exit'], 78);
      assert.deepEqual(steps['purge']?.['left'], []);
      assert.deepEqual(steps['tarball']?.['left'], []);
      removeTree(scenarioDir);
    },
  );
});
