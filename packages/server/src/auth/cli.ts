/**
 * The `keys` and `token` subcommands of camera-service. They act on the files the
 * configuration names, so they take the same --config as the daemon; a running daemon
 * sees a key change before its next answer (it checks the keys file first).
 */
import type { Config } from '../config/index.js';
import { isRole, ROLES, type Role } from '../rpc/index.js';
import { ApiKeyStore, type ApiKeyInfo } from './api-keys.js';
import { JwtService, parseTtl } from './jwt.js';
import { resolveJwtSecret } from './secret.js';

export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

function roleOrThrow(value: string): Role {
  if (!isRole(value)) throw new Error(`"${value}" is not a role; use one of ${ROLES.join(', ')}`);
  return value;
}

export function keysCreate(
  config: Config,
  options: { role: string; name: string },
  io: CliOutput,
): void {
  const store = new ApiKeyStore({ file: config.auth.api_keys_file });
  const { key, info } = store.create({ name: options.name, role: roleOrThrow(options.role) });
  io.err(
    `Created API key ${info.id} "${info.name}" with the ${info.role} role in ${store.file}.\n` +
      'Store it now: it is not shown again and only its hash is kept.\n',
  );
  io.out(`${key}\n`);
}

export function keysList(config: Config, options: { json?: boolean }, io: CliOutput): void {
  const store = new ApiKeyStore({ file: config.auth.api_keys_file });
  store.load();
  const keys = store.list();
  if (options.json) {
    io.out(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  if (keys.length === 0) {
    io.err(
      `No API keys in ${store.file}. Create one with: camera-service keys create --role viewer --name NAME\n`,
    );
    return;
  }
  io.out(table(keys));
}

export function keysRevoke(config: Config, idOrName: string, io: CliOutput): boolean {
  const store = new ApiKeyStore({ file: config.auth.api_keys_file });
  const revoked = store.revoke(idOrName);
  if (!revoked) {
    io.err(`No active API key has the id or name "${idOrName}"; see camera-service keys list.\n`);
    return false;
  }
  io.err(
    `Revoked API key ${revoked.id} "${revoked.name}"; sessions using it fail on their next call.\n`,
  );
  return true;
}

export async function mintToken(
  config: Config,
  options: { role: string; ttl?: string; sub?: string },
  io: CliOutput,
): Promise<void> {
  const role = roleOrThrow(options.role);
  const ttlSeconds = options.ttl ? parseTtl(options.ttl) : config.auth.jwt_expiry_hours * 3600;
  const secret = resolveJwtSecret(config, (path) =>
    io.err(
      `Development mode: generated a JWT secret in ${path}; the service started from here uses it too.\n`,
    ),
  );
  const jwt = new JwtService(secret);
  io.out(`${await jwt.mint({ role, subject: options.sub ?? `cli-${role}`, ttlSeconds })}\n`);
}

function table(keys: ApiKeyInfo[]): string {
  const rows = [
    ['ID', 'NAME', 'ROLE', 'CREATED', 'STATUS'],
    ...keys.map((k) => [
      k.id,
      k.name,
      k.role,
      k.created_at,
      k.revoked_at ? `revoked ${k.revoked_at}` : 'active',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
