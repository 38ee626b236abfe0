/**
 * `camera-service keys` against a running service, both real processes: what the command
 * did is in force when it returns, with no window in which a new key fails (and counts
 * toward the login throttle) or a revoked one still works.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CameraServiceClient, RpcError } from '@camera-service/sdk';
import { tempDir } from '../helpers/files.js';
import { killService, serviceEnv, spawnService, startService } from '../helpers/process.js';
import { within } from '../helpers/wait.js';

/** Runs `camera-service keys ...` to its end; returns its stdout. */
async function keysCommand(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const command = spawnService(['keys', ...args], env);
  let stdout = '';
  command.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const { code } = await within(command.exited, 15_000, `keys ${args[0]} to exit`);
  assert.equal(code, 0, command.stderr());
  return stdout;
}

describe('camera-service keys with the service running', () => {
  it('a key works for the very first authenticate after `keys create` returns', async () => {
    const dir = tempDir();
    const env = serviceEnv(dir);
    const service = await startService([], env);
    // Connected before the key exists, so authenticate goes out the moment the command ends.
    const clients = [1, 2, 3].map(() => new CameraServiceClient({ url: service.wsUrl }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      for (const [i, client] of clients.entries()) {
        const key = (
          await keysCommand(['create', '--role', 'operator', '--name', `k${i}`], env)
        ).trim();
        const result = await client.authenticate(key);
        assert.equal(result.role, 'operator');
      }
      const failures = service.logs.records.filter((r) => r.event === 'auth_failure');
      assert.deepEqual(failures, [], 'no attempt failed, so none counted toward the throttle');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await killService(service);
    }
  });

  it('the next call of a session bound to a key fails once `keys revoke` returns', async () => {
    const dir = tempDir();
    const env = serviceEnv(dir);
    const service = await startService([], env);
    const key = (await keysCommand(['create', '--role', 'viewer', '--name', 'door'], env)).trim();
    const client = new CameraServiceClient({ url: service.wsUrl, authToken: key });
    try {
      await client.connect();
      assert.equal(await client.ping(), 'pong');
      await keysCommand(['revoke', 'door'], env);
      const error = await client.ping().then(
        () => assert.fail('a call on a revoked key succeeded'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RpcError, String(error));
      assert.equal(error.code, -32001);
      assert.match(error.message, /API key revoked/);
    } finally {
      await client.close();
      await killService(service);
    }
  });
});
