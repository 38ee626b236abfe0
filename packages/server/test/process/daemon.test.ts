/**
 * The real `camera-service` binary as an operator runs it: invalid configuration,
 * environment overrides, SIGHUP reload, SIGTERM with clients connected.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CameraServiceClient, type RpcError } from '@camera-service/sdk';
import { JwtService } from '../../src/auth/index.js';
import { EXIT_CONFIG } from '../../src/index.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { killService, serviceEnv, spawnService, startService } from '../helpers/process.js';
import { within } from '../helpers/wait.js';

const jwt = new JwtService(TEST_JWT_SECRET);

/** An SDK client authenticated as admin with a token minted from the test secret. */
async function connect(url: string): Promise<CameraServiceClient> {
  const authToken = await jwt.mint({ role: 'admin', subject: 'daemon-test', ttlSeconds: 600 });
  const client = new CameraServiceClient({ url, requestTimeoutMs: 5000, authToken });
  await client.connect();
  return client;
}

describe('camera-service daemon', () => {
  it('refuses an invalid config file, naming each bad key, with exit status 78', async () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'bad.yml',
      'server:\n  port: "abc"\n  prot: 1\nstorage:\n  critical_percent: 120\n',
    );
    const env = serviceEnv(dir);
    delete env.CAMERA_SERVICE_SERVER_PORT; // an override would win over the file's bad port
    const service = spawnService(['--config', file], env);
    const { code } = await within(service.exited, 10_000, 'exit');
    assert.equal(code, EXIT_CONFIG);
    const stderr = service.stderr();
    assert.match(stderr, new RegExp(`The configuration file ${file} is invalid`));
    assert.match(stderr, /server\.port: expected a port number/);
    assert.match(stderr, /server\.prot: unknown key/);
    assert.match(stderr, /storage\.critical_percent: expected a percentage from 1 to 100/);
    assert.doesNotMatch(stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  it('refuses managed mode without a mediamtx binary, saying what to do, with exit status 78', async () => {
    const dir = tempDir();
    const service = spawnService(
      [],
      serviceEnv(dir, {
        CAMERA_SERVICE_MEDIAMTX_MODE: 'managed',
        CAMERA_SERVICE_MEDIAMTX_BINARY: `${dir}/no-such-mediamtx`,
      }),
    );
    const { code } = await within(service.exited, 10_000, 'exit');
    assert.equal(code, EXIT_CONFIG);
    assert.match(service.stderr(), /The configuration of the media server is invalid/);
    assert.match(service.stderr(), /mediamtx\.binary .*no-such-mediamtx/);
  });

  it('applies environment overrides, logs the chosen ports and the variables used', async () => {
    const dir = tempDir();
    const service = await startService(
      [],
      serviceEnv(dir, { CAMERA_SERVICE_SERVER_MAX_BATCH_REQUESTS: '7' }),
    );
    try {
      const listening = service.logs.find((r) => r.msg === 'listening');
      assert.ok(Number(listening?.api_port) > 0 && Number(listening?.health_port) > 0);
      const starting = service.logs.find((r) => r.msg === 'camera-service starting');
      assert.ok(
        (starting?.env_overrides as string[]).includes('CAMERA_SERVICE_SERVER_MAX_BATCH_REQUESTS'),
      );
      const client = await connect(service.wsUrl);
      assert.equal((await client.getServerInfo()).limits.max_batch_requests, 7);
      await client.close();
    } finally {
      await killService(service);
    }
  });

  it('reloads live settings on SIGHUP, and keeps the running config when the new file is bad', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'c.yml', 'server:\n  port: 0\n  max_message_bytes: 65536\n');
    const service = await startService(['--config', file], serviceEnv(dir));
    try {
      const client = await connect(service.wsUrl);
      writeFileSync(
        file,
        'server:\n  port: 0\n  max_message_bytes: 131072\n  websocket_path: /rpc\n' +
          'auth:\n  rate_limit: { requests_per_second: 1, burst: 3 }\n',
      );
      service.child.kill('SIGHUP');
      const reloaded = await service.logs.waitFor((r) => r.msg === 'configuration reloaded', 5000);
      assert.deepEqual((reloaded.applied as string[]).sort(), [
        'auth.rate_limit.burst',
        'auth.rate_limit.requests_per_second',
        'server.max_message_bytes',
      ]);
      // The new rate limit holds for the connection already open: 3 calls pass, then -32002.
      const burst = await Promise.allSettled([1, 2, 3, 4, 5].map(() => client.ping()));
      assert.deepEqual(
        burst.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as RpcError).code)),
        ['ok', 'ok', 'ok', -32002, -32002],
      );
      const pending = await service.logs.waitFor(
        (r) => r.msg === 'configuration changes that take effect after a restart',
      );
      assert.deepEqual(pending.keys, ['server.websocket_path']);
      // A fresh connection has a fresh bucket: the limit is per connection.
      const second = await connect(service.wsUrl);
      assert.equal((await second.getServerInfo()).limits.max_message_bytes, 131072);

      writeFileSync(file, 'server:\n  max_message_bytes: "lots"\n');
      service.child.kill('SIGHUP');
      const failed = await service.logs.waitFor(
        (r) => r.msg.startsWith('configuration reload failed'),
        5000,
      );
      assert.match(String(failed.err), /server\.max_message_bytes/);
      const third = await connect(service.wsUrl); // within the burst of 3: authenticate + 2 calls
      assert.equal(
        (await third.getServerInfo()).limits.max_message_bytes,
        131072,
        'old config kept',
      );
      assert.equal(await third.ping(), 'pong');

      // An emptied file (an editor's truncation, a full disk) would reset every live key.
      writeFileSync(file, '');
      service.child.kill('SIGHUP');
      const empty = await service.logs.waitFor(
        (r) => r.msg.startsWith('configuration reload failed') && /is empty/.test(String(r.err)),
        5000,
      );
      assert.match(String(empty.err), /the running configuration stays/);
      const fourth = await connect(service.wsUrl);
      assert.equal((await fourth.getServerInfo()).limits.max_message_bytes, 131072);
      await Promise.all([client.close(), second.close(), third.close(), fourth.close()]);
    } finally {
      await killService(service);
    }
  });

  it('exits 0 within 5 s on SIGTERM, sending open clients a close frame', async () => {
    const dir = tempDir();
    const service = await startService([], serviceEnv(dir));
    try {
      const clients = await Promise.all([1, 2, 3].map(() => connect(service.wsUrl)));
      const closes = clients.map(
        (c) => new Promise<number>((resolve) => c.once('close', (code) => resolve(code))),
      );
      const started = Date.now();
      service.child.kill('SIGTERM');
      const { code } = await within(service.exited, 5000, 'exit after SIGTERM');
      const elapsed = Date.now() - started;
      assert.equal(code, 0);
      assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      assert.deepEqual(await Promise.all(closes), [1001, 1001, 1001]);
      assert.ok(service.logs.find((r) => r.msg === 'stopped'));
    } finally {
      await killService(service);
    }
  });

  it('reports a busy port as a sentence and exits non-zero', async () => {
    const dir = tempDir();
    const first = await startService([], serviceEnv(dir));
    try {
      const port = new URL(first.wsUrl).port;
      const second = spawnService([], serviceEnv(dir, { CAMERA_SERVICE_SERVER_PORT: port }));
      const { code } = await within(second.exited, 10_000, 'exit');
      assert.equal(code, 1);
      const fatal = second.logs.find((r) => r.level === 'fatal');
      assert.match(
        String(fatal?.err),
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 \\(server\\.port, .*\\) is already in use`),
      );
    } finally {
      await killService(first);
    }
  });

  it('refuses to start in production without a JWT secret, saying how to make one', async () => {
    const dir = tempDir();
    const env = serviceEnv(dir, { CAMERA_SERVICE_SERVICE_ENVIRONMENT: 'production' });
    delete env.CAMERA_SERVICE_AUTH_JWT_SECRET;
    const service = spawnService([], env);
    const { code } = await within(service.exited, 10_000, 'exit');
    assert.equal(code, EXIT_CONFIG);
    assert.match(
      service.stderr(),
      /auth\.jwt_secret: required in production.*openssl rand -base64 48/,
    );
  });

  it('generates a development JWT secret on first start, says so, and reuses it', async () => {
    const dir = tempDir();
    const env = serviceEnv(dir);
    delete env.CAMERA_SERVICE_AUTH_JWT_SECRET;
    const first = await startService([], env);
    try {
      const warned = first.logs.find((r) =>
        r.msg.startsWith('development mode: generated a JWT secret'),
      );
      assert.equal(warned?.path, `${dir}/state/jwt-secret`);
    } finally {
      await killService(first);
    }
    const second = await startService([], env);
    try {
      assert.equal(
        second.logs.find((r) => r.msg.startsWith('development mode: generated')),
        undefined,
      );
      // A token minted from the stored secret is accepted by the restarted service.
      const secret = readFileSync(`${dir}/state/jwt-secret`, 'utf8').trim();
      const token = await new JwtService(secret).mint({
        role: 'viewer',
        subject: 'dev',
        ttlSeconds: 60,
      });
      const client = new CameraServiceClient({ url: second.wsUrl, authToken: token });
      await client.connect();
      assert.equal(await client.ping(), 'pong');
      await client.close();
    } finally {
      await killService(second);
    }
  });

  it('validates and prints a config with `camera-service config`, hiding secrets', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'c.yml', `auth:\n  jwt_secret: "${'k'.repeat(40)}"\n`);
    const service = spawnService(['config', '--config', file], serviceEnv(dir));
    let stdout = '';
    service.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const { code } = await within(service.exited, 10_000, 'exit');
    assert.equal(code, 0);
    assert.match(stdout, /jwt_secret: <hidden>/);
    assert.match(stdout, /websocket_path: \/ws/);
    assert.doesNotMatch(stdout, /kkkk/);
  });
});
