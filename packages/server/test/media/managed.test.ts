/**
 * Managed mode with the stand-in binary (test/fixtures/stand-in/mediamtx), which opens
 * every listener MediaMTX would open with the written configuration and fails as MediaMTX
 * does when one is taken: two instances side by side, no mediamtx left behind by a
 * service killed outright, and one left by an earlier run stopped at the next start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startApp, type TestApp } from '../helpers/app.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { serviceEnv, startService, killService } from '../helpers/process.js';

const STAND_IN = fileURLToPath(
  new URL('../../../test/fixtures/stand-in/mediamtx', import.meta.url),
);
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].some((path) => existsSync(path));
const MANAGED = { mode: 'managed' as const, binary: STAND_IN };

/** The listeners the stand-in of this service opened ("tcp 127.0.0.1:8554", ...). */
async function listeners(t: TestApp): Promise<string[]> {
  const line = await t.logs.waitFor(
    (r) => r.subcomponent === 'mediamtx' && r.msg.startsWith('stand-in listeners '),
    10_000,
    "the stand-in's listeners",
  );
  return JSON.parse(line.msg.slice('stand-in listeners '.length)) as string[];
}

/** Whether a process runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Waits until a process is gone. An orphan killed by the kernel is reaped by init a
 * moment later, so /proc is read until then, with a deadline.
 */
async function dies(pid: number, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (alive(pid)) {
    if (performance.now() > deadline)
      assert.fail(`${what} (${pid}) still runs after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('managed mode, isolated', () => {
  it('runs two instances side by side, each on its own ports, on the listen host only', async () => {
    const declared = [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }];
    const a = await startApp({ mediamtx: MANAGED, cameras: declared });
    try {
      const b = await startApp({ mediamtx: MANAGED, cameras: declared });
      try {
        const [first, second] = await Promise.all([listeners(a), listeners(b)]);
        // API, RTSP, RTP, RTCP, HLS, WebRTC and its ICE UDP port; nothing else (no RTMP,
        // SRT, metrics...), and nothing on every interface.
        assert.equal(first.length, 7, first.join(', '));
        for (const listener of [...first, ...second]) {
          assert.match(listener, /^(tcp|udp) 127\.0\.0\.1:\d+$/);
        }
        const ports = (list: string[]) => list.map((l) => l.replace(' 127.0.0.1', ''));
        const shared = ports(first).filter((p) => ports(second).includes(p));
        assert.deepEqual(shared, [], 'no port in common');
        for (const t of [a, b]) {
          assert.equal((await fetch(`${t.healthUrl}/health/mediamtx`)).status, 200);
        }
        // WebRTC is on, and the camera object says where.
        const client = await a.connect({ as: 'viewer' });
        const camera = (await client.getCameraStatus('test0')) as { streams: { webrtc: string } };
        assert.equal(camera.streams.webrtc, `http://127.0.0.1:${a.app.media.ports.webrtc}/test0/`);
        assert.ok(first.includes(`tcp 127.0.0.1:${a.app.media.ports.webrtc}`));
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
    }
  });
});

describe('managed mode, no orphan', () => {
  it(
    'leaves no mediamtx behind when the service is killed with SIGKILL',
    { skip: SETPRIV ? false : 'setpriv (util-linux) is not installed here' },
    async () => {
      const dir = tempDir();
      const service = await startService(
        [],
        serviceEnv(dir, {
          CAMERA_SERVICE_MEDIAMTX_MODE: 'managed',
          CAMERA_SERVICE_MEDIAMTX_BINARY: STAND_IN,
        }),
      );
      try {
        const started = await service.logs.waitFor(
          (r) => r.subcomponent === 'mediamtx' && r.msg === 'process started',
          10_000,
          'the mediamtx process',
        );
        const pid = Number(started.child_pid);
        assert.ok(alive(pid));
        assert.equal(readFileSync(join(dir, 'state', 'mediamtx.pid'), 'utf8').trim(), String(pid));
        service.child.kill('SIGKILL');
        await service.exited;
        await dies(pid, 'the mediamtx of the killed service');
      } finally {
        await killService(service);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('stops at start a mediamtx that an earlier run left running', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    // As an earlier run left it: our binary, our configuration file, its pid in the file.
    const config = writeFile(
      state,
      'mediamtx.yml',
      'api: true\napiAddress: "127.0.0.1:0"\nrtsp: false\nrtmp: false\nhls: false\nwebrtc: false\nsrt: false\n',
    );
    const stale = spawn(STAND_IN, [config], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await once(stale.stdout!, 'data');
    writeFile(state, 'mediamtx.pid', `${stale.pid}\n`);
    const gone = once(stale, 'exit');
    const t = await startApp({ mediamtx: MANAGED }, { dir });
    try {
      await gone;
      assert.ok(
        t.logs.find((r) => /a mediamtx left running by an earlier run holds its ports/.test(r.msg)),
      );
      const pid = t.app.media.supervisor!.pid!;
      assert.notEqual(pid, stale.pid);
      assert.equal(readFileSync(join(state, 'mediamtx.pid'), 'utf8').trim(), String(pid));
      assert.equal((await fetch(`${t.healthUrl}/health/mediamtx`)).status, 200);
    } finally {
      await t.stop();
    }
    assert.equal(existsSync(join(state, 'mediamtx.pid')), false, 'a clean stop removes the file');
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves alone a process that reused the pid in the file', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], {
      stdio: 'ignore',
    });
    await once(other, 'spawn');
    writeFile(state, 'mediamtx.pid', `${other.pid}\n`);
    const t = await startApp({ mediamtx: MANAGED }, { dir });
    try {
      assert.ok(t.logs.find((r) => /names another program now: left alone/.test(r.msg)));
      assert.equal(other.exitCode, null);
      assert.ok(alive(other.pid!), 'the unrelated process still runs');
    } finally {
      await t.stop();
      other.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
