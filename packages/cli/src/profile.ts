/**
 * Where the URL and the credential come from: the command line (--url, --token), then the
 * environment (CAMERA_URL, CAMERA_TOKEN), then the profile file
 * (~/.config/camera-cli/config.json, or $CAMERA_CLI_CONFIG; $XDG_CONFIG_HOME is honoured):
 *
 *     { "default": "lab", "profiles": { "lab": { "url": "ws://lab:8002/ws", "token": "..." } } }
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './exit-codes.js';

export const DEFAULT_URL = 'ws://localhost:8002/ws';

export interface Profile {
  url?: string;
  token?: string;
}

export interface ProfileFile {
  default?: string;
  profiles?: Record<string, Profile>;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.CAMERA_CLI_CONFIG) return env.CAMERA_CLI_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'camera-cli', 'config.json');
}

function readProfiles(path: string): ProfileFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as ProfileFile;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed;
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON (${(error as Error).message}).`);
  }
}

export function resolveTarget(
  flags: { url?: string; token?: string; profile?: string },
  env: NodeJS.ProcessEnv,
): { url: string; token: string | undefined; profile: string | null } {
  const path = configPath(env);
  const file = readProfiles(path);
  const name = flags.profile ?? (env.CAMERA_PROFILE || undefined) ?? file?.default ?? null;
  let profile: Profile = {};
  if (name !== null) {
    const found = file?.profiles?.[name];
    if (!found && (flags.profile !== undefined || Boolean(env.CAMERA_PROFILE))) {
      const known = Object.keys(file?.profiles ?? {});
      throw new UsageError(
        `No profile named ${name} in ${path}${known.length ? ` (profiles: ${known.join(', ')})` : ''}.`,
      );
    }
    profile = found ?? {};
  }
  return {
    url: flags.url ?? (env.CAMERA_URL || undefined) ?? profile.url ?? DEFAULT_URL,
    token: flags.token ?? (env.CAMERA_TOKEN || undefined) ?? profile.token,
    profile: name,
  };
}
