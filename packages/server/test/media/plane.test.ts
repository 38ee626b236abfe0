/**
 * The media plane in the running service, through the same client code for every media
 * server: the embedded relay (in-process, and as a separate "external" server that the
 * test can kill and restart), and real MediaMTX in managed mode when MEDIAMTX_BIN points
 * at a binary (see docs/operations.md#testing-against-real-mediamtx).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { RpcError } from '@camera-service/sdk';
import type { Config } from '../../src/config/index.js';
import { describe as rtspDescribe, resolveMode } from '../../src/media/index.js';
import { relayImitation, startApp, type TestApp } from '../helpers/app.js';
import { startMediaServer, type TestMediaServer } from '../helpers/media.js';
import { within } from '../helpers/wait.js';

const run = promisify(execFile);
const STAND_IN = fileURLToPath(
  new URL('../../../test/fixtures/stand-in/mediamtx', import.meta.url),
);

/** Checks every 100 ms, and gives up on the media server quickly. */
const FAST = {
  api_timeout_seconds: 1,
  health_check_interval_seconds: 0.1,
  backoff_initial_seconds: 0.05,
  backoff_max_seconds: 0.2,
  breaker_failure_threshold: 2,
  breaker_success_threshold: 2,
  // Long enough that the checks below all see it open, not yet half-open, on a busy CI.
  breaker_open_seconds: 1,
  on_demand_start_timeout_seconds: 10,
  on_demand_close_after_seconds: 5,
};

interface Backend {
  name: string;
  skip?: string;
  start(): Promise<{
    t: TestApp;
    /** The media server goes away and stays away. */
    kill(): Promise<void>;
    /** It comes back, with none of the paths the API gave it. */
    revive(): Promise<void>;
    stop(): Promise<void>;
  }>;
}

const backends: Backend[] = [
  {
    name: 'the embedded relay as an external media server',
    async start() {
      const server: TestMediaServer = await startMediaServer();
      const t = await startApp({
        mediamtx: {
          ...FAST,
          mode: 'external',
          host: '127.0.0.1',
          api_port: server.apiPort,
          rtsp_port: server.rtspPort,
        },
      });
      return {
        t,
        kill: () => server.kill(),
        revive: () => server.restart(),
        async stop() {
          await t.stop();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'MediaMTX in managed mode (MEDIAMTX_BIN)',
    ...(!process.env.MEDIAMTX_BIN && { skip: 'set MEDIAMTX_BIN to run against real MediaMTX' }),
    async start() {
      const t = await startApp({
        mediamtx: {
          ...FAST,
          mode: 'managed',
          binary: process.env.MEDIAMTX_BIN ?? null,
          rtsp_transports: ['tcp'],
        },
      });
      const supervisor = t.app.media.supervisor!;
      return {
        t,
        // Stopped rather than killed: a killed one is restarted at once (tested below).
        kill: () => supervisor.stop(),
        revive: async () => supervisor.start(),
        stop: () => t.stop(),
      };
    },
  },
];

for (const backend of backends) {
  describe(`media plane against ${backend.name}`, { skip: backend.skip ?? false }, () => {
    let env: Awaited<ReturnType<Backend['start']>>;
    let t: TestApp;
    before(async () => {
      env = await backend.start();
      t = env.t;
    });
    after(() => env?.stop());

    it('creates, leaves alone, replaces and deletes camera paths', async () => {
      const { paths, client } = t.app.media;
      const conf = t.app.media.cameraPathConf('cam_a', {
        kind: 'v4l2',
        device: '/dev/video0',
        inputFormat: 'mjpeg',
        size: '640x480',
        fps: 15,
      });
      assert.equal(await paths.ensure('cam_a', conf), 'created');
      const stored = await client.getPathConfig('cam_a');
      assert.equal(stored?.runOnDemand, conf.runOnDemand);
      assert.equal(stored?.runOnDemandRestart, true);
      assert.equal(stored?.runOnDemandStartTimeout, '10s');
      assert.equal(stored?.runOnDemandCloseAfter, '5s');
      assert.equal(await paths.ensure('cam_a', { ...conf }), 'unchanged');
      const other = t.app.media.cameraPathConf('cam_a', { kind: 'v4l2', device: '/dev/video1' });
      assert.equal(await paths.ensure('cam_a', other), 'replaced');
      assert.match((await client.getPathConfig('cam_a'))?.runOnDemand ?? '', / -i \/dev\/video1 /);
      assert.equal(await paths.remove('cam_a'), true);
      assert.equal(await client.getPathConfig('cam_a'), null);
    });

    it('pulls a network camera with its URL as the source', async () => {
      const conf = t.app.media.cameraPathConf('lobby', {
        kind: 'url',
        url: 'rtsp://10.255.0.1:554/stream',
      });
      assert.deepEqual(conf, { source: 'rtsp://10.255.0.1:554/stream' });
      assert.equal(await t.app.media.paths.ensure('lobby', conf), 'created');
      assert.equal(
        (await t.app.media.client.getPathConfig('lobby'))?.source,
        'rtsp://10.255.0.1:554/stream',
      );
      await t.app.media.paths.remove('lobby');
    });

    it('starts a test-pattern path on demand and lists it in get_streams', async () => {
      const { media } = t.app;
      await media.paths.ensure(
        'pattern',
        media.cameraPathConf('pattern', { kind: 'test_pattern', size: '320x240', fps: 10 }),
      );
      const client = await t.connect({ as: 'viewer' });
      const idle = (await client.request('get_streams')) as { name: string }[];
      assert.deepEqual(
        idle.find((s) => s.name === 'pattern'),
        { name: 'pattern', source: null, ready: false, readers: 0, bytes_sent: 0 },
      );
      const state = await media.waitReady('pattern');
      assert.equal(state.ready, true);
      const { stdout } = await run(
        'ffprobe',
        [
          ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0'],
          ...['-show_entries', 'stream=codec_name,profile,level,width,height'],
          ...['-of', 'json', `${media.rtspBase()}/pattern`],
        ],
        { timeout: 15_000 },
      );
      assert.deepEqual(JSON.parse(stdout).streams[0], {
        codec_name: 'h264',
        profile: 'Constrained Baseline',
        level: 30,
        width: 320,
        height: 240,
      });
      const live = (await client.request('get_streams')) as {
        name: string;
        source: string | null;
        ready: boolean;
        bytes_sent: number;
      }[];
      const pattern = live.find((s) => s.name === 'pattern');
      assert.equal(pattern?.ready, true);
      assert.ok(pattern?.source, 'a publisher feeds it');
      assert.ok((pattern?.bytes_sent ?? 0) > 0, 'ffprobe was sent the stream');
      await media.paths.remove('pattern');
    });

    it('tells when a stream started by someone else becomes ready, and when it stops', async () => {
      const { media } = t.app;
      const source = { kind: 'test_pattern' as const, size: '320x240', fps: 10, clock: false };
      await media.paths.ensure('watched', {
        ...media.cameraPathConf('watched', source),
        runOnDemandCloseAfter: '1s',
      });
      const seen = (ready: boolean) =>
        new Promise<void>((resolve) => {
          const off = media.onReadiness((name, now) => {
            if (name !== 'watched' || now !== ready) return;
            off();
            resolve();
          });
        });
      const up = seen(true);
      // A reader the service knows nothing of: only the media server can tell.
      const answer = await rtspDescribe(media.readerUrl('watched'), 15_000);
      assert.equal(answer.status, 200);
      await within(up, 5000, 'the ready event');
      assert.equal(media.isReady('watched'), true);
      // Nobody reads it: the media server stops it after runOnDemandCloseAfter.
      await within(seen(false), 15_000, 'the stopped event');
      assert.equal(media.isReady('watched'), false);
      await media.paths.remove('watched');
    });

    it('says why a camera stream cannot start', async () => {
      const { media } = t.app;
      const device = join(t.dir, 'video42');
      await media.paths.ensure('gone', {
        ...media.cameraPathConf('gone', { kind: 'v4l2', device }),
        runOnDemandStartTimeout: '2s',
      });
      await assert.rejects(media.waitReady('gone', undefined, 3000), (error: Error) => {
        assert.match(
          error.message,
          /(could not start|did not become ready within 3\.0 s): ffmpeg said: .*No such file or directory/,
        );
        assert.ok(error.message.includes(device));
        return true;
      });
      await media.paths.remove('gone');
    });

    it('opens the breaker when the media server dies, closes it when it is back, and re-creates the paths', async () => {
      const { media } = t.app;
      await media.paths.ensure(
        'keep1',
        media.cameraPathConf('keep1', { kind: 'v4l2', device: '/dev/video7' }),
      );
      await media.paths.ensure('keep2', { source: 'rtsp://10.255.0.2/s' });
      const recovered = new Promise<string[]>((resolve) => {
        const off = media.onRecovered((names) => {
          off();
          resolve(names);
        });
      });
      await env.kill();
      await t.logs.waitFor(
        (r) => r.msg === 'media server circuit breaker open',
        5000,
        'breaker open',
      );
      const health = await fetch(`${t.healthUrl}/health/mediamtx`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { status: string; details: { breaker: string } };
      assert.equal(body.status, 'unhealthy');
      assert.equal(body.details.breaker, 'open');
      const system = (await (await fetch(`${t.healthUrl}/health/system`)).json()) as {
        status: string;
        components: Record<string, { status: string; details?: { breaker?: string } }>;
      };
      assert.equal(system.status, 'unhealthy');
      assert.equal(system.components.mediamtx?.status, 'unhealthy');
      assert.equal(system.components.mediamtx?.details?.breaker, 'open');
      const client = await t.connect({ as: 'viewer' });
      await assert.rejects(client.request('get_streams'), (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, -1003);
        assert.match(error.message, /^The media server is not answering/);
        return true;
      });
      const metrics = await (await fetch(`${t.healthUrl}/metrics`)).text();
      assert.match(metrics, /camera_service_mediamtx_breaker_state\{state="open"\} 1/);
      assert.match(metrics, /camera_service_mediamtx_up 0/);

      await env.revive();
      assert.deepEqual((await recovered).sort(), ['keep1', 'keep2']);
      await t.logs.waitFor(
        (r) => r.msg === 'media server circuit breaker closed',
        5000,
        'breaker closed',
      );
      assert.equal((await media.client.getPathConfig('keep1'))?.runOnDemandRestart, true);
      assert.equal((await media.client.getPathConfig('keep2'))?.source, 'rtsp://10.255.0.2/s');
      assert.equal((await fetch(`${t.healthUrl}/health/mediamtx`)).status, 200);
      await media.paths.remove('keep1');
      await media.paths.remove('keep2');
    });
  });
}

describe('media plane in embedded mode', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ server: { public_host: null } });
  });
  after(() => t.stop());

  it('says which mode runs and why, in get_status and /health/mediamtx', async () => {
    const client = await t.connect();
    const status = await client.getStatus();
    const mediamtx = status.components.mediamtx;
    assert.equal(mediamtx?.status, 'healthy');
    assert.equal(mediamtx?.details?.mode, 'embedded');
    assert.equal(mediamtx?.details?.reason, 'mediamtx.mode is embedded');
    const health = (await (await fetch(`${t.healthUrl}/health/mediamtx`)).json()) as {
      details: { api_url: string; version: string };
    };
    assert.match(health.details.api_url, /^http:\/\/127\.0\.0\.1:\d+$/);
    // Before v1.16 there is no /v3/info to tell the version.
    if (relayImitation().embedded_version === '1.15') assert.equal(health.details.version, null);
    else assert.match(health.details.version, /relay/);
  });

  it('gives stream URLs on the host the client used, and how to pass a credential', () => {
    const { media } = t.app;
    const { rtsp, hls } = media.ports;
    assert.deepEqual(media.streamUrls('camera0', { host: 'box.local' }), {
      rtsp: `rtsp://box.local:${rtsp}/camera0`,
      webrtc: null,
      hls: `http://box.local:${hls}/camera0/index.m3u8`,
      credential: 'viewer',
      token_urls: {
        rtsp: `rtsp://box.local:${rtsp}/camera0?token={token}`,
        webrtc: null,
        hls: `http://box.local:${hls}/camera0/index.m3u8?token={token}`,
      },
    });
    assert.equal(
      media.streamUrls('camera0', { host: 'fe80::1' }).rtsp,
      `rtsp://[fe80::1]:${rtsp}/camera0`,
    );
    assert.equal(
      media.streamUrls('camera0', { host: 'box.local', secure: true }).hls,
      `https://box.local:${hls}/camera0/index.m3u8`,
    );
  });
});

describe('media plane listening on one address only', () => {
  it('publishes and reads streams on that address, where loopback reaches nothing', async () => {
    // 127.0.0.2 is this machine, but not the address 127.0.0.1 listens on.
    const t = await startApp({
      mediamtx: { listen_host: '127.0.0.2' },
      cameras: [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }],
    });
    try {
      assert.match(
        t.app.media.rtspBase(),
        new RegExp(
          `^rtsp://camera-service-reader:[\\w-]{43}@127\\.0\\.0\\.2:${t.app.media.ports.rtsp}$`,
        ),
      );
      assert.match(
        (await t.app.media.client.getPathConfig('test0'))?.runOnDemand ?? '',
        /"rtsp:\/\/camera-service-publisher:[\w-]{43}@127\.0\.0\.2:\$RTSP_PORT\/\$MTX_PATH"/,
      );
      const ready = await t.app.media.waitReady('test0');
      assert.equal(ready.ready, true);
    } finally {
      await t.stop();
    }
  });
});

describe('choosing the media server mode', () => {
  const config = (mode: Config['mediamtx']['mode'], binary: string | null = null) =>
    ({ mediamtx: { mode, binary } }) as Config;
  const found = () => ({ path: '/usr/local/bin/mediamtx', how: 'PATH' as const });
  const none = () => null;

  it('auto: managed when a binary is found, embedded otherwise, saying why', () => {
    assert.deepEqual(resolveMode(config('auto'), found), {
      mode: 'managed',
      requested: 'auto',
      reason: 'mediamtx.mode is auto and /usr/local/bin/mediamtx was found (from PATH)',
      binary: '/usr/local/bin/mediamtx',
    });
    const fallback = resolveMode(config('auto'), none);
    assert.equal(fallback.mode, 'embedded');
    assert.match(fallback.reason, /no mediamtx binary was found .*the embedded relay serves/);
  });

  it('managed without a binary is a configuration error that says what to do', () => {
    assert.throws(
      () => resolveMode(config('managed'), none),
      (error: Error) => {
        assert.equal(error.name, 'MediaModeError');
        assert.match(error.message, /set mediamtx\.binary to its path, put it on PATH/);
        return true;
      },
    );
  });

  it('external and embedded do not look for a binary', () => {
    const find = () => assert.fail('looked for a binary');
    assert.equal(resolveMode(config('external'), find).mode, 'external');
    assert.equal(resolveMode(config('embedded'), find).mode, 'embedded');
  });
});

describe('managed mode supervising the media server process (stand-in binary)', () => {
  it('starts it, restarts it after a crash, re-checks at once, and stops it with the service', async () => {
    const t = await startApp({
      mediamtx: { ...FAST, mode: 'managed', binary: STAND_IN, backoff_initial_seconds: 0.2 },
    });
    try {
      const supervisor = t.app.media.supervisor!;
      const first = supervisor.pid!;
      assert.ok(first > 0);
      const client = await t.connect();
      assert.equal((await client.getStatus()).components.mediamtx?.details?.mode, 'managed');
      // MediaMTX asks the service's loopback hook before every action, the API's included.
      const written = parse(readFileSync(join(t.dir, 'state', 'mediamtx.yml'), 'utf8')) as Record<
        string,
        unknown
      >;
      const hookUrl = t.app.media.authHookUrl!;
      assert.equal(written.authMethod, 'http');
      assert.equal(written.authHTTPAddress, hookUrl);
      const ask = (body: Record<string, unknown>) =>
        fetch(hookUrl, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.status);
      const { api, publisher } = t.app.media.credentials;
      assert.equal(await ask({ ip: '127.0.0.1', action: 'api', ...api }), 200);
      assert.equal(await ask({ ip: '127.0.0.1', action: 'api' }), 401);
      assert.equal(await ask({ ip: '127.0.0.1', action: 'publish', ...publisher }), 200);
      assert.equal(await ask({ ip: '127.0.0.1', action: 'publish', path: 'test0' }), 401);
      assert.equal(await ask({ ip: '127.0.0.1', action: 'read', path: 'test0' }), 401);
      const viewer = await t.token('viewer');
      assert.equal(await ask({ ip: '192.0.2.1', action: 'read', password: viewer }), 200);
      const respawned = once(supervisor, 'spawn');
      process.kill(first, 'SIGKILL');
      const [info] = (await respawned) as [{ pid: number; attempt: number }];
      assert.notEqual(info.pid, first);
      assert.equal(info.attempt, 2);
      // The new process has a new start time: the monitor sees a restart and re-applies.
      await t.logs.waitFor(
        (r) => r.msg === 'camera paths re-applied after media server recovery',
        5000,
        'paths re-applied',
      );
      const metrics = await (await fetch(`${t.healthUrl}/metrics`)).text();
      assert.match(metrics, /camera_service_mediamtx_restarts_total\{kind="managed"\} 1/);
      const last = supervisor.pid!;
      await t.stop();
      assert.throws(() => process.kill(last, 0), { code: 'ESRCH' });
    } finally {
      await t.stop();
    }
  });

  it('keeps the service up when the binary cannot answer, and says so', async () => {
    const t = await startApp({
      mediamtx: { ...FAST, mode: 'managed', binary: '/bin/false', start_timeout_seconds: 0.5 },
    });
    try {
      await t.logs.waitFor((r) => /did not answer on its API port within 0.5 s/.test(r.msg), 5000);
      const ready = await fetch(`${t.healthUrl}/health/ready`);
      assert.equal(ready.status, 503);
    } finally {
      await t.stop();
    }
  });
});
