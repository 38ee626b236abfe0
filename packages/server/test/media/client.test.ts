/**
 * The MediaMTX client against the embedded relay (same endpoints, same answers), and
 * against servers that misbehave: gone, silent, not MediaMTX.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MediaMtxClient, MediaServerError, normalizePath } from '../../src/media/client.js';
import { relayImitation } from '../helpers/app.js';
import { startMediaServer, testLogger, type TestMediaServer } from '../helpers/media.js';

describe('MediaMtxClient against the embedded relay', () => {
  let server: TestMediaServer;
  before(async () => {
    server = await startMediaServer();
  });
  after(() => server.stop());

  it('reads info (null before v1.16, which has no /v3/info) and the global configuration', async () => {
    const info = await server.client.info();
    if (relayImitation().embedded_version === '1.15') {
      assert.equal(info, null);
    } else {
      assert.match(info?.version ?? '', /relay/);
      assert.ok(!Number.isNaN(Date.parse(info?.started ?? '')));
    }
    const global = await server.client.globalConfig();
    assert.equal(global.rtspAddress, `:${server.rtspPort}`);
  });

  it('logs each request with the caller’s correlation id, the answer and the time taken', async () => {
    await server.client.getPath('nowhere', { correlationId: 'req-7f3a' });
    const line = server.logs.find(
      (r) => r.msg === 'media server request' && r.correlation_id === 'req-7f3a',
    );
    assert.ok(line, 'no log line carried the correlation id');
    assert.equal(line.method, 'GET');
    assert.equal(line.endpoint, '/v3/paths/get/nowhere');
    assert.equal(line.status, 404);
    assert.equal(typeof line.ms, 'number');
  });

  it('adds, reads, patches, replaces, lists and deletes a path', async () => {
    const { client } = server;
    assert.equal(await client.getPathConfig('cam1'), null);
    await client.addPath('cam1', { runOnDemand: 'sleep 30', runOnDemandCloseAfter: '3s' });
    const added = await client.getPathConfig('cam1');
    assert.equal(added?.runOnDemand, 'sleep 30');
    assert.equal(added?.runOnDemandCloseAfter, '3s');
    assert.equal(added?.source, 'publisher');

    await client.patchPath('cam1', { runOnDemandRestart: true });
    const patched = await client.getPathConfig('cam1');
    assert.equal(patched?.runOnDemand, 'sleep 30', 'patch keeps the other keys');
    assert.equal(patched?.runOnDemandRestart, true);

    await client.replacePath('cam1', { runOnDemand: 'sleep 31' });
    const replaced = await client.getPathConfig('cam1');
    assert.equal(replaced?.runOnDemand, 'sleep 31');
    assert.equal(replaced?.runOnDemandRestart, false, 'replace resets what it does not set');
    assert.equal(replaced?.runOnDemandCloseAfter, '10s');

    const names = (await client.listPathConfigs()).map((p) => p.name);
    assert.ok(names.includes('cam1'));
    const live = await client.getPath('cam1');
    assert.equal(live?.ready, false);
    assert.equal(live?.readers.length, 0);

    assert.equal(await client.deletePath('cam1'), true);
    assert.equal(await client.deletePath('cam1'), false, 'deleting twice is not an error');
    assert.equal(await client.getPathConfig('cam1'), null);
    assert.equal(await client.getPath('cam1'), null);
  });

  it('says what the media server answered when it refuses', async () => {
    const { client } = server;
    await client.addPath('dup', {});
    await assert.rejects(client.addPath('dup', {}), (error: unknown) => {
      assert.ok(error instanceof MediaServerError);
      assert.equal(error.reason, 'rejected');
      assert.equal(error.status, 400);
      assert.equal(error.answer, 'path already exists');
      assert.equal(
        error.message,
        'The media server refused to add path dup: path already exists (HTTP 400).',
      );
      return true;
    });
    await assert.rejects(
      client.addPath('bad', { runOnDemandStartTimeout: 'soon' }),
      /refused to add path bad: .*\(HTTP 400\)/,
    );
    await client.deletePath('dup');
  });

  it('pages through long lists', async () => {
    const { client } = server;
    const names = Array.from({ length: 450 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    await Promise.all(names.map((name) => client.addPath(name, {})));
    try {
      const listed = (await client.listPathConfigs()).map((p) => p.name);
      assert.deepEqual(
        listed.filter((n) => n?.startsWith('p')),
        names,
      );
      assert.equal((await client.listPaths()).filter((p) => p.name.startsWith('p')).length, 450);
    } finally {
      await Promise.all(names.map((name) => client.deletePath(name)));
    }
  });

  it('keeps working over one kept-alive connection after the server restarted', async () => {
    await server.client.listPaths();
    await server.restart();
    // The idle socket is dead now; a GET is retried once on a fresh one.
    assert.deepEqual(await server.client.listPaths(), []);
  });
});

describe('MediaMtxClient when the media server misbehaves', () => {
  it('reports an unreachable server with what to check', async () => {
    const port = await closedPort();
    const { log } = testLogger();
    const client = new MediaMtxClient({ baseUrl: `http://127.0.0.1:${port}`, log });
    await assert.rejects(client.info(), (error: unknown) => {
      assert.ok(error instanceof MediaServerError);
      assert.equal(error.reason, 'unreachable');
      assert.equal(
        error.message,
        `The media server at http://127.0.0.1:${port} is unreachable: nothing listens on its API port (is it running?).`,
      );
      return true;
    });
    client.close();
  });

  it('times out a server that accepts and never answers', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const { log } = testLogger();
    const client = new MediaMtxClient({ baseUrl: `http://127.0.0.1:${port}`, log, timeoutMs: 200 });
    try {
      await assert.rejects(client.listPaths(), (error: unknown) => {
        assert.ok(error instanceof MediaServerError);
        assert.equal(error.reason, 'timeout');
        assert.match(error.message, /did not answer GET \/v3\/paths\/list within 200 ms/);
        return true;
      });
    } finally {
      client.close();
      silent.close();
    }
  });

  it('refuses an answer that is not JSON, and an API that wants credentials', async () => {
    const other = http.createServer((req, res) => {
      if (req.url === '/v3/info') {
        res.end('<html>hello</html>');
        return;
      }
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"error":"authentication error"}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as net.AddressInfo;
    const { log } = testLogger();
    const client = new MediaMtxClient({ baseUrl: `http://127.0.0.1:${port}`, log });
    try {
      await assert.rejects(client.info(), /is not JSON; is another program on its API port\?/);
      await assert.rejects(
        client.addPath('x', {}),
        /refused to add path x: authentication error \(HTTP 401\) \(the media server refused the service’s API credentials\)/,
      );
    } finally {
      client.close();
      other.close();
    }
  });

  it('sends Basic credentials when given', async () => {
    let seen: string | undefined;
    const api = http.createServer((req, res) => {
      seen = req.headers.authorization;
      res.end('{"version":"v1.20.0","started":"2026-01-01T00:00:00Z"}');
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const { port } = api.address() as net.AddressInfo;
    const { log } = testLogger();
    const client = new MediaMtxClient({
      baseUrl: `http://127.0.0.1:${port}`,
      log,
      username: 'camera-service',
      password: 'p@ss:word',
    });
    try {
      await client.info();
      assert.equal(seen, `Basic ${Buffer.from('camera-service:p@ss:word').toString('base64')}`);
    } finally {
      client.close();
      api.close();
    }
  });
});

describe('normalizePath', () => {
  it('reads the v1.16+ fields when present', () => {
    const path = normalizePath({
      name: 'a',
      ready: false,
      available: true,
      availableTime: '2026-01-01T00:00:00Z',
      bytesSent: 1,
      outboundBytes: 500,
      inboundBytes: 900,
      tracks: ['H264'],
      tracks2: [{ codec: 'H265' }],
      source: { type: 'rtspSession', id: 'x' },
      readers: [{ type: 'rtspSession', id: 'r' }],
    });
    assert.deepEqual(path, {
      name: 'a',
      ready: true,
      readyTime: '2026-01-01T00:00:00Z',
      source: { type: 'rtspSession', id: 'x' },
      readers: [{ type: 'rtspSession', id: 'r' }],
      bytesReceived: 900,
      bytesSent: 500,
      tracks: ['H265'],
    });
  });

  it('falls back to the v1.12 fields', () => {
    const path = normalizePath({
      name: 'b',
      ready: true,
      readyTime: '2026-01-01T00:00:00Z',
      bytesReceived: 10,
      bytesSent: 20,
      tracks: ['H264'],
      source: null,
      readers: [],
    });
    assert.equal(path.ready, true);
    assert.equal(path.bytesSent, 20);
    assert.equal(path.bytesReceived, 10);
    assert.deepEqual(path.tracks, ['H264']);
    assert.equal(path.source, null);
  });
});

/** A port with nothing listening (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
