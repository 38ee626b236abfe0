/**
 * Where the JWT secret comes from: the configuration (auth.jwt_secret or
 * CAMERA_SERVICE_AUTH_JWT_SECRET), or the file auth.jwt_secret_file names (what the
 * Debian package writes once at install), at least 32 bytes. In development, when none is set,
 * one is generated into the state directory on first start and reused after, so
 * `npm start` works on a fresh machine; production refuses to start without one.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type Config } from '../config/index.js';
import { writeFileAtomic } from './atomic-file.js';

export const MIN_SECRET_BYTES = 32;
const HOW_TO =
  'Generate one with `openssl rand -base64 48` and set auth.jwt_secret (or CAMERA_SERVICE_AUTH_JWT_SECRET).';

export function devSecretPath(config: Config): string {
  return resolve(join(config.service.state_dir, 'jwt-secret'));
}

/** `onGenerated` is told where a development secret was just generated, so the caller can say so. */
export function resolveJwtSecret(config: Config, onGenerated?: (path: string) => void): string {
  const configured = config.auth.jwt_secret ?? readSecretFile(config.auth.jwt_secret_file);
  if (configured !== null) {
    const bytes = Buffer.byteLength(configured, 'utf8');
    if (bytes < MIN_SECRET_BYTES) {
      const key =
        config.auth.jwt_secret === null
          ? `auth.jwt_secret_file (${config.auth.jwt_secret_file})`
          : 'auth.jwt_secret';
      throw new ConfigError(
        [`${key}: expected at least ${MIN_SECRET_BYTES} bytes, got ${bytes}. ${HOW_TO}`],
        'for authentication',
      );
    }
    return configured;
  }
  if (config.service.environment === 'production') {
    throw new ConfigError(
      [`auth.jwt_secret: required in production (service.environment: production). ${HOW_TO}`],
      'for authentication',
    );
  }
  const path = devSecretPath(config);
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (Buffer.byteLength(stored) >= MIN_SECRET_BYTES) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(48).toString('base64url');
  writeFileAtomic(path, `${secret}\n`);
  onGenerated?.(path);
  return secret;
}

/** The first line of auth.jwt_secret_file, or null when none is set. */
function readSecretFile(file: string | null): string | null {
  if (file === null) return null;
  try {
    return (readFileSync(file, 'utf8').split('\n')[0] ?? '').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read by the service user (it should be owned by it, mode 0600)'
          : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError(
      [
        `auth.jwt_secret_file: ${file} ${why}. ${HOW_TO.replace('set auth.jwt_secret', 'write it there')}`,
      ],
      'for authentication',
    );
  }
}
