/**
 * deploy/nginx/camera-service.conf with Debian's nginx in front of the real service: the
 * site file as shipped, with only its listen addresses, upstream ports and certificate
 * paths rewritten for the test (loopback high ports, a self-signed certificate made by
 * openssl here). Asserted: WSS through nginx authenticates and answers a call; the
 * service logs the client's own address (the client binds 127.0.0.5, nginx connects from
 * 127.0.0.1, which is server.trusted_proxies); a Range download through nginx is a 206
 * with exactly the requested bytes; plain HTTP answers 301 to https; /health reaches the
 * health port; the dashboard path and HLS reach their upstreams.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { JwtService } from '../../src/auth/index.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { killService, serviceEnv, startService, type ServiceProcess } from '../helpers/process.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { selfSignedCertificate } from '../helpers/tls.js';
import { waitForEvent } from '../helpers/wait.js';

const CLIENT = '127.0.0.5';
const SITE = join(REPO_ROOT, 'deploy', 'nginx', 'camera-service.conf');

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

/** Replaces `from` (which must be there `times` times) with `to`. */
function rewrite(text: string, from: string, to: string, times = 1): string {
  const found = text.split(from).length - 1;
  assert.equal(found, times, `the site file has ${from} ${times} time(s)`);
  return text.split(from).join(to);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function httpsGet(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, localAddress: CLIENT, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('nginx in front of the service (deploy/nginx/camera-service.conf)', () => {
  let service: (ServiceProcess & { wsUrl: string; healthUrl: string }) | undefined;
  let nginx: Nginx | undefined;
  let ca: Buffer;
  let https: string;
  let http: string;
  let token: string;
  const snapshot = randomBytes(300_000);
  const SNAPSHOT = 'cam_2026-01-01_00-00-00.jpg';

  before(async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'snapshots'), { recursive: true });
    writeFileSync(join(dir, 'snapshots', SNAPSHOT), snapshot);
    service = await startService(
      [],
      serviceEnv(dir, { CAMERA_SERVICE_SERVER_TRUSTED_PROXIES: '["127.0.0.1"]' }),
    );
    token = await new JwtService(TEST_JWT_SECRET).mint({
      subject: 'nginx-test',
      role: 'admin',
      ttlSeconds: 600,
    });
    const media = (await (await fetch(`${service.healthUrl}/health/mediamtx`)).json()) as {
      details: { ports: { hls: number } };
    };

    const tls = selfSignedCertificate();
    ca = readFileSync(tls.cert);
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    let site = readFileSync(SITE, 'utf8');
    site = rewrite(site, 'listen 80;', `listen 127.0.0.1:${httpPort};`);
    site = rewrite(site, 'listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`);
    site = rewrite(site, 'listen [::]:80;', '');
    site = rewrite(site, 'listen [::]:443 ssl http2;', '');
    site = rewrite(site, 'server 127.0.0.1:8002;', `server ${new URL(service.wsUrl).host};`);
    site = rewrite(site, 'server 127.0.0.1:8003;', `server ${new URL(service.healthUrl).host};`);
    site = rewrite(site, 'server 127.0.0.1:8888;', `server 127.0.0.1:${media.details.ports.hls};`);
    site = rewrite(site, '/etc/ssl/camera-service/fullchain.pem', tls.cert);
    site = rewrite(site, '/etc/ssl/camera-service/privkey.pem', tls.key);
    site = rewrite(site, 'root /var/www/html;', `root ${dir};`);
    nginx = await startNginx(join(dir, 'nginx'), site, httpsPort);
    https = `https://127.0.0.1:${httpsPort}`;
    http = `http://127.0.0.1:${httpPort}`;
  });

  after(async () => {
    await nginx?.stop();
    if (service) await killService(service);
  });

  it('WSS through nginx authenticates and answers, and the service sees the client address', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${new URL(https).port}/ws`, {
      ca,
      localAddress: CLIENT,
    });
    await waitForEvent(ws, 'open');
    const replies: { id: number; result?: unknown; error?: unknown }[] = [];
    ws.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString()) as never));
    const call = async (id: number, method: string, params: unknown) => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      const deadline = Date.now() + 5000;
      while (!replies.some((r) => r.id === id)) {
        if (Date.now() > deadline) throw new Error(`no answer to ${method}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return replies.find((r) => r.id === id)!;
    };
    try {
      const auth = await call(1, 'authenticate', { auth_token: token });
      assert.equal((auth.result as { role: string }).role, 'admin');
      const ping = await call(2, 'ping', {});
      assert.equal(ping.result, 'pong');
      const success = await service!.logs.waitFor(
        (r) => r.event === 'auth_success' && r.subject === 'nginx-test',
        5000,
        'the auth_success line',
      );
      assert.equal(success.remote, CLIENT, 'the address the client connected to nginx from');
    } finally {
      ws.terminate();
    }
  });

  it('a Range download through nginx is a 206 with exactly those bytes', async () => {
    const answer = await httpsGet(`${https}/files/snapshots/${SNAPSHOT}`, ca, {
      authorization: `Bearer ${token}`,
      range: 'bytes=1000-65535',
    });
    assert.equal(answer.status, 206);
    assert.equal(answer.headers['content-range'], `bytes 1000-65535/${snapshot.length}`);
    assert.deepEqual(answer.body, snapshot.subarray(1000, 65536));
    const whole = await httpsGet(`${https}/files/snapshots/${SNAPSHOT}`, ca, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, snapshot);
  });

  it('plain HTTP answers 301 to https', async () => {
    const answer = await new Promise<{ status: number; location: string | undefined }>(
      (resolve, reject) => {
        httpGet(`${http}/files/snapshots/${SNAPSHOT}?x=1`, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        }).on('error', reject);
      },
    );
    assert.equal(answer.status, 301);
    assert.equal(answer.location, `https://127.0.0.1/files/snapshots/${SNAPSHOT}?x=1`);
  });

  it('health, the dashboard path and HLS reach their upstreams', async () => {
    const ready = await httpsGet(`${https}/health/ready`, ca);
    assert.equal(ready.status, 200);
    assert.equal((JSON.parse(ready.body.toString()) as { status: string }).status, 'ready');
    const metrics = await httpsGet(`${https}/metrics`, ca);
    assert.notEqual(metrics.status, 200, '/metrics is not published through nginx');
    // The API port answers / (the dashboard where it is built); not a gateway error.
    const root = await httpsGet(`${https}/`, ca);
    assert.ok(root.status < 500, `/ answered ${root.status}`);
    const hls = await httpsGet(`${https}/hls/nothing/index.m3u8`, ca);
    assert.ok(hls.status < 500, `/hls/ answered ${hls.status}`);
    assert.equal(ready.headers['strict-transport-security'], 'max-age=63072000');
  });
});
