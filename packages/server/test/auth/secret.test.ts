import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
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
