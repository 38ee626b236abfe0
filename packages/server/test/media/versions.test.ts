/**
 * The client and the health check against the answers of MediaMTX v1.15.1 and v1.18.2,
 * as observed on the real binaries (shared/notes/mediamtx-facts.md): a loopback HTTP
 * server that gives exactly those shapes. And the media plane noticing that a MediaMTX
 * without /v3/info restarted, from the paths it lost (the stand-in binary, as v1.15).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MediaMtxClient, MediaServerError } from '../../src/media/client.js';
import { ServerProbe } from '../../src/media/probe.js';
import { startApp } from '../helpers/app.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { testLogger } from '../helpers/media.js';

const STAND_IN = fileURLToPath(
  new URL('../../../test/fixtures/stand-in/mediamtx', import.meta.url),
);

type Version = 'v1.15.1' | 'v1.18.2';

/** A path as each version lists it (the fields of the facts file). */
function pathItem(version: Version, ready: boolean) {
  const base = {
    name: 'cam',
    confName: 'cam',
    source: ready ? { type: 'rtspSession', id: 's1' } : null,
    ready,
    readyTime: ready ? '2026-01-01T00:00:01Z' : null,
    tracks: ready ? ['H264'] : [],
    bytesReceived: 1000,
    bytesSent: 400,
    readers: [{ type: 'rtspSession', id: 'r1' }],
  };
  if (version === 'v1.15.1') return base;
  return {
    ...base,
    available: ready,
    availableTime: base.readyTime,
    online: ready,
    onlineTime: base.readyTime,
    tracks2: ready
      ? [
          {
            codec: 'H264',
            codecProps: { width: 320, height: 240, profile: 'Baseline', level: '3.0' },
          },
        ]
      : [],
    inboundBytes: 1000,
    outboundBytes: 400,
    inboundFramesInError: 0,
  };
}

/** A MediaMTX API that answers as `version` did. */
async function fakeMediaMtx(version: Version) {
  const requests: string[] = [];
  let ready = false;
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const error = (res: http.ServerResponse, status: number, message: string) =>
    json(
      res,
      status,
      version === 'v1.15.1' ? { error: message } : { status: 'error', error: message },
    );
  const server = http.createServer((req, res) => {
    const route = (req.url ?? '').split('?')[0]!;
    requests.push(`${req.method} ${route}`);
    if (route === '/v3/info') {
      if (version === 'v1.15.1') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      } else json(res, 200, { version, started: '2026-01-01T00:00:00Z' });
    } else if (route === '/v3/paths/list') {
      json(res, 200, { itemCount: 1, pageCount: 1, items: [pathItem(version, ready)] });
    } else if (route === '/v3/paths/get/cam') {
      json(res, 200, pathItem(version, ready));
    } else if (route.startsWith('/v3/paths/get/')) {
      error(res, 404, 'path not found');
    } else if (route === '/v3/config/paths/add/cam') {
      error(res, 400, 'path already exists');
    } else if (route === '/v3/config/paths/add/strict') {
      error(res, 400, 'json: unknown field "x"');
    } else if (route.startsWith('/v3/config/paths/add/')) {
      if (version === 'v1.15.1') res.writeHead(200, { 'content-length': 0 }).end();
      else json(res, 200, { status: 'ok' });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = new MediaMtxClient({ baseUrl: `http://127.0.0.1:${port}`, log: testLogger().log });
  return {
    client,
    requests,
    setReady: (value: boolean) => (ready = value),
    async close() {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

for (const version of ['v1.15.1', 'v1.18.2'] as const) {
  describe(`the client against MediaMTX ${version}'s answers`, () => {
    let api: Awaited<ReturnType<typeof fakeMediaMtx>>;
    before(async () => {
      api = await fakeMediaMtx(version);
    });
    after(() => api.close());

    it('finds it alive, with its version when it has /v3/info, asking that once', async () => {
      const probe = new ServerProbe(api.client);
      const first = await probe.check();
      const second = await probe.check();
      if (version === 'v1.15.1') {
        assert.deepEqual([first.version, first.started], [null, null]);
        assert.equal(probe.hasInfo, false);
        assert.equal(
          api.requests.filter((r) => r === 'GET /v3/info').length,
          1,
          'an older MediaMTX is not asked for /v3/info again',
        );
      } else {
        assert.deepEqual([second.version, second.started], [version, '2026-01-01T00:00:00Z']);
        assert.equal(probe.hasInfo, true);
      }
      assert.deepEqual(
        first.paths.map((p) => p.name),
        ['cam'],
      );
    });

    it('reads a path the same way, from the older or the newer fields', async () => {
      api.setReady(true);
      const path = await api.client.getPath('cam');
      assert.deepEqual(path, {
        name: 'cam',
        ready: true,
        readyTime: '2026-01-01T00:00:01Z',
        source: { type: 'rtspSession', id: 's1' },
        readers: [{ type: 'rtspSession', id: 'r1' }],
        bytesReceived: 1000,
        bytesSent: 400,
        tracks: ['H264'],
      });
      api.setReady(false);
      assert.equal((await api.client.listPaths())[0]?.ready, false);
      assert.equal(await api.client.getPath('other'), null);
    });

    it('takes an empty answer and {"status":"ok"} alike as done, and reads both error shapes', async () => {
      await api.client.addPath('new', { source: 'publisher' });
      await assert.rejects(api.client.addPath('cam', {}), (error: unknown) => {
        assert.ok(error instanceof MediaServerError);
        assert.equal(error.status, 400);
        assert.equal(error.answer, 'path already exists');
        assert.equal(
          error.message,
          'The media server refused to add path cam: path already exists (HTTP 400).',
        );
        return true;
      });
      await assert.rejects(
        api.client.addPath('strict', {}),
        /json: unknown field "x" \(HTTP 400\)/,
      );
    });
  });
}

describe('a MediaMTX without /v3/info that restarted between two checks (stand-in v1.15)', () => {
  let standIn: ChildProcess | null = null;

  /** Starts the stand-in with only its API on, on `port`; resolves once it listens. */
  async function startStandIn(config: string): Promise<void> {
    const child = spawn(STAND_IN, [config], { stdio: ['ignore', 'pipe', 'inherit'] });
    standIn = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('stand-in listeners')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`the stand-in exited with ${code}: ${output}`)),
      );
    });
  }

  async function stopStandIn(): Promise<void> {
    const child = standIn;
    standIn = null;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  after(() => stopStandIn());

  it('re-creates the paths it no longer has', async () => {
    const dir = tempDir();
    const port = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as AddressInfo;
        s.close(() => resolve(p));
      });
    });
    const config = writeFile(
      dir,
      'mediamtx.yml',
      [
        'api: true',
        `apiAddress: "127.0.0.1:${port}"`,
        'authInternalUsers: [{user: any, permissions: [{action: api}]}]',
        ...['rtsp', 'rtmp', 'hls', 'webrtc', 'srt'].map((server) => `${server}: false`),
        '',
      ].join('\n'),
    );
    await startStandIn(config);
    const t = await startApp({
      mediamtx: {
        mode: 'external',
        host: '127.0.0.1',
        api_port: port,
        // Checked only when the test asks: the restart falls between two checks.
        health_check_interval_seconds: 3600,
      },
    });
    try {
      const { media } = t.app;
      assert.equal(
        await media.ensureCameraPath('lobby', { kind: 'url', url: 'rtsp://10.255.0.9/s' }),
        'created',
      );
      const health = (await (await fetch(`${t.healthUrl}/health/mediamtx`)).json()) as {
        status: string;
        details: { info_endpoint: boolean; version: string | null };
      };
      assert.equal(health.status, 'healthy', 'healthy without /v3/info');
      assert.equal(health.details.info_endpoint, false);
      assert.equal(health.details.version, null);
      const recovered = new Promise<[string[], string]>((resolve) => {
        const off = media.onRecovered((names, reason) => {
          off();
          resolve([names, reason]);
        });
      });
      await stopStandIn();
      await startStandIn(config);
      assert.equal(await media.client.getPathConfig('lobby'), null, 'the new one has no paths');
      await media.checkNow();
      assert.deepEqual(await recovered, [['lobby'], 'paths_lost']);
      assert.equal((await media.client.getPathConfig('lobby'))?.source, 'rtsp://10.255.0.9/s');
      assert.ok(t.logs.find((r) => /no longer has camera paths the service created/.test(r.msg)));
    } finally {
      await t.stop();
    }
  });
});
