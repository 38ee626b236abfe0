/**
 * `camera-service backup` and `restore` against the real service: a backup taken from a
 * running service, restored into an emptied state, brings back the JWT secret the service
 * generated (so a token minted before the backup authenticates again), the API keys, the
 * retention policy set over the API, the recording journals and, with --with-media, the
 * media, each with the right mode; a second restore over it needs --force; a corrupt or
 * truncated archive is refused and changes nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CameraServiceClient } from '@camera-service/sdk';
import { tempDir } from '../helpers/files.js';
import { BIN, killService, serviceEnv, startService } from '../helpers/process.js';
import { within } from '../helpers/wait.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await within(
    new Promise<number | null>((resolve) => child.on('close', resolve)),
    30_000,
    `camera-service ${args[0]} to exit`,
  );
  return { code, stdout, stderr };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('backup and restore', () => {
  it('a restore into an empty state brings back tokens, keys, policy, journals and media', async () => {
    const dir = tempDir();
    const env = serviceEnv(dir);
    // The secret is the one the service generates into its state directory, as a
    // development box without auth.jwt_secret has it.
    delete env.CAMERA_SERVICE_AUTH_JWT_SECRET;
    const config = join(dir, 'config.yml');
    writeFileSync(config, 'logging:\n  level: info\n', { mode: 0o640 });
    const args = ['--config', config];

    let service = await startService(args, env);
    let token: string;
    let key: string;
    const recording = randomBytes(200_000);
    const snapshot = randomBytes(5_000);
    try {
      const minted = await cli(['token', '--role', 'admin', ...args], env);
      assert.equal(minted.code, 0, minted.stderr);
      token = minted.stdout.trim();
      const created = await cli(
        ['keys', 'create', '--role', 'operator', '--name', 'nvr', ...args],
        env,
      );
      assert.equal(created.code, 0, created.stderr);
      key = created.stdout.trim();
      const client = new CameraServiceClient({ url: service.wsUrl });
      await client.connect();
      await client.authenticate(token);
      await client.request('set_retention_policy', {
        policy_type: 'age',
        enabled: false,
        max_age_days: 7,
      });
      await client.close();
    } finally {
      await killService(service);
    }
    mkdirSync(join(dir, 'recordings', '.sessions'), { recursive: true });
    writeFileSync(join(dir, 'recordings', 'cam_2026-01-01_00-00-00.mp4'), recording);
    writeFileSync(join(dir, 'snapshots', 'cam_2026-01-01_00-00-00.jpg'), snapshot);
    const journal = JSON.stringify({ device: 'cam', start_time: 'x', files: ['gone.mp4'] });
    writeFileSync(join(dir, 'recordings', '.sessions', 'abc.json'), journal);
    const secretBefore = readFileSync(join(dir, 'state', 'jwt-secret'), 'utf8');
    const keysBefore = readFileSync(join(dir, 'api-keys.json'), 'utf8');
    const retentionBefore = readFileSync(join(dir, 'state', 'retention.json'), 'utf8');

    const archive = join(tempDir(), 'box.tar.gz');
    const backup = await cli(['backup', '--out', archive, '--with-media', ...args], env);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(mode(archive), 0o600, 'the archive holds secrets: 0600');
    const listing = spawnSync('tar', ['-xzOf', archive, 'manifest.json'], { encoding: 'utf8' });
    const manifest = JSON.parse(listing.stdout) as {
      version: string;
      created_at: string;
      contents: string[];
      files: { path: string; sha256: string }[];
    };
    assert.deepEqual([...manifest.contents].sort(), [
      'api_keys',
      'config',
      'journal',
      'jwt_secret',
      'media',
      'retention',
    ]);
    assert.ok(manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256)));
    assert.ok(Date.parse(manifest.created_at) > Date.now() - 60_000);

    // The box loses its state (a new disk, a reinstall): only the archive is left.
    for (const gone of ['state', 'recordings', 'snapshots', 'api-keys.json', 'config.yml'])
      rmSync(join(dir, gone), { recursive: true, force: true });

    // A corrupt archive is refused and writes nothing: one byte of a file changed...
    const work = tempDir();
    spawnSync('tar', ['-xzf', archive, '-C', work]);
    writeFileSync(join(work, 'files', 'auth', 'api-keys.json'), keysBefore.replace(/"/, "'"));
    const corrupt = join(work, 'corrupt.tar.gz');
    spawnSync('tar', ['-czf', corrupt, '-C', work, 'manifest.json', 'files']);
    const refused = await cli(['restore', corrupt, ...args], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /is corrupt: files\/auth\/api-keys\.json does not match its sha256/,
    );
    // ...or the archive cut short.
    const cut = join(work, 'cut.tar.gz');
    writeFileSync(cut, readFileSync(archive));
    truncateSync(cut, Math.floor(statSync(cut).size / 2));
    const truncated = await cli(['restore', cut, ...args], env);
    assert.equal(truncated.code, 1);
    assert.match(truncated.stderr, /is not a readable backup|could not be unpacked/);
    assert.equal(existsSync(join(dir, 'api-keys.json')), false, 'a refused archive wrote nothing');
    assert.equal(existsSync(config), false);

    const restored = await cli(['restore', archive, ...args], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(readFileSync(join(dir, 'state', 'jwt-secret'), 'utf8'), secretBefore);
    assert.equal(readFileSync(join(dir, 'api-keys.json'), 'utf8'), keysBefore);
    assert.equal(readFileSync(join(dir, 'state', 'retention.json'), 'utf8'), retentionBefore);
    assert.equal(readFileSync(join(dir, 'recordings', '.sessions', 'abc.json'), 'utf8'), journal);
    assert.deepEqual(
      readFileSync(join(dir, 'recordings', 'cam_2026-01-01_00-00-00.mp4')),
      recording,
    );
    assert.deepEqual(readFileSync(join(dir, 'snapshots', 'cam_2026-01-01_00-00-00.jpg')), snapshot);
    assert.equal(mode(join(dir, 'state', 'jwt-secret')), 0o600);
    assert.equal(mode(join(dir, 'api-keys.json')), 0o600);
    assert.equal(mode(config), 0o640, 'the configuration keeps its mode');

    // Over a state that is there now: only with --force.
    const again = await cli(['restore', archive, ...args], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /The state is not empty .*--force/);
    const forced = await cli(['restore', archive, '--force', ...args], env);
    assert.equal(forced.code, 0, forced.stderr);

    // The journal would be recovered at start (its file is gone): not part of this check.
    rmSync(join(dir, 'recordings', '.sessions', 'abc.json'));
    service = await startService(args, env);
    try {
      const withToken = new CameraServiceClient({ url: service.wsUrl });
      await withToken.connect();
      assert.equal((await withToken.authenticate(token)).role, 'admin', 'the old token verifies');
      const { retention: policy } = (await withToken.request('get_storage_info')) as {
        retention: { policy_type: string; max_age_days: number; source: string };
      };
      assert.equal(policy.source, 'api');
      assert.equal(policy.policy_type, 'age');
      assert.equal(policy.max_age_days, 7);
      await withToken.close();
      const withKey = new CameraServiceClient({ url: service.wsUrl });
      await withKey.connect();
      assert.equal((await withKey.authenticate(key)).role, 'operator', 'the old API key works');
      await withKey.close();
    } finally {
      await killService(service);
    }
  });
});
