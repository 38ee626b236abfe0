/**
 * The SDK when things go wrong, against the real service: the daemon is killed and
 * started again on the same port mid-session and the client reconnects, authenticates
 * again and succeeds within 2 s of the restart (calls made meanwhile wait, or fail at
 * once, as configured; notifications resume); a JWT that expires emits authExpired; a
 * 50 MB download cut mid-body resumes with Range and its bytes equal the file's.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CameraServiceClient, ConnectionError, DownloadError, RpcError } from '@camera-service/sdk';
import { JwtService } from '../../src/index.js';
import { TEST_JWT_SECRET, startApp, type TestApp } from '../helpers/app.js';
import { killService, serviceEnv, startService, type ServiceProcess } from '../helpers/process.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { within } from '../helpers/wait.js';
import { nextEvent } from './events.js';

const jwt = new JwtService(TEST_JWT_SECRET);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/**
 * A TCP proxy on loopback that cuts each of the first `cuts` download connections
 * (requests for /files/) after `afterBytes` bytes of the answer.
 */
async function cuttingProxy(target: number, afterBytes: number, cuts: number) {
  let left = cuts;
  let cut = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(upstream);
    let decided = false;
    let cutting = false;
    let sent = 0;
    client.on('data', (chunk) => {
      if (!decided) {
        decided = true;
        cutting = chunk.toString('latin1').startsWith('GET /files/') && left > 0;
        if (cutting) left -= 1;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      const room = afterBytes - sent;
      sent += chunk.length;
      if (room > chunk.length) {
        client.write(chunk);
        return;
      }
      client.write(chunk.subarray(0, Math.max(0, room)));
      cut += 1;
      client.destroy();
      upstream.destroy();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cuts: () => cut,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('the SDK reconnects to a restarted service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'camera-sdk-restart-'));
  let service: ServiceProcess & { wsUrl: string };
  let env: NodeJS.ProcessEnv;
  const clients: CameraServiceClient[] = [];

  before(async () => {
    const port = await freePort();
    env = serviceEnv(dir, {
      CAMERA_SERVICE_SERVER_PORT: String(port),
      CAMERA_SERVICE_CAMERAS: '[{id: test0, test_pattern: {size: 320x240, fps: 10}}]',
    });
    service = await startService([], env);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await killService(service);
    rmSync(dir, { recursive: true, force: true });
  });

  async function client(options: Partial<ConstructorParameters<typeof CameraServiceClient>[0]>) {
    const authToken = await jwt.mint({ role: 'admin', subject: 'sdk-restart', ttlSeconds: 600 });
    const c = new CameraServiceClient({ url: service.wsUrl, authToken, ...options });
    await c.connect();
    clients.push(c);
    return c;
  }

  it('reconnects, authenticates again and succeeds within 2 s; waiting calls go through, fail-fast ones fail', async () => {
    // camera-cli watch rides out the restart too: it prints the recording made after it.
    const watch = spawn(
      process.execPath,
      [join(REPO_ROOT, 'packages', 'cli', 'bin', 'camera-cli.js'), 'watch', '--json'],
      {
        env: {
          ...process.env,
          CAMERA_URL: service.wsUrl,
          CAMERA_TOKEN: await jwt.mint({ role: 'viewer', subject: 'watch', ttlSeconds: 600 }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const watchExited = new Promise<number | null>((resolve) => watch.on('close', resolve));
    const watched: { method: string; params: { status?: string } }[] = [];
    let onWatched = () => {};
    createInterface({ input: watch.stdout }).on('line', (line) => {
      watched.push(JSON.parse(line) as (typeof watched)[number]);
      onWatched();
    });
    let watchErr = '';
    await within(
      new Promise<void>((resolve) =>
        watch.stderr.on('data', (c: Buffer) => {
          watchErr += c.toString();
          if (/Watching/.test(watchErr)) resolve();
        }),
      ),
      15_000,
      'camera-cli watch to start',
    );
    const waiting = await client({ requestTimeoutMs: 30_000 });
    const failFast = await client({ whileReconnecting: 'fail' });
    const noReconnect = await client({ reconnect: false });
    assert.equal(await waiting.ping(), 'pong');
    const events: string[] = [];
    for (const name of ['disconnected', 'reconnecting', 'connected'] as const) {
      waiting.on(name, () => events.push(name));
    }

    const lost = nextEvent(waiting, 'disconnected');
    const lostForGood = nextEvent(noReconnect, 'disconnected');
    await killService(service);
    const [info] = await lost;
    assert.equal(info.willReconnect, true);
    assert.equal((await lostForGood)[0].willReconnect, false);
    assert.equal(waiting.state, 'reconnecting');

    // Made while the service is down: one waits for the reconnect, one fails at once.
    const pending = waiting.getMetrics();
    const refused = await failFast.ping().catch((e: unknown) => e);
    assert.ok(refused instanceof ConnectionError, String(refused));
    assert.match(refused.message, /being reopened/);
    await assert.rejects(noReconnect.ping(), ConnectionError);

    const back = nextEvent(waiting, 'connected', 20_000);
    service = await startService([], env);
    const restarted = performance.now();
    const [{ reconnected }] = await back;
    assert.equal(reconnected, true);
    // get_metrics needs admin: the reconnected session authenticated again.
    const metrics = await pending;
    assert.equal(typeof metrics, 'object');
    assert.equal(await waiting.ping(), 'pong');
    const elapsed = performance.now() - restarted;
    assert.ok(
      elapsed < 2000,
      `the first call succeeded ${Math.round(elapsed)} ms after the restart`,
    );
    assert.deepEqual(events.slice(0, 2), ['disconnected', 'reconnecting']);
    assert.equal(events.at(-1), 'connected');

    // The fail-fast client reconnects too, and is usable once it has.
    if (failFast.state !== 'connected') await nextEvent(failFast, 'connected', 5000);
    assert.equal(await failFast.ping(), 'pong');
    // The one without reconnect stays down.
    assert.equal(noReconnect.state, 'idle');

    // Notifications resume on the new connection.
    const update = nextEvent(waiting, 'recording_status_update', 20_000);
    await waiting.startRecording({ device: 'test0', duration: 1 });
    const [params] = await update;
    assert.equal(params.status, 'STARTED');

    try {
      await within(
        new Promise<void>((resolve) => {
          onWatched = () => {
            if (watched.some((l) => l.method === 'recording_status_update')) resolve();
          };
          onWatched();
        }),
        20_000,
        `camera-cli watch to print the recording after the restart (stderr: ${watchErr})`,
      );
      assert.match(watchErr, /reconnecting/);
      watch.kill('SIGINT');
      assert.equal(await within(watchExited, 10_000, 'watch to exit'), 0);
    } finally {
      watch.kill('SIGKILL');
    }
  });

  it('close() means never reconnect', async () => {
    const c = await client({});
    const reconnecting: unknown[] = [];
    c.on('reconnecting', (i) => reconnecting.push(i));
    await c.close();
    assert.equal(c.state, 'closed');
    await assert.rejects(c.ping(), /was closed/);
    await assert.rejects(c.connect(), /was closed/);
    assert.deepEqual(reconnecting, []);
  });
});

describe('authExpired', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(() => t.stop());

  it('is emitted when the JWT expiry passes, and the server then refuses calls', async () => {
    const c = await t.connect({ authToken: await t.token('viewer', 2) });
    const [info] = await nextEvent(c, 'authExpired', 5000);
    assert.equal(info.error, null);
    assert.ok(info.expiresAt !== null && Date.parse(info.expiresAt) <= Date.now());
    const error = await c.ping().catch((e: unknown) => e);
    assert.ok(error instanceof RpcError);
    assert.equal(error.kind, 'authentication_failed');
  });

  it("is emitted when the server answers -32001 for an expired token (the server's clock passed it)", async () => {
    const c = await t.connect({ as: 'viewer' });
    const expired = nextEvent(c, 'authExpired', 5000);
    t.clock.advance(2 * 3600_000);
    const error = await c.ping().catch((e: unknown) => e);
    assert.ok(error instanceof RpcError && error.code === -32001, String(error));
    const [info] = await expired;
    assert.equal(info.error?.code, -32001);
    t.clock.advance(-2 * 3600_000);
    // A new credential works on the same connection.
    await c.authenticate(await t.token('viewer'));
    assert.equal(await c.ping(), 'pong');
  });
});

describe('downloadFile', () => {
  let t: TestApp;
  let token: string;
  const SIZE = 50 * 1024 * 1024;
  const out = mkdtempSync(join(tmpdir(), 'camera-sdk-download-'));
  let source: string;
  before(async () => {
    t = await startApp();
    token = await t.token('viewer');
    source = join(t.config.storage.recordings_dir, 'big.mp4');
    writeFileSync(source, randomBytes(SIZE));
  });
  after(async () => {
    rmSync(out, { recursive: true, force: true });
    await t.stop();
  });

  it('resumes a 50 MB download after the connection drops, and its bytes equal the file', async () => {
    const port = Number(new URL(t.wsUrl).port);
    const proxy = await cuttingProxy(port, 17 * 1024 * 1024, 2);
    try {
      const c = new CameraServiceClient({
        url: `ws://127.0.0.1:${proxy.port}/ws`,
        authToken: token,
      });
      const to = join(out, 'big.mp4');
      let last = 0;
      const result = await c.downloadFile('recordings', 'big.mp4', {
        to,
        onProgress: ({ received }) => (last = received),
      });
      assert.equal(proxy.cuts(), 2, 'the proxy cut the transfer twice');
      assert.equal(result.resumes, 2);
      assert.equal(result.size, SIZE);
      assert.equal(last, SIZE);
      assert.equal(statSync(to).size, SIZE);
      assert.equal(await sha256(to), await sha256(source));
    } finally {
      await proxy.close();
    }
  });

  it('an aborted download continues from resumeFrom, and equals the file', async () => {
    const c = new CameraServiceClient({ url: t.wsUrl, authToken: token });
    const to = join(out, 'part.mp4');
    const controller = new AbortController();
    const error = await c
      .downloadFile('recordings', 'big.mp4', {
        to,
        signal: controller.signal,
        onProgress: ({ received }) => {
          if (received >= 10 * 1024 * 1024) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    assert.ok(error instanceof DownloadError && error.kind === 'aborted', String(error));
    const held = statSync(to).size;
    assert.ok(held >= 10 * 1024 * 1024 && held < SIZE, `${held} bytes held`);
    const result = await c.downloadFile('recordings', 'big.mp4', { to, resumeFrom: held });
    assert.equal(result.size, SIZE);
    assert.equal(await sha256(to), await sha256(source));
  });

  it('starts over when the bytes held are of another version of the file (If-Range)', async () => {
    const c = new CameraServiceClient({ url: t.wsUrl, authToken: token });
    const to = join(out, 'stale.mp4');
    writeFileSync(to, Buffer.alloc(1024 * 1024, 7));
    const result = await c.downloadFile('recordings', 'big.mp4', {
      to,
      resumeFrom: 1024 * 1024,
      etag: '"an-earlier-version"',
    });
    assert.equal(result.size, SIZE);
    assert.equal(statSync(to).size, SIZE);
    assert.equal(await sha256(to), await sha256(source));
  });

  it('says why a download is refused: a missing file, a bad credential', async () => {
    const c = new CameraServiceClient({ url: t.wsUrl, authToken: token });
    const missing = await c.downloadFile('snapshots', 'nope.jpg').catch((e: unknown) => e);
    assert.ok(missing instanceof DownloadError);
    assert.equal(missing.kind, 'file_not_found');
    assert.equal(missing.status, 404);
    const bad = new CameraServiceClient({ url: t.wsUrl, authToken: 'not-a-token' });
    const refused = await bad.downloadFile('recordings', 'big.mp4').catch((e: unknown) => e);
    assert.ok(refused instanceof DownloadError);
    assert.equal(refused.kind, 'authentication_failed');
  });
});
