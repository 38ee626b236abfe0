/**
 * The process supervisor, against real processes: a stand-in for the mediamtx binary
 * (test/fixtures/stand-in/mediamtx) that answers /v3/info and crashes or ignores
 * signals on request. Every wait is for an event or a log line, with a timeout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '../../src/logging/index.js';
import { findMediaMtxBinary } from '../../src/media/binary.js';
import { mediamtxConfig, writeMediaMtxConfig } from '../../src/media/mediamtx-config.js';
import { reservePorts } from '../../src/media/ports.js';
import {
  ProcessSupervisor,
  type ExitInfo,
  type SpawnInfo,
  type SupervisorOptions,
} from '../../src/media/supervisor.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { LogSink, type LogRecord } from '../helpers/log-sink.js';
import { within } from '../helpers/wait.js';

/** Compiled tests run from dist/test/media; the stand-in stays in the source tree. */
const STAND_IN = fileURLToPath(
  new URL('../../../test/fixtures/stand-in/mediamtx', import.meta.url),
);
const TIMEOUT = 10_000;
/** A configuration with only the API on, so that the stand-ins of parallel tests never collide. */
const MINIMAL = [
  'api: true',
  'apiAddress: "127.0.0.1:0"',
  'authInternalUsers: [{user: any, permissions: [{action: api}]}]',
  ...['rtsp', 'rtmp', 'hls', 'webrtc', 'srt'].map((server) => `${server}: false`),
  '',
].join('\n');

const supervisors: ProcessSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
});

interface Harness {
  supervisor: ProcessSupervisor;
  logs: LogSink;
  dir: string;
  spawns: Array<SpawnInfo & { at: number }>;
  exits: Array<ExitInfo & { at: number }>;
}

function harness(
  options: Partial<SupervisorOptions> & { standIn?: Record<string, string> } = {},
): Harness {
  const { standIn = {}, ...overrides } = options;
  const dir = tempDir('camera-service-supervisor-');
  const config = writeFile(dir, 'mediamtx.yml', MINIMAL);
  const logs = new LogSink();
  const { logger } = createLogger({
    level: 'debug',
    format: 'json',
    environment: 'production',
    destination: logs,
  });
  const supervisor = new ProcessSupervisor({
    name: 'mediamtx',
    command: STAND_IN,
    args: [config],
    env: { ...process.env, ...standIn },
    log: logger,
    backoff: { initialMs: 50, maxMs: 400 },
    random: () => 0.5, // the jitter factor is then exactly 1
    stopGraceMs: 3000,
    ...overrides,
  });
  supervisors.push(supervisor);
  const spawns: Harness['spawns'] = [];
  const exits: Harness['exits'] = [];
  supervisor.on('spawn', (info) => spawns.push({ ...info, at: performance.now() }));
  supervisor.on('exit', (info) => exits.push({ ...info, at: performance.now() }));
  return { supervisor, logs, dir, spawns, exits };
}

/** Resolves once `check` holds, testing it after every spawn and exit. */
function until(h: Harness, check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = () => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${TIMEOUT} ms waiting for ${what}`));
    }, TIMEOUT);
    const done = () => {
      clearTimeout(timer);
      h.supervisor.off('spawn', probe);
      h.supervisor.off('exit', probe);
    };
    h.supervisor.on('spawn', probe);
    h.supervisor.on('exit', probe);
    probe();
  });
}

/** The address the stand-in with this pid listens on, from its 'stand-in listening' line. */
async function listening(h: Harness, pid: number): Promise<string> {
  const record = await h.logs.waitFor(
    (r) => r.child_pid === pid && r.msg.startsWith('stand-in listening '),
    TIMEOUT,
    `the stand-in ${pid} to listen`,
  );
  return record.msg.slice('stand-in listening '.length);
}

/** The stand-in's path list (its API, as every MediaMTX version answers it). */
async function pathList(address: string, authorization?: string): Promise<{ itemCount: number }> {
  const response = await fetch(`http://${address}/v3/paths/list`, {
    headers: authorization ? { authorization } : {},
  });
  assert.equal(response.status, 200);
  return (await response.json()) as { itemCount: number };
}

/** True when no process is left in the group (kill(-pgid, 0) fails with ESRCH). */
function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ESRCH');
    return true;
  }
}

/**
 * Whether a process is alive. A killed orphan stays a zombie until init reaps it, which
 * can take a while in a container; a zombie runs nothing and counts as dead.
 */
function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/**
 * Waits until a killed process is dead. SIGKILL is delivered asynchronously: its pipes
 * close (which is what the supervisor waits for) a moment before the kernel has finished
 * the exit, so the test polls /proc briefly, with a deadline, instead of reading it once.
 */
async function dies(pid: number, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (alive(pid)) {
    if (performance.now() > deadline)
      assert.fail(`${what} (${pid}) still runs after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const last = <T>(list: T[]): T => {
  assert.ok(list.length > 0);
  return list[list.length - 1]!;
};

describe('ProcessSupervisor', () => {
  it('starts the process, which answers /v3/info, and stops it', async () => {
    const h = harness();
    assert.equal(h.supervisor.state, 'idle');
    h.supervisor.start();
    assert.equal(h.supervisor.state, 'running');
    await until(h, () => h.spawns.length === 1, 'the spawn event');
    const { pid, attempt } = h.spawns[0]!;
    assert.equal(attempt, 1);
    assert.equal(h.supervisor.pid, pid);
    assert.equal(h.supervisor.running, true);
    const answer = await pathList(await listening(h, pid));
    assert.equal(answer.itemCount, 0);

    const line = h.logs.find((r) => r.msg.startsWith('stand-in listening'))!;
    assert.equal(line.component, 'mediamtx');
    assert.equal(line.stream, 'stdout');
    assert.equal(line.level, 'info');
    assert.ok(h.logs.find((r) => r.msg === 'process started' && r.child_pid === pid));

    await h.supervisor.stop();
    assert.equal(h.supervisor.state, 'stopped');
    assert.equal(h.supervisor.pid, undefined);
    assert.equal(h.supervisor.running, false);
    assert.equal(groupGone(pid), true, 'nothing is left in the process group');
    const exit = last(h.exits);
    assert.equal(exit.restartInMs, null);
    assert.equal(exit.code, 0, 'the stand-in exits cleanly on SIGTERM');
    assert.equal(exit.error, null);
    assert.ok(h.logs.find((r) => r.msg === 'stopped'));
    assert.equal(h.supervisor.restarts, 0);
    await h.supervisor.stop(); // idempotent
    assert.equal(h.spawns.length, 1);
  });

  it('restarts a process killed with SIGKILL after the backoff delay', async () => {
    const h = harness();
    h.supervisor.start();
    await until(h, () => h.spawns.length === 1, 'the first spawn');
    const first = h.spawns[0]!.pid;
    await listening(h, first);
    process.kill(first, 'SIGKILL');
    await until(h, () => h.spawns.length === 2, 'the restart');
    const exit = h.exits[0]!;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.code, null);
    assert.equal(exit.restartInMs, 50);
    const second = h.spawns[1]!;
    assert.notEqual(second.pid, first);
    assert.equal(second.attempt, 2);
    assert.ok(second.at - exit.at >= 49, `restarted after ${second.at - exit.at} ms`);
    assert.equal(h.supervisor.restarts, 1);
    assert.equal((await pathList(await listening(h, second.pid))).itemCount, 0);
    const logged = h.logs.find((r) => r.msg === 'process exited unexpectedly')!;
    assert.equal(logged.level, 'warn');
    assert.equal(logged.signal, 'SIGKILL');
    assert.equal(logged.restart_in_ms, 50);
    assert.equal(typeof logged.uptime_ms, 'number');
  });

  it('backs off exponentially in a crash loop, up to maxMs, and resets after a stable run', async () => {
    let clock = 0;
    const dir = tempDir();
    const crashFile = writeFile(dir, 'crash', '');
    const h = harness({
      standIn: { STANDIN_CRASH_FILE: crashFile },
      backoff: { initialMs: 50, maxMs: 400, factor: 2 },
      stableAfterMs: 1000,
      now: () => clock, // runs last no time unless the test moves the clock
    });
    // The fifth crash is the last: the next start finds the port free.
    h.supervisor.on('exit', () => {
      if (h.exits.length === 5) rmSync(crashFile);
    });
    h.supervisor.start();
    await until(h, () => h.spawns.length === 6, 'five crashes and a good start');
    const crashes = h.exits.slice(0, 5);
    assert.deepEqual(
      crashes.map((e) => e.restartInMs),
      [50, 100, 200, 400, 400],
    );
    for (const crash of crashes) {
      assert.equal(crash.code, 1);
      assert.ok(crash.tail.some((line) => line.endsWith('bind: address already in use')));
    }
    for (let i = 0; i < 5; i += 1) {
      const gap = h.spawns[i + 1]!.at - h.exits[i]!.at;
      assert.ok(gap >= crashes[i]!.restartInMs! - 1, `restart ${i + 1} came after ${gap} ms`);
    }
    assert.equal(h.supervisor.restarts, 5);

    const good = h.spawns[5]!.pid;
    await listening(h, good);
    clock += 1000; // it has now run for stableAfterMs
    process.kill(good, 'SIGKILL');
    await until(h, () => h.spawns.length === 7, 'the restart after a stable run');
    assert.equal(h.exits[5]!.uptimeMs, 1000);
    assert.equal(h.exits[5]!.restartInMs, 50, 'a stable run resets the backoff');

    const unstable = h.spawns[6]!.pid;
    await listening(h, unstable);
    process.kill(unstable, 'SIGKILL');
    await until(h, () => h.spawns.length === 8, 'the restart after a short run');
    assert.equal(h.exits[6]!.restartInMs, 100, 'a short run does not');
  });

  it('spreads each delay by a random factor in [1 - jitter, 1 + jitter]', async () => {
    const randoms = [0, 0.999999, 0.5];
    const h = harness({
      standIn: { STANDIN_CRASH_FILE: writeFile(tempDir(), 'crash', '') },
      backoff: { initialMs: 40, maxMs: 1000, jitter: 0.5 },
      random: () => randoms.shift() ?? 0.5,
    });
    h.supervisor.start();
    await until(h, () => h.exits.length === 3, 'three crashes');
    assert.deepEqual(
      h.exits.map((e) => e.restartInMs),
      [20, 120, 160], // 40 x 0.5, 80 x 1.5, 160 x 1
    );
  });

  it('stop() during the backoff cancels the restart', async () => {
    const h = harness({
      standIn: { STANDIN_CRASH_FILE: writeFile(tempDir(), 'crash', '') },
      backoff: { initialMs: 100, maxMs: 100 },
    });
    h.supervisor.start();
    await until(h, () => h.exits.length === 1, 'the crash');
    assert.equal(h.supervisor.state, 'backoff');
    assert.equal(h.supervisor.pid, undefined);
    await h.supervisor.stop();
    assert.equal(h.supervisor.state, 'stopped');
    assert.ok(h.logs.find((r) => r.msg === 'stopping: the pending restart is cancelled'));
    // A negative: nothing may start when the restart would have been due (100 ms).
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(h.spawns.length, 1);
    assert.equal(h.supervisor.restarts, 0);
  });

  it('stop() kills the process group with SIGKILL when SIGTERM is ignored', async () => {
    const h = harness({ standIn: { STANDIN_IGNORE_SIGTERM: '1' }, stopGraceMs: 300 });
    h.supervisor.start();
    await until(h, () => h.spawns.length === 1, 'the spawn');
    const pid = h.spawns[0]!.pid;
    await listening(h, pid); // its SIGTERM handler is in place
    const started = performance.now();
    await within(h.supervisor.stop(), TIMEOUT, 'stop()');
    const took = performance.now() - started;
    assert.ok(took >= 299, `stopped after ${took} ms, before the grace period ended`);
    assert.ok(h.logs.find((r) => r.msg === 'stand-in ignoring SIGTERM'));
    assert.ok(h.logs.find((r) => r.msg.startsWith('the process did not stop in time')));
    assert.equal(last(h.exits).signal, 'SIGKILL');
    assert.equal(last(h.exits).restartInMs, null);
    assert.equal(groupGone(pid), true);
    assert.equal(h.supervisor.state, 'stopped');
  });

  it('stop() leaves nothing running of the group, not even a child that ignores SIGTERM', async () => {
    const h = harness({ standIn: { STANDIN_GRANDCHILD: '1' }, stopGraceMs: 5000 });
    h.supervisor.start();
    await until(h, () => h.spawns.length === 1, 'the spawn');
    const pid = h.spawns[0]!.pid;
    const line = await h.logs.waitFor((r) => r.msg.startsWith('stand-in grandchild '));
    const grandchild = Number(line.msg.split(' ')[2]);
    assert.equal(alive(grandchild), true);
    const started = performance.now();
    await h.supervisor.stop();
    assert.ok(performance.now() - started < 4000, 'the grandchild did not hold stop() up');
    assert.equal(last(h.exits).code, 0);
    assert.equal(alive(pid), false);
    await dies(grandchild, 'the grandchild that ignores SIGTERM');
  });

  it('kills what a crashed process left behind in its group before restarting it', async () => {
    const h = harness({ standIn: { STANDIN_GRANDCHILD: '1' } });
    h.supervisor.start();
    await until(h, () => h.spawns.length === 1, 'the spawn');
    const line = await h.logs.waitFor((r) => r.msg.startsWith('stand-in grandchild '));
    const grandchild = Number(line.msg.split(' ')[2]);
    process.kill(h.spawns[0]!.pid, 'SIGKILL');
    await until(h, () => h.exits.length === 1, 'the exit');
    await dies(grandchild, 'the orphan of the crashed leader');
  });

  it('reports a missing binary in words, and retries it with backoff', async () => {
    const missing = join(tempDir(), 'bin', 'mediamtx');
    const h = harness({ command: missing });
    const errors: Error[] = [];
    h.supervisor.on('error', (error) => errors.push(error));
    h.supervisor.start();
    assert.equal(h.supervisor.running, false);
    await until(h, () => h.exits.length === 3, 'three failed starts');
    assert.deepEqual(
      h.exits.map((e) => [e.error, e.restartInMs, e.uptimeMs, e.code]),
      [
        [`could not start ${missing}: file not found`, 50, 0, null],
        [`could not start ${missing}: file not found`, 100, 0, null],
        [`could not start ${missing}: file not found`, 200, 0, null],
      ],
    );
    assert.equal(errors.length, 3);
    assert.equal(errors[0]!.message, `could not start ${missing}: file not found`);
    assert.ok(h.supervisor.restarts >= 2);
    assert.equal(h.spawns.length, 0);
    const logged = h.logs.find((r) => r.msg === `could not start ${missing}: file not found`)!;
    assert.equal(logged.level, 'error');
    await h.supervisor.stop();
    assert.equal(h.supervisor.state, 'stopped');
  });

  it('reports a file it may not execute, even with nobody listening for errors', async () => {
    const file = writeFile(tempDir(), 'mediamtx', '#!/bin/sh\n');
    chmodSync(file, 0o644);
    const h = harness({ command: file }); // no 'error' listener: must not throw
    h.supervisor.start();
    await until(h, () => h.exits.length === 2, 'two failed starts');
    assert.match(
      h.exits[0]!.error!,
      /^could not start .*: permission denied \(is the file executable/,
    );
  });

  it('keeps the last lines in a tail, and cuts overlong lines', async () => {
    const h = harness({
      standIn: {
        STANDIN_CRASH_FILE: writeFile(tempDir(), 'crash', ''),
        STANDIN_LONG_LINE: '5000',
      },
    });
    h.supervisor.start();
    await until(h, () => h.exits.length === 1, 'the crash');
    const { tail } = h.exits[0]!;
    assert.equal(tail.length, 2);
    assert.equal(tail[0], `${'x'.repeat(2048)} …(line cut at 2048 characters)`);
    assert.equal(tail[1], 'stand-in: listen tcp :8554: bind: address already in use');
    assert.deepEqual(h.supervisor.tail(), tail);
    const logged = h.logs.find((r: LogRecord) => r.msg.endsWith('address already in use'))!;
    assert.equal(logged.stream, 'stderr');
    assert.equal(logged.level, 'warn');
    assert.equal(logged.component, 'mediamtx');
  });

  it('does not let the process outlive the service', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'mediamtx.yml', MINIMAL);
    const src = (path: string) =>
      pathToFileURL(fileURLToPath(new URL(`../../src/${path}`, import.meta.url))).href;
    // A service that starts the stand-in, waits until it listens, then exits.
    const script = `
      import { ProcessSupervisor } from ${JSON.stringify(src('media/supervisor.js'))};
      import { createLogger } from ${JSON.stringify(src('logging/index.js'))};
      const destination = {
        write(line) {
          if (!line.includes('stand-in listening')) return;
          process.stdout.write('standin ' + JSON.parse(line).child_pid + '\\n');
          process.exit(0);
        },
      };
      const { logger } = createLogger({ level: 'info', format: 'json', environment: 'production', destination });
      new ProcessSupervisor({
        name: 'mediamtx', command: ${JSON.stringify(STAND_IN)}, args: [${JSON.stringify(config)}], log: logger,
      }).start();
    `;
    const service = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    service.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await within(
      new Promise<number | null>((resolve) => service.on('exit', (c) => resolve(c))),
      TIMEOUT,
      'the service to exit',
    );
    assert.equal(code, 0);
    const pid = Number(/standin (\d+)/.exec(output)?.[1]);
    assert.ok(pid > 0, output);
    await dies(pid, 'the stand-in of the service that exited');
  });

  it('runs the stand-in as PATH mediamtx with a generated configuration', async () => {
    const [port, rtspPort, hlsPort, webrtcPort, webrtcIceUdpPort] = await reservePorts([
      ...[0, 0, 0, 0].map(() => ({ kind: 'tcp' as const, host: '127.0.0.1', port: 0 })),
      { kind: 'udp', host: '127.0.0.1', port: 0 },
    ]);
    const dir = tempDir();
    const config = join(dir, 'state', 'mediamtx.yml');
    writeMediaMtxConfig(
      config,
      mediamtxConfig({
        apiPort: port!,
        rtspPort: rtspPort!,
        hlsPort: hlsPort!,
        webrtcPort: webrtcPort!,
        webrtcIceUdpPort: webrtcIceUdpPort!,
        listenHost: '127.0.0.1',
        apiUser: 'camera-service',
        apiPassword: 'c2VjcmV0LXBhc3N3b3Jk',
        rtspTransports: ['tcp'],
        logLevel: 'warn',
      }),
    );
    const binary = findMediaMtxBinary(null, { PATH: `/nonexistent:${dirname(STAND_IN)}` });
    assert.deepEqual(binary, { path: STAND_IN, how: 'PATH' });
    const h = harness({ command: binary.path, args: [config] });
    h.supervisor.start();
    await until(h, () => h.spawns.length === 1, 'the spawn');
    assert.equal(await listening(h, h.spawns[0]!.pid), `127.0.0.1:${port}`);
    // Only the service's API user may use the API (authInternalUsers, without the hook).
    const refused = await fetch(`http://127.0.0.1:${port}/v3/paths/list`);
    assert.equal(refused.status, 401);
    const basic = `Basic ${Buffer.from('camera-service:c2VjcmV0LXBhc3N3b3Jk').toString('base64')}`;
    assert.equal((await pathList(`127.0.0.1:${port}`, basic)).itemCount, 0);
    // No /v3/info before MediaMTX v1.16, which the stand-in is by default.
    const info = await fetch(`http://127.0.0.1:${port}/v3/info`, {
      headers: { authorization: basic },
    });
    assert.equal(info.status, 404);
  });

  it('refuses nonsense options and a start() while stopping', async () => {
    const log = createLogger({ level: 'error', format: 'json', environment: 'production' });
    assert.throws(
      () =>
        new ProcessSupervisor({
          name: 'x',
          command: 'x',
          args: [],
          log: log.logger,
          backoff: { initialMs: 100, maxMs: 10, jitter: 2 },
        }),
      /invalid process supervisor options: backoff.maxMs must be >= initialMs; backoff.jitter must be between 0 and 1/,
    );
    const h = harness({ standIn: { STANDIN_IGNORE_SIGTERM: '1' }, stopGraceMs: 200 });
    h.supervisor.start();
    await until(h, () => h.spawns.length === 1, 'the spawn');
    await listening(h, h.spawns[0]!.pid);
    const stopping = h.supervisor.stop();
    assert.equal(h.supervisor.state, 'stopping');
    assert.throws(() => h.supervisor.start(), /mediamtx is still stopping/);
    assert.equal(h.supervisor.stop(), stopping, 'a second stop() shares the first');
    await stopping;
    h.supervisor.start(); // a stopped supervisor can start again
    await until(h, () => h.spawns.length === 2, 'the new start');
    assert.equal(h.spawns[1]!.attempt, 1);
  });
});
