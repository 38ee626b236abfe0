import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { devSecretPath, resolveJwtSecret } from '../../src/auth/index.js';
import { ConfigError, configSchema } from '../../src/config/index.js';
import { tempDir } from '../helpers/files.js';

function config(auth: Record<string, unknown>, environment = 'development') {
  return configSchema.parse({ auth, service: { environment, state_dir: `${tempDir()}/state` } });
}

describe('JWT secret', () => {
  it('uses a configured secret of 32 bytes or more', () => {
    assert.equal(resolveJwtSecret(config({ jwt_secret: 's'.repeat(32) })), 's'.repeat(32));
  });

  it('refuses a short secret, saying how to make one', () => {
    assert.throws(
      () => resolveJwtSecret(config({ jwt_secret: 'short' })),
      (e: unknown) =>
        e instanceof ConfigError &&
        /at least 32 bytes, got 5.*openssl rand -base64 48/.test(e.message),
    );
  });

  it('reads the secret from auth.jwt_secret_file, its first line', () => {
    const file = join(tempDir(), 'jwt-secret');
    writeFileSync(file, `${'f'.repeat(40)}\nignored\n`, { mode: 0o600 });
    assert.equal(resolveJwtSecret(config({ jwt_secret_file: file }, 'production')), 'f'.repeat(40));
  });

  it('refuses a secret file that is missing, unreadable or short, naming it', () => {
    const dir = tempDir();
    const missing = join(dir, 'none');
    assert.throws(
      () => resolveJwtSecret(config({ jwt_secret_file: missing }, 'production')),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`${missing} does not exist`),
    );
    const short = join(dir, 'short');
    writeFileSync(short, 'tiny\n');
    assert.throws(
      () => resolveJwtSecret(config({ jwt_secret_file: short })),
      (e: unknown) =>
        e instanceof ConfigError && /jwt_secret_file .*at least 32 bytes, got 4/.test(e.message),
    );
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      writeFileSync(locked, 'x'.repeat(40));
      chmodSync(locked, 0);
      assert.throws(
        () => resolveJwtSecret(config({ jwt_secret_file: locked })),
        (e: unknown) =>
          e instanceof ConfigError && /cannot be read by the service user/.test(e.message),
      );
    }
  });

  it('refuses to start in production without a secret', () => {
    assert.throws(
      () => resolveJwtSecret(config({}, 'production')),
      (e: unknown) =>
        e instanceof ConfigError &&
        /required in production.*CAMERA_SERVICE_AUTH_JWT_SECRET/.test(e.message),
    );
  });

  it('generates a development secret once, mode 0600, and reuses it', () => {
    const c = config({});
    const generated: string[] = [];
    const first = resolveJwtSecret(c, (path) => generated.push(path));
    const second = resolveJwtSecret(c, (path) => generated.push(path));
    assert.equal(first, second);
    assert.ok(Buffer.byteLength(first) >= 32);
    assert.deepEqual(generated, [devSecretPath(c)]);
    assert.equal(statSync(devSecretPath(c)).mode & 0o777, 0o600);
    assert.equal(readFileSync(devSecretPath(c), 'utf8').trim(), first);
  });
});
