/**
 * The service as a new user reaches it from a clone: `npm start` (a real npm, the real
 * bootstrap), and the `camera-service` command npm links. Stopping npm in any way stops
 * the service; the linked command works before and after the build.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { tempDir } from '../helpers/files.js';
import { LogSink } from '../helpers/log-sink.js';
import { serviceEnv } from '../helpers/process.js';
import { REPO_ROOT, pendingInstall } from '../helpers/repo.js';
import { within } from '../helpers/wait.js';

const NPM = spawnSync('npm', ['--version'], { encoding: 'utf8' }).status === 0;

/** Why `npm start` cannot run here without changing the repository, or null. */
function npmStartBlocked(): string | null {
  if (!NPM) return 'npm is not on PATH';
  return pendingInstall();
}

interface NpmStart {
  npm: ChildProcess;
  logs: LogSink;
  stderr: () => string;
  /** Both ends of the output are closed: npm and the service (which inherited them) ended. */
  ended: Promise<void>;
  /** The service's pid and its parent's, once listening. */
  service: { pid: number; ppid: number };
}

/** `npm start` in the repository, as a user runs it, in a process group of its own. */
async function npmStart(dir: string): Promise<NpmStart> {
  const npm = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env: serviceEnv(dir),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as a shell gives a job: Ctrl-C reaches it all
  });
  const logs = new LogSink();
  const out = createInterface({ input: npm.stdout! });
  out.on('line', (line) => logs.write(line));
  let stderr = '';
  npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = Promise.all([
    new Promise<void>((resolve) => out.once('close', resolve)),
    new Promise<void>((resolve) => npm.stderr!.once('close', resolve)),
  ]).then(() => undefined);
  const listening = await within(
    logs.waitFor((r) => r.msg === 'listening', 90_000, "the 'listening' line"),
    90_000,
    `npm start to listen; its stderr:\n${stderr}`,
  ).catch((error: unknown) => {
    killGroup(npm);
    throw error;
  });
  const pid = Number(listening.pid);
  return { npm, logs, stderr: () => stderr, ended, service: { pid, ppid: parentOf(pid) } };
}

/** The parent pid of a process, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Whether a process still runs (a zombie waiting for a reaper counts as ended). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Ends whatever is left of the test's npm start: its whole process group. */
function killGroup(npm: ChildProcess): void {
  try {
    process.kill(-npm.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs a test on a fresh `npm start`, or skips it saying why it cannot run here. */
function withNpmStart(t: TestContext, body: (run: NpmStart) => Promise<void>) {
  const blocked = npmStartBlocked();
  if (blocked) {
    t.skip(blocked);
    return Promise.resolve();
  }
  return npmStart(tempDir()).then(async (run) => {
    try {
      await body(run);
    } finally {
      killGroup(run.npm);
    }
  });
}

describe('npm start', () => {
  it('runs the service as npm child, which stops cleanly on npm SIGTERM', (t) =>
    withNpmStart(t, async (run) => {
      assert.equal(run.service.ppid, run.npm.pid, 'the service is npm child (no shell between)');
      assert.match(run.stderr(), /\[setup\] (building|bringing the build up to date)/);
      assert.match(run.stderr(), /\[setup\] build ready \(\d+\.\d s\)/);
      const told = await run.logs.waitFor((r) => r.msg.startsWith('running as pid'), 5000);
      assert.match(told.msg, new RegExp(`kill -HUP ${run.service.pid} reloads`));
      run.npm.kill('SIGTERM');
      await within(run.ended, 10_000, 'npm and the service to end');
      assert.ok(
        run.logs.find((r) => r.msg === 'stopped'),
        'a clean stop',
      );
      assert.equal(running(run.service.pid), false);
    }));

  it('stops the service cleanly when npm is killed with SIGKILL', (t) =>
    withNpmStart(t, async (run) => {
      const killed = Date.now();
      run.npm.kill('SIGKILL');
      const gone = await run.logs.waitFor((r) => /is gone: stopping/.test(r.msg), 5000);
      assert.equal(gone.parent_pid, run.npm.pid);
      await within(run.ended, 10_000, 'the service to end after npm');
      assert.ok(
        run.logs.find((r) => r.msg === 'stopped'),
        'a clean stop',
      );
      assert.equal(running(run.service.pid), false);
      assert.ok(Date.now() - killed < 6000, `took ${Date.now() - killed} ms`);
    }));

  it('stops once on Ctrl-C, which reaches npm and the service both', (t) =>
    withNpmStart(t, async (run) => {
      const exit = new Promise<unknown>((resolve) =>
        run.npm.once('exit', (code, signal) => resolve(code ?? signal)),
      );
      process.kill(-run.npm.pid!, 'SIGINT'); // what a terminal does: the whole job
      await within(run.ended, 10_000, 'npm and the service to end');
      // npm ends the way it was asked to once its child has: by SIGINT.
      assert.ok([0, 'SIGINT'].includes((await exit) as string), String(await exit));
      assert.ok(
        run.logs.find((r) => r.msg === 'stopped'),
        'a clean stop',
      );
      assert.equal(running(run.service.pid), false);
      assert.equal(
        run.logs.find((r) => r.msg.startsWith('second signal')),
        undefined,
        'the copy npm passes on is not taken for a second Ctrl-C',
      );
    }));

  it('takes kill -HUP at the pid it logs, and stops when npm ends on a SIGHUP', (t) =>
    withNpmStart(t, async (run) => {
      // At once after 'listening', before the 'running as pid' line: no window in which a
      // SIGHUP ends the process rather than reloading.
      process.kill(run.service.pid, 'SIGHUP');
      await run.logs.waitFor((r) => /SIGHUP.*reloading the configuration/.test(r.msg), 5000);
      assert.ok(running(run.service.pid), 'a reload, not a stop');
      run.npm.kill('SIGHUP'); // npm does not pass SIGHUP on, and ends
      await within(run.ended, 10_000, 'the service to end after npm');
      assert.ok(run.logs.find((r) => r.msg === 'stopped'));
    }));
});

describe('the camera-service command npm links', () => {
  it('is linked by npm before the build, says how to build, then runs the built code', (t) => {
    if (!NPM) return t.skip('npm is not on PATH');
    // A clone as npm ci finds it: the server package's manifest and committed files, no dist.
    const dir = tempDir();
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/server/package.json'), 'utf8'));
    mkdirSync(join(dir, 'packages', 'server'), { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ private: true, workspaces: ['packages/server'] }),
    );
    writeFileSync(
      join(dir, 'packages', 'server', 'package.json'),
      JSON.stringify({ name: pkg.name, version: pkg.version, type: pkg.type, bin: pkg.bin }),
    );
    cpSync(join(REPO_ROOT, 'packages/server/bin'), join(dir, 'packages/server/bin'), {
      recursive: true,
    });
    const install = spawnSync(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(install.status, 0, install.stderr);
    const npx = () =>
      spawnSync('npx', ['--no-install', 'camera-service', '--help'], {
        cwd: dir,
        encoding: 'utf8',
      });
    const before = npx();
    assert.equal(before.status, 1, before.stderr);
    assert.match(
      before.stderr,
      /camera-service is not built yet \(.*dist\/src\/bin\.js is missing\)/,
    );
    assert.match(before.stderr, /Build it with `npm run build` in /);
    // Built: the same link runs the program.
    symlinkSync(join(REPO_ROOT, 'packages/server/dist'), join(dir, 'packages/server/dist'));
    const after = npx();
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stdout, /Usage: camera-service/);
  });

  it('runs with npx and npm exec from the repository', (t) => {
    if (!NPM) return t.skip('npm is not on PATH');
    const npx = spawnSync('npx', ['--no-install', 'camera-service', '--help'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(npx.status, 0, `${npx.stderr} (run npm ci if camera-service is not linked)`);
    assert.match(npx.stdout, /With no command, camera-service runs the service/);
    const exec = spawnSync('npm', ['exec', '--no', '--', 'camera-service', '--version'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(exec.status, 0, exec.stderr);
    assert.match(exec.stdout, /^\d+\.\d+\.\d+/);
  });
});
