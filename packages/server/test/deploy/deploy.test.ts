/**
 * `camera-service deploy` in a temporary root, with the real service started directly
 * (no systemd here) by a restart command that stops the running one and starts
 * `<root>/current/bin/camera-service`: a good release is switched to once ready; a release
 * that refuses the configuration changes nothing; a release that never becomes ready is
 * rolled back to the previous one, which answers ready again, and so is one whose restart
 * left the old process answering (its uptime predates the restart); a release built by
 * deploy/release/make-release.sh deploys and runs from its own files; old releases are pruned to
 * --keep; a tarball with members outside its top directory is refused.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/files.js';
import { BIN, serviceEnv } from '../helpers/process.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { within } from '../helpers/wait.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A release tarball: `camera-service-<version>/bin/camera-service`, a script that runs this
 * checkout's build, marked with its version. `run` is what it does when asked to run the
 * service (`config` always goes to the real binary unless `config` says otherwise).
 */
function makeRelease(
  dir: string,
  version: string,
  behaviour: { run?: string; config?: string } = {},
): string {
  const top = join(dir, `camera-service-${version}`);
  mkdirSync(join(top, 'bin'), { recursive: true });
  const real = `exec "${process.execPath}" "${BIN}" "$@"`;
  writeFileSync(
    join(top, 'bin', 'camera-service'),
    [
      '#!/bin/sh',
      `export RELEASE_MARK=${version}`,
      `if [ "$1" = config ]; then ${behaviour.config ?? real}; fi`,
      behaviour.run ?? real,
      '',
    ].join('\n'),
  );
  chmodSync(join(top, 'bin', 'camera-service'), 0o755);
  writeFileSync(join(top, 'VERSION'), `${version}\n`);
  const tarball = join(dir, `camera-service-${version}.tar.gz`);
  const packed = spawnSync('tar', ['-czf', tarball, '-C', dir, `camera-service-${version}`]);
  assert.equal(packed.status, 0);
  return tarball;
}

/** Stops the service the pid file names (waiting until it is gone), starts current's. */
const RESTART = `#!/bin/sh
set -e
pidfile="$DEPLOY_ROOT/service.pid"
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  # Gone, or a zombie nobody reaps (it has exited).
  while [ -e /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat 2>/dev/null; do sleep 0.05; done
fi
"$DEPLOY_ROOT/current/bin/camera-service" --config "$DEPLOY_ROOT/config.yml" \\
  </dev/null >>"$DEPLOY_ROOT/service.log" 2>&1 &
echo $! >"$pidfile"
`;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function deploy(root: string, tarball: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const args = [
    BIN,
    'deploy',
    tarball,
    '--root',
    root,
    '--config',
    join(root, 'config.yml'),
    '--restart-command',
    join(root, 'restart.sh'),
    '--keep',
    '3',
    ...extra,
  ];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await within(
    new Promise<number | null>((resolve) => child.on('close', resolve)),
    90_000,
    'deploy to finish',
  );
  return { code, stdout, stderr } satisfies Ran;
}

/** Polls an async condition until it holds, or fails after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The release the running service was started from (its RELEASE_MARK). */
function runningRelease(root: string): string | null {
  const pid = readFileSync(join(root, 'service.pid'), 'utf8').trim();
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return environ.find((e) => e.startsWith('RELEASE_MARK='))?.slice(13) ?? null;
  } catch {
    return null;
  }
}

const current = (root: string) => readlinkSync(join(root, 'current'));

describe('camera-service deploy', () => {
  const root = tempDir('camera-service-deploy-');
  const built = tempDir('camera-service-deploy-');
  after(() => {
    // The last service started by the restart command in each root.
    for (const dir of [root, built]) {
      try {
        process.kill(Number(readFileSync(join(dir, 'service.pid'), 'utf8')), 'SIGKILL');
      } catch {
        // Not running.
      }
    }
  });

  it('deploys a release built by deploy/release/make-release.sh', async () => {
    const out = tempDir();
    const made = spawnSync(
      join(REPO_ROOT, 'deploy', 'release', 'make-release.sh'),
      [out, '1.2.3'],
      {
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    assert.equal(made.status, 0, made.stderr);
    const tarball = made.stdout.trim().split('\n').pop()!;
    assert.equal(tarball, join(out, 'camera-service-1.2.3.tar.gz'));
    const sum = readFileSync(`${tarball}.sha256`, 'utf8');
    assert.equal(spawnSync('sha256sum', ['-c', '-'], { cwd: out, input: sum }).status, 0);
    const healthPort = await freePort();
    const env = serviceEnv(join(built, 'data'), {
      CAMERA_SERVICE_HEALTH_PORT: String(healthPort),
      CAMERA_SERVICE_SERVER_PORT: String(await freePort()),
    });
    writeFileSync(join(built, 'config.yml'), 'logging:\n  level: info\n');
    writeFileSync(join(built, 'restart.sh'), RESTART, { mode: 0o755 });
    const result = await deploy(built, tarball, env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(current(built), 'releases/1.2.3');
    const { ready_ms } = JSON.parse(result.stdout) as { ready_ms: number };
    process.stdout.write(`# deploy figures: built release ready ${ready_ms} ms after the switch\n`);
    // The service runs from the release's own files, not from this checkout.
    const pid = readFileSync(join(built, 'service.pid'), 'utf8').trim();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      cmdline.some((arg) => arg.startsWith(join(built, 'releases', '1.2.3'))),
      cmdline.join(' '),
    );
    assert.equal((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status, 200);
  });

  it('switches when ready, refuses a bad configuration, rolls back a release that never gets ready', async () => {
    const healthPort = await freePort();
    const env = serviceEnv(join(root, 'data'), {
      CAMERA_SERVICE_HEALTH_PORT: String(healthPort),
      CAMERA_SERVICE_SERVER_PORT: String(await freePort()),
    });
    writeFileSync(join(root, 'config.yml'), 'logging:\n  level: info\n');
    writeFileSync(join(root, 'restart.sh'), RESTART, { mode: 0o755 });
    const ready = `http://127.0.0.1:${healthPort}/health/ready`;
    const work = tempDir();
    const figures: Record<string, number> = {};

    // First install, then an upgrade: each switched to once ready.
    for (const version of ['1.0.0', '2.0.0']) {
      const result = await deploy(root, makeRelease(work, version), env);
      assert.equal(result.code, 0, result.stderr);
      const outcome = JSON.parse(result.stdout) as { deployed: string; ready_ms: number };
      assert.equal(outcome.deployed, version);
      figures[`ready_ms_${version}`] = outcome.ready_ms;
      assert.equal(current(root), `releases/${version}`);
      assert.equal(runningRelease(root), version);
      assert.equal((await fetch(ready)).status, 200);
    }
    const pidBefore = readFileSync(join(root, 'service.pid'), 'utf8');

    // A release that refuses the configuration: nothing switched, nothing restarted.
    const refusing = makeRelease(work, '3.0.0', {
      config: 'echo "server.port: expected a port number" >&2; exit 78',
    });
    const refused = await deploy(root, refusing, env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /3\.0\.0 refuses the configuration \(exit 78\).*server\.port/s);
    assert.match(refused.stderr, /Nothing was switched or restarted/);
    assert.equal(current(root), 'releases/2.0.0');
    assert.equal(existsSync(join(root, 'releases', '3.0.0')), false);
    assert.equal(readFileSync(join(root, 'service.pid'), 'utf8'), pidBefore, 'not restarted');
    assert.equal((await fetch(ready)).status, 200);

    // A restart that restarts nothing: the old process answering ready is not the new
    // release (its uptime predates the restart), so this too is rolled back.
    await until(
      async () =>
        (
          (await (await fetch(`http://127.0.0.1:${healthPort}/health/live`)).json()) as {
            uptime_seconds: number;
          }
        ).uptime_seconds >= 3,
      10_000,
      'the running service to be up 3 s',
    );
    const stale = await deploy(root, makeRelease(work, '3.5.0'), env, [
      '--restart-command',
      'true',
      '--timeout',
      '3',
    ]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /the process from before the restart is still answering/);
    assert.match(stale.stderr, /rolled back to 2\.0\.0/);
    assert.equal(current(root), 'releases/2.0.0');
    assert.equal(readFileSync(join(root, 'service.pid'), 'utf8'), pidBefore);

    // A release whose service exits at once: never ready, so rolled back.
    const broken = makeRelease(work, '4.0.0', { run: 'echo "crashing on purpose" >&2; exit 1' });
    const rolled = await deploy(root, broken, env, ['--timeout', '5']);
    assert.equal(rolled.code, 1);
    assert.match(rolled.stderr, /4\.0\.0 did not become ready within 5 s/);
    assert.match(rolled.stderr, /rolled back to 2\.0\.0, ready again \d+ ms after the switch/);
    const back = JSON.parse(rolled.stdout) as { rolled_back_to: string; rolled_back_ms: number };
    assert.equal(back.rolled_back_to, '2.0.0');
    figures.rolled_back_ms = back.rolled_back_ms;
    assert.equal(current(root), 'releases/2.0.0');
    assert.equal(runningRelease(root), '2.0.0');
    assert.equal((await fetch(ready)).status, 200);
    assert.ok(existsSync(join(root, 'releases', '4.0.0.failed')), 'kept for a look');
    assert.match(readFileSync(join(root, 'service.log'), 'utf8'), /crashing on purpose/);

    // Two more good ones: the newest three stay, the failed one and the oldest go.
    for (const version of ['5.0.0', '6.0.0']) {
      const result = await deploy(root, makeRelease(work, version), env);
      assert.equal(result.code, 0, result.stderr);
    }
    assert.deepEqual(readdirSync(join(root, 'releases')).sort(), ['2.0.0', '5.0.0', '6.0.0']);
    assert.equal(runningRelease(root), '6.0.0');

    // A tarball reaching outside its top directory is refused before anything happens.
    const evil = join(work, 'evil');
    mkdirSync(join(evil, 'camera-service-7.0.0', 'bin'), { recursive: true });
    writeFileSync(join(evil, 'camera-service-7.0.0', 'bin', 'camera-service'), '#!/bin/sh\n');
    writeFileSync(join(evil, 'outside'), 'x');
    const evilTar = join(work, 'evil.tar.gz');
    spawnSync('tar', ['-czf', evilTar, '-C', evil, 'camera-service-7.0.0', 'outside']);
    const refusedTar = await deploy(root, evilTar, env);
    assert.equal(refusedTar.code, 1);
    assert.match(refusedTar.stderr, /outside is not under one top directory/);
    assert.equal(current(root), 'releases/6.0.0');

    process.stdout.write(`# deploy figures: ${JSON.stringify(figures)}\n`);
  });
});
