/** Configured paths with runOnDemand, driven by real ffmpeg commands and readers. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  PATH_DEFAULTS,
  PathManager,
  RtspServer,
  parseDuration,
  type PathConf,
} from '../src/index.js';
import { run } from './helpers/media.js';
import { RawReader } from './helpers/reader.js';

const PUBLISH =
  'ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp ' +
  'rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH';

async function relayWith(conf: Partial<PathConf> & { name: string }) {
  let port = 0;
  const paths = new PathManager({ rtspPort: () => port, restartDelayMs: 100, killGraceMs: 2000 });
  await paths.set({ ...PATH_DEFAULTS, ...conf });
  const server = new RtspServer({ host: '127.0.0.1', port: 0, paths });
  port = (await server.start()).port;
  return {
    paths,
    url: `rtsp://127.0.0.1:${port}/${conf.name}`,
    async stop() {
      await paths.close();
      await server.stop();
    },
  };
}

const alive = (pid: number) => {
  const stat = `/proc/${pid}/stat`;
  return existsSync(stat) && !/\) Z /.test(readFileSync(stat, 'utf8'));
};

describe('durations', () => {
  for (const [text, ms] of [
    ['10s', 10_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['2h', 7_200_000],
  ] as const) {
    it(`reads ${text}`, () => assert.equal(parseDuration(text), ms));
  }
  for (const bad of ['', '10', 's', '10x', '1s '])
    it(`refuses "${bad}"`, () => assert.throws(() => parseDuration(bad)));
});

describe('paths published under all_others', () => {
  const SDP =
    'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
    'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';

  it('exist while published, are not configuration, and leave with their publisher', async () => {
    const paths = new PathManager({ rtspPort: () => 0, allowUnconfigured: true });
    const stream = paths.publish('visitor', SDP, 'session1');
    assert.ok(!('status' in stream));
    assert.deepEqual(paths.names(), ['visitor']);
    assert.deepEqual(paths.configs(), []);
    assert.equal(paths.config('visitor'), undefined);
    paths.unpublish('visitor', stream);
    assert.deepEqual(paths.names(), []);
    assert.equal(paths.state('visitor'), undefined);
    // The name is free for a configured path, and for the next publisher.
    await paths.set({ ...PATH_DEFAULTS, name: 'visitor' });
    assert.equal(paths.config('visitor')?.name, 'visitor');
    await paths.close();
  });

  it('are refused without all_others', () => {
    const paths = new PathManager({ rtspPort: () => 0 });
    assert.deepEqual(paths.publish('visitor', SDP, 'session1'), {
      status: 404,
      reason: 'path visitor is not configured',
    });
  });
});

describe('runOnDemand', () => {
  it('starts the command on the first reader, holds the reader until ready, and passes MTX_PATH and RTSP_PORT', async () => {
    const relay = await relayWith({
      name: 'cam0',
      runOnDemand: PUBLISH,
      runOnDemandCloseAfter: '60s',
    });
    try {
      const started: number[] = [];
      relay.paths.on('commandStarted', (_name, pid) => started.push(pid));
      const probe = await run('ffprobe', [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name,width',
        '-of',
        'csv=p=0',
        relay.url,
      ]);
      assert.equal(probe.code, 0, probe.stderr);
      assert.equal(probe.stdout.toString().trim(), 'h264,320');
      assert.equal(started.length, 1, 'one command for the path');
      const again = await run('ffprobe', [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        relay.url,
      ]);
      assert.equal(again.code, 0);
      assert.equal(started.length, 1, 'a second reader reuses the running command');
    } finally {
      await relay.stop();
    }
  });

  it('stops the command runOnDemandCloseAfter after the last reader leaves', async () => {
    const relay = await relayWith({
      name: 'cam1',
      runOnDemand: PUBLISH,
      runOnDemandCloseAfter: '400ms',
    });
    try {
      const reader = await RawReader.connect(relay.url);
      await reader.play(relay.url);
      await once(reader, 'packet');
      const exited = once(relay.paths, 'commandExited');
      const leftAt = performance.now();
      reader.socket.destroy();
      await exited;
      const after = performance.now() - leftAt;
      assert.ok(
        after >= 350 && after < 3000,
        `stopped ${after.toFixed(0)} ms after the last reader left`,
      );
    } finally {
      await relay.stop();
    }
  });

  it('restarts a command that crashes, with runOnDemandRestart', async () => {
    const relay = await relayWith({
      name: 'cam2',
      runOnDemand: PUBLISH,
      runOnDemandRestart: true,
      runOnDemandCloseAfter: '60s',
    });
    try {
      const pids: number[] = [];
      relay.paths.on('commandStarted', (_n, pid) => pids.push(pid));
      const reader = await RawReader.connect(relay.url);
      await reader.play(relay.url);
      await once(reader, 'packet');
      const restarted = once(relay.paths, 'commandStarted');
      const readyAgain = new Promise((resolve) => relay.paths.once('ready', resolve));
      process.kill(pids[0]!, 'SIGKILL');
      await restarted;
      await readyAgain;
      assert.equal(pids.length, 2);
      assert.notEqual(pids[0], pids[1]);
      const probe = await run('ffprobe', [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        relay.url,
      ]);
      assert.equal(probe.stdout.toString().trim(), 'h264');
    } finally {
      await relay.stop();
    }
  });

  it('still stops a restarted command runOnDemandCloseAfter after its crash closed every reader', async () => {
    const relay = await relayWith({
      name: 'cam5',
      runOnDemand: PUBLISH,
      runOnDemandRestart: true,
      runOnDemandCloseAfter: '500ms',
    });
    try {
      const pids: number[] = [];
      relay.paths.on('commandStarted', (_n, pid) => pids.push(pid));
      const reader = await RawReader.connect(relay.url);
      await reader.play(relay.url);
      await once(reader, 'packet');
      const exits: string[] = [];
      const twoExits = new Promise<void>((resolve) =>
        relay.paths.on('commandExited', (_n, exit) => {
          exits.push(exit.signal ?? String(exit.code));
          if (exits.length === 2) resolve();
        }),
      );
      process.kill(pids[0]!, 'SIGKILL');
      await twoExits;
      assert.equal(exits[0], 'SIGKILL', 'the crash');
      assert.equal(pids.length, 2, 'restarted once, then stopped for want of readers');
    } finally {
      await relay.stop();
    }
  });

  it('a reader arriving while a crashed command waits to restart shares that restart', async () => {
    const relay = await relayWith({
      name: 'cam6',
      runOnDemand: PUBLISH,
      runOnDemandRestart: true,
      runOnDemandCloseAfter: '60s',
    });
    try {
      const pids: number[] = [];
      relay.paths.on('commandStarted', (_n, pid) => pids.push(pid));
      const first = await RawReader.connect(relay.url);
      await first.play(relay.url);
      await once(first, 'packet');
      const second = await RawReader.connect(relay.url);
      const crashed = once(relay.paths, 'commandExited');
      process.kill(pids[0]!, 'SIGKILL');
      await crashed;
      // Inside the 100 ms restart pause: the path has no stream and no running command.
      await second.play(relay.url);
      await once(second, 'packet');
      assert.equal(pids.length, 2, `one restart, not a second command: ${pids.join(', ')}`);
    } finally {
      await relay.stop();
    }
  });

  it('a reader that gives up during an on-demand start does not keep the command running', async () => {
    const relay = await relayWith({
      name: 'cam7',
      runOnDemand: PUBLISH,
      runOnDemandCloseAfter: '200ms',
    });
    try {
      const started = once(relay.paths, 'commandStarted');
      const reader = await RawReader.connect(relay.url);
      void reader.request('DESCRIBE', relay.url);
      await started;
      reader.socket.destroy();
      // The stream becomes ready with nobody left reading: closed 200 ms after that.
      await once(relay.paths, 'commandExited', { signal: AbortSignal.timeout(10_000) });
    } finally {
      await relay.stop();
    }
  });

  it('answers 404 when the command does not publish within runOnDemandStartTimeout, and stops it', async () => {
    const relay = await relayWith({
      name: 'cam3',
      runOnDemand: 'sleep 30',
      runOnDemandStartTimeout: '500ms',
    });
    try {
      const exited = once(relay.paths, 'commandExited');
      const reader = await RawReader.connect(relay.url);
      const started = performance.now();
      const describe = await reader.request('DESCRIBE', relay.url);
      const waited = performance.now() - started;
      assert.equal(describe.status, 404);
      assert.ok(waited >= 450 && waited < 3000, `answered after ${waited.toFixed(0)} ms`);
      await exited;
      reader.socket.destroy();
    } finally {
      await relay.stop();
    }
  });

  it('kills the whole process group when the path goes away', async () => {
    // Shell syntax goes in a script: the command itself runs without a shell (and MediaMTX
    // would expand `$!` in it to nothing). The script reads RTSP_PORT and MTX_PATH from its
    // environment.
    const dir = mkdtempSync(join(tmpdir(), 'relay-'));
    const pidFile = join(dir, 'child.pid');
    const script = join(dir, 'publish.sh');
    writeFileSync(script, `sleep 300 &\necho $! > '${pidFile}'\nexec ${PUBLISH}\n`);
    const relay = await relayWith({
      name: 'cam4',
      runOnDemand: `sh ${script}`,
      runOnDemandCloseAfter: '60s',
    });
    try {
      const reader = await RawReader.connect(relay.url);
      await reader.play(relay.url);
      await once(reader, 'packet');
      const grandchild = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(alive(grandchild));
      reader.socket.destroy();
      await relay.paths.remove('cam4');
      // SIGKILL to the group has been sent by now; the kernel ends the process soon after
      // (on a busy machine, not always within a few event-loop turns).
      const deadline = performance.now() + 5000;
      while (alive(grandchild) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(alive(grandchild), false, 'the background child of the command is gone');
    } finally {
      await relay.stop();
    }
  });
});
