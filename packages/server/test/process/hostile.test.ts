/**
 * The real `camera-service` binary against requests no client should send: targets that
 * do not parse as URLs (one of them used to end the process with status 70), broken
 * percent-encoding, and a few thousand fuzzed request lines, targets and headers on the
 * API and health ports. Every one gets a 4xx (or a 101 for a good upgrade) and the
 * process stays up and serving.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CameraServiceClient } from '@camera-service/sdk';
import { JwtService } from '../../src/auth/index.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';
import { killService, serviceEnv, startService, type ServiceProcess } from '../helpers/process.js';
import { prng } from '../helpers/prng.js';
import { rawRequest, upgradeRequest } from '../helpers/raw-http.js';

/** The targets that crashed the process, and their relatives. */
const CRASH_TARGETS = [
  '//a:b',
  '//[',
  'http://[::1/ws',
  '//x:99999/ws',
  '//a:b/ws',
  'http://a:b/ws',
  '\\\\a:b',
  '//',
  '/%zz',
];

let service: ServiceProcess & { wsUrl: string; healthUrl: string };
let apiPort: number;
let healthPort: number;

before(async () => {
  service = await startService(
    [],
    serviceEnv(tempDir(), {
      CAMERA_SERVICE_MEDIAMTX_READ_TIMEOUT_SECONDS: '1',
      CAMERA_SERVICE_MEDIAMTX_WRITE_TIMEOUT_SECONDS: '1',
    }),
  );
  apiPort = Number(new URL(service.wsUrl).port);
  healthPort = Number(new URL(service.healthUrl).port);
});

after(async () => {
  await killService(service);
});

async function assertServing(): Promise<void> {
  assert.equal(service.child.exitCode, null, `the service exited:\n${service.stderr()}`);
  const live = await fetch(`${service.healthUrl}/health/live`);
  assert.equal(live.status, 200);
  const jwt = new JwtService(TEST_JWT_SECRET);
  const client = new CameraServiceClient({
    url: service.wsUrl,
    requestTimeoutMs: 5000,
    authToken: await jwt.mint({ role: 'viewer', subject: 'hostile-test', ttlSeconds: 60 }),
  });
  await client.connect();
  assert.equal(await client.ping(), 'pong');
  await client.close();
}

/** The service's resident memory, in MB, from /proc. */
function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** Random bytes and the characters URL parsers trip on, as a request target. */
function fuzzTarget(random: () => number): string {
  const pieces = [
    '/',
    '//',
    ':',
    '[',
    ']',
    '@',
    '%',
    '%zz',
    '%2f',
    '%00',
    '%c0%ae',
    '..',
    '?',
    '#',
    '\\',
    'ws',
    'health',
    'files',
    'recordings',
    'x',
    '99999',
    '::1',
    'http:',
    'https://',
    '*',
    '~',
    '\u00e9',
  ];
  let target = random() < 0.8 ? '/' : '';
  const count = 1 + Math.floor(random() * 8);
  for (let i = 0; i < count; i += 1) {
    target +=
      random() < 0.85
        ? pieces[Math.floor(random() * pieces.length)]
        : String.fromCharCode(33 + Math.floor(random() * 94));
  }
  return target;
}

function fuzzRequest(random: () => number): string {
  const methods = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'GE T', 'get', ''];
  const method = methods[Math.floor(random() * methods.length)];
  const target = fuzzTarget(random);
  const kind = random();
  if (kind < 0.4) return upgradeRequest(target);
  if (kind < 0.55) {
    // Broken request lines and headers.
    const variants = [
      `${method} ${target}\r\n\r\n`,
      `${method} ${target} HTTP/9.9\r\nHost: x\r\n\r\n`,
      `${method}  ${target} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `${method} ${target} HTTP/1.1\r\nHost x\r\n\r\n`,
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      `${method} ${target} HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n`,
      `\x00\x01\x02 ${target} HTTP/1.1\r\n\r\n`,
    ];
    return variants[Math.floor(random() * variants.length)] as string;
  }
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
}

describe('hostile requests against the real service', () => {
  it('answers each target that used to crash it with a 4xx, on both ports, and keeps serving', async () => {
    for (const target of CRASH_TARGETS) {
      const upgrade = await rawRequest(apiPort, upgradeRequest(target));
      assert.ok(
        upgrade.status !== null && upgrade.status >= 400 && upgrade.status < 500,
        `upgrade to ${target}: ${upgrade.text.slice(0, 80)}`,
      );
      for (const port of [apiPort, healthPort]) {
        const plain = await rawRequest(
          port,
          `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        );
        assert.ok(
          plain.status !== null && plain.status >= 400 && plain.status < 500,
          `GET ${target} on ${port}: ${plain.text.slice(0, 80)}`,
        );
      }
    }
    // A malformed query does not matter to the WebSocket endpoint: it is not read.
    assert.equal((await rawRequest(apiPort, upgradeRequest('/ws?%zz'))).status, 101);
    const health = await rawRequest(
      healthPort,
      'GET /health/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.equal(health.status, 404);
    assert.doesNotMatch(health.text, /%zz/, 'the input is not echoed');
    await assertServing();
    assert.equal(
      service.logs.records.filter((r) => r.msg === 'request handling failed').length,
      0,
      'no request reached the last-resort guard',
    );
  });

  it('answers 3,000 fuzzed requests on the API and health ports without a 5xx, and keeps serving', async () => {
    const random = prng(12);
    const statuses = new Map<string, number>();
    const failures: string[] = [];
    const requests = Array.from({ length: 3000 }, () => fuzzRequest(random));
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index] as string;
        const port = index % 3 === 2 ? healthPort : apiPort;
        const response = await rawRequest(port, request, { timeoutMs: 12_000 });
        const key = String(response.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        // No answer at all is fine only when the server closed the connection (a request
        // that is not HTTP); a 5xx or a hang never is.
        if (response.status === null ? !response.closed : response.status >= 500) {
          failures.push(`${JSON.stringify(request.slice(0, 60))} → ${response.text.slice(0, 60)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.deepEqual(failures.slice(0, 10), [], `statuses: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get('400') ?? 0) > 100, 'many were malformed and refused as such');
    await assertServing();
  });

  it('bounds the memory of a client pipelining 60 MB of RTSP requests it never reads', async () => {
    const health = (await (await fetch(`${service.healthUrl}/health/mediamtx`)).json()) as {
      details: { ports: { rtsp: number } };
    };
    const port = health.details.ports.rtsp;
    const pid = service.child.pid!;
    const before = rssMb(pid);
    const request = Buffer.from(`OPTIONS rtsp://127.0.0.1:${port}/x RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
    const chunk = Buffer.concat(Array.from({ length: 1500 }, () => request));
    const socket = net.connect(port, '127.0.0.1');
    socket.pause(); // it never reads a reply
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let peak = before;
    let offered = 0;
    const deadline = Date.now() + 15_000;
    while (offered < 60 * 1024 * 1024 && !socket.destroyed && Date.now() < deadline) {
      if (!socket.write(chunk)) {
        // The service stopped reading: the rest piles up here, in the client, not there.
        await Promise.race([
          new Promise((resolve) => socket.once('drain', resolve)),
          closed,
          new Promise((resolve) => setTimeout(resolve, 200)),
        ]);
        peak = Math.max(peak, rssMb(pid));
      }
      offered += chunk.length;
    }
    await closed; // closed by the service at its write timeout
    peak = Math.max(peak, rssMb(pid));
    assert.ok(peak - before < 100, `RSS grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MB`);
    const dropped = await service.logs.waitFor((r) => r.reason === 'write_timeout', 5000);
    assert.deepEqual([dropped.component, dropped.subcomponent], ['media', 'relay']);
    await assertServing();
  });
});
