/**
 * camera-cli, run as its users run it (the committed bin wrapper, a child process)
 * against the running service: --json output parses into the documented shapes, the exit
 * codes match the table (missing camera 4, bad token 3, bad argument 2), profiles and
 * CAMERA_TOKEN supply the credential, snapshot and download write the file, and `watch`
 * prints the notifications of a camera plugged in and of a recording.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CameraServiceClient } from '@camera-service/sdk';
import { REPO_ROOT } from '../helpers/repo.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { within } from '../helpers/wait.js';

const CLI = join(REPO_ROOT, 'packages', 'cli', 'bin', 'camera-cli.js');
const FAKE_V4L2_CTL = fileURLToPath(
  new URL('../../../test/fixtures/fake-v4l2-ctl', import.meta.url),
);
const MS2109 = ['macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('camera-cli against the service', () => {
  let t: TestApp;
  let env: NodeJS.ProcessEnv;
  let operator: CameraServiceClient;
  const home = mkdtempSync(join(tmpdir(), 'camera-cli-home-'));
  const work = mkdtempSync(join(tmpdir(), 'camera-cli-work-'));

  function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: work,
        env: { ...env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }
  async function json(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<unknown> {
    const run = await cli([...args, '--json'], extra);
    assert.equal(run.code, 0, `camera-cli ${args.join(' ')}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  }
  /** The JSON error a failing command prints on stderr, and its exit code. */
  async function failure(args: string[], extra: NodeJS.ProcessEnv = {}) {
    const run = await cli([...args, '--json'], extra);
    const body = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as {
      error: { kind?: string; code?: number; exit_code: number; message: string };
    };
    assert.equal(body.error.exit_code, run.code);
    return { code: run.code, error: body.error, stdout: run.stdout };
  }

  before(async () => {
    t = await startApp({
      cameras: [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }],
      camera: { probe_command: FAKE_V4L2_CTL, debounce_ms: 100, poll_interval: 0.5 },
    });
    mkdirSync(join(t.config.camera.device_dir, 'v4l', 'by-id'), { recursive: true });
    mkdirSync(t.config.camera.sysfs_dir, { recursive: true });
    operator = await t.connect({ as: 'operator' });
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('CAMERA_')),
    );
    env = {
      ...inherited,
      HOME: home,
      XDG_CONFIG_HOME: '',
      CAMERA_URL: t.wsUrl,
      CAMERA_TOKEN: await t.token('admin'),
    };
  });
  after(async () => {
    await t.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('--help lists every command; no command is a usage error', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const word of [
      'cameras',
      'status DEV',
      'snapshot DEV',
      'record start DEV',
      'record stop DEV',
      'recordings ls',
      'recordings download NAME',
      'snapshots rm NAME',
      'storage',
      'retention set',
      'cleanup',
      'metrics',
      'server-info',
      'streams',
      'watch',
      'call METHOD',
      'completion bash',
    ]) {
      assert.ok(help.stdout.includes(word), `--help names ${word}`);
    }
    assert.equal((await cli([])).code, 2);
  });

  it('read-only commands print their results as JSON', async () => {
    const cameras = (await json(['cameras'])) as {
      cameras: { device: string; status: string }[];
      total: number;
    };
    assert.ok(cameras.cameras.some((c) => c.status === 'CONNECTED'));
    const device = cameras.cameras[0]!.device;
    const status = (await json(['status', device])) as { device: string };
    assert.equal(status.device, device);
    assert.equal(await json(['ping']), 'pong');
    assert.equal(
      ((await json(['server-info'])) as { name: string }).name,
      'MediaMTX Camera Service',
    );
    assert.equal(
      typeof ((await json(['storage'])) as { total_space: number }).total_space,
      'number',
    );
    assert.ok('policy_type' in ((await json(['retention', 'get'])) as object));
    assert.equal(typeof (await json(['metrics'])), 'object');
    assert.equal(typeof (await json(['streams'])), 'object');
    assert.equal(typeof (await json(['health'])), 'object');
    const called = (await json(['call', 'get_camera_status', JSON.stringify({ device })])) as {
      device: string;
    };
    assert.equal(called.device, device);
    // For people: a table with a header.
    const table = await cli(['cameras']);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^DEVICE\s+STATUS\s+NAME/);
  });

  it('exit codes: missing camera 4, bad token 3, bad argument 2, unreachable 5', async () => {
    const missing = await failure(['status', '/dev/video77']);
    assert.equal(missing.code, 4);
    assert.equal(missing.error.kind, 'camera_not_found');
    assert.equal(missing.stdout, '');
    const badToken = await failure(['cameras', '--token', 'not-a-token']);
    assert.equal(badToken.code, 3);
    assert.equal(badToken.error.kind, 'authentication_failed');
    const noToken = await failure(['storage'], { CAMERA_TOKEN: '' });
    assert.equal(noToken.code, 3);
    assert.equal((await failure(['recordings', 'ls', '--limit', 'lots'])).code, 2);
    assert.equal((await failure(['cameras', '--bogus'])).code, 2);
    assert.equal((await failure(['status'])).code, 2);
    const invalid = await failure(['call', 'list_recordings', '{"limit":-1}']);
    assert.equal(invalid.code, 2);
    assert.equal(invalid.error.kind, 'invalid_params');
    assert.equal((await failure(['recordings', 'info', 'nope.mp4'])).code, 4);
    assert.equal((await failure(['ping', '--url', 'ws://127.0.0.1:9/ws'])).code, 5);
    const human = await cli(['status', '/dev/video77']);
    assert.equal(human.code, 4);
    assert.match(human.stderr, /^camera-cli: /);
  });

  it('takes the credential from a profile', async () => {
    const dir = join(home, '.config', 'camera-cli');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ profiles: { lab: { url: t.wsUrl, token: await t.token('viewer') } } }),
    );
    assert.equal(
      await json(['ping', '--profile', 'lab'], { CAMERA_URL: '', CAMERA_TOKEN: '' }),
      'pong',
    );
    const unknown = await failure(['ping', '--profile', 'nope']);
    assert.equal(unknown.code, 2);
    // A viewer may not take snapshots: permission is an auth exit.
    const denied = await failure(['snapshot', 'test0', '--profile', 'lab'], {
      CAMERA_URL: '',
      CAMERA_TOKEN: '',
    });
    assert.equal(denied.code, 3);
    assert.equal(denied.error.kind, 'permission_denied');
  });

  it('snapshot takes and downloads; snapshots ls/info/download/rm', async () => {
    const shot = (await json(['snapshot', 'test0', '-o', 'door.jpg'])) as {
      filename: string;
      file_size: number;
      path: string;
      downloaded_bytes: number;
    };
    assert.equal(shot.path, 'door.jpg');
    assert.equal(statSync(join(work, 'door.jpg')).size, shot.file_size);
    assert.equal(shot.downloaded_bytes, shot.file_size);
    assert.deepEqual(
      readFileSync(join(work, 'door.jpg')).subarray(0, 2),
      Buffer.from([0xff, 0xd8]),
    );
    const list = (await json(['snapshots', 'ls'])) as { files: { filename: string }[] };
    assert.ok(list.files.some((f) => f.filename === shot.filename));
    assert.equal(
      ((await json(['snapshots', 'info', shot.filename])) as { filename: string }).filename,
      shot.filename,
    );
    const got = (await json(['snapshots', 'download', shot.filename])) as {
      path: string;
      size: number;
    };
    assert.equal(statSync(join(work, got.path)).size, shot.file_size);
    assert.equal(
      ((await json(['snapshots', 'rm', shot.filename])) as { deleted: boolean }).deleted,
      true,
    );
    assert.equal((await failure(['snapshots', 'info', shot.filename])).code, 4);
  });

  it('record start --duration waits for the end; record stop; recordings ls/download/rm; retention set; cleanup', async () => {
    const timed = (await json(['record', 'start', 'test0', '--duration', '1s'])) as {
      started: { session_id: string; filename: string };
      ended: { status: string; session_id: string };
    };
    assert.equal(timed.ended.session_id, timed.started.session_id);
    assert.equal(timed.ended.status, 'STOPPED');
    const started = (await json(['record', 'start', 'test0'])) as { status: string };
    assert.equal(started.status, 'STARTED');
    assert.equal((await failure(['record', 'start', 'test0'])).code, 5);
    const stopped = (await json(['record', 'stop', 'test0'])) as { status: string };
    assert.equal(stopped.status, 'STOPPED');
    const list = (await json(['recordings', 'ls', '--device', 'test0'])) as {
      files: { filename: string; file_size: number }[];
    };
    const file = list.files.find((f) =>
      f.filename.startsWith(timed.started.filename.replace(/_\d+\.mp4$/, '')),
    );
    assert.ok(file, 'the timed recording is listed');
    const got = (await json(['recordings', 'download', file.filename, '-o', 'rec.mp4'])) as {
      size: number;
    };
    assert.equal(got.size, file.file_size);
    assert.equal(statSync(join(work, 'rec.mp4')).size, file.file_size);
    assert.equal(
      ((await json(['recordings', 'rm', file.filename])) as { deleted: boolean }).deleted,
      true,
    );
    const policy = (await json([
      'retention',
      'set',
      '--policy-type',
      'age',
      '--max-age-days',
      '30',
      '--enabled',
      'false',
    ])) as { policy_type: string; enabled: boolean };
    assert.equal(policy.policy_type, 'age');
    assert.equal(policy.enabled, false);
    assert.equal(
      typeof ((await json(['cleanup'])) as { files_deleted: number }).files_deleted,
      'number',
    );
  });

  it('watch prints the notifications of a camera plugged in and of a recording, until Ctrl-C', async () => {
    const child = spawn(process.execPath, [CLI, 'watch', '--json'], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const lines: { method: string; params: Record<string, unknown> }[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(JSON.parse(line) as { method: string; params: Record<string, unknown> });
      for (const w of [...waiters]) w();
    });
    const seen = (match: (l: (typeof lines)[number]) => boolean, what: string) =>
      within(
        new Promise<void>((resolve) => {
          const check = () => {
            if (lines.some(match)) resolve();
          };
          waiters.push(check);
          check();
        }),
        20_000,
        what,
      );
    try {
      await within(
        new Promise<void>((resolve) =>
          child.stderr.on('data', (c: Buffer) => /Watching/.test(c.toString()) && resolve()),
        ),
        15_000,
        'watch to start',
      );
      // Plug a camera: its node appears whole, as mknod makes it.
      const dev = t.config.camera.device_dir;
      mkdirSync(join(t.config.camera.sysfs_dir, 'video3'), { recursive: true });
      writeFileSync(join(t.config.camera.sysfs_dir, 'video3', 'name'), 'USB Video\n');
      writeFileSync(join(dev, '.video3.tmp'), `${MS2109.join('\n')}\n`);
      renameSync(join(dev, '.video3.tmp'), join(dev, 'video3'));
      await seen(
        (l) =>
          l.method === 'camera_status_update' &&
          l.params.device === join(dev, 'video3') &&
          l.params.status === 'CONNECTED',
        'the plug in watch',
      );
      await operator.startRecording({ device: 'test0', duration: 1 });
      await seen(
        (l) => l.method === 'recording_status_update' && l.params.status === 'STARTED',
        'the recording start',
      );
      await seen(
        (l) => l.method === 'recording_status_update' && l.params.status === 'STOPPED',
        'the recording end',
      );
      child.kill('SIGINT');
      assert.equal(await within(exited, 10_000, 'watch to exit'), 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('completion bash is a script bash accepts', async () => {
    const run = await cli(['completion', 'bash']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /complete -F _camera_cli camera-cli/);
    const check = spawn('bash', ['-n'], { stdio: ['pipe', 'ignore', 'pipe'] });
    check.stdin.end(run.stdout);
    assert.equal(await new Promise((resolve) => check.on('close', resolve)), 0);
  });
});
