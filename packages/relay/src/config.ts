/**
 * camera-relay's configuration: the subset of mediamtx.yml it understands, with the same
 * names, so a MediaMTX configuration of this subset runs unchanged:
 *   rtspAddress: ":8554"    apiAddress: "127.0.0.1:9997"
 *   hls: yes                hlsAddress: ":8888"
 *   paths: { <name>: {source, runOnDemand, runOnDemandRestart, runOnDemandStartTimeout,
 *            runOnDemandCloseAfter}, all_others: }   # all_others: any path may be published
 *   readTimeout: 10s        writeTimeout: 10s
 *   authMethod: internal    # (everyone allowed, as MediaMTX's default users) or http:
 *   authHTTPAddress: http://127.0.0.1:9000/auth
 *   authHTTPExclude: [{action: api}, {action: read, path: public}]
 * and two keys of camera-relay's own, which MediaMTX does not have:
 *   imitateVersion: "1.18"  # or "1.15": the MediaMTX version whose API and command rules apply
 *   gopCache: yes           # no: new readers get no cached GOP, as with MediaMTX
 * Other MediaMTX keys are ignored with a notice; wrong values are errors naming the key.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { AUTH_ACTIONS, httpAuthHook, type AuthAction, type AuthExclusion } from './auth.js';
import { parseDuration } from './duration.js';
import { MEDIAMTX_VERSIONS, parseMediamtxVersion } from './mediamtx-version.js';
import type { PathConf } from './paths.js';
import type { RelayOptions } from './relay.js';

export class RelayConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`The relay configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const KNOWN = new Set([
  'rtspAddress',
  'apiAddress',
  'api',
  'hls',
  'hlsAddress',
  'paths',
  'readTimeout',
  'writeTimeout',
  'authMethod',
  'authHTTPAddress',
  'authHTTPExclude',
  'imitateVersion',
  'gopCache',
]);
const PATH_KEYS: Record<string, 'string' | 'boolean'> = {
  source: 'string',
  runOnDemand: 'string',
  runOnDemandRestart: 'boolean',
  runOnDemandStartTimeout: 'string',
  runOnDemandCloseAfter: 'string',
};

function address(value: unknown, key: string, problems: string[]): { host: string; port: number } {
  const match = typeof value === 'string' ? /^(.*):(\d{1,5})$/.exec(value) : null;
  if (!match || Number(match[2]) > 65535) {
    problems.push(`${key}: expected "host:port" or ":port", got ${JSON.stringify(value)}`);
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: match[1] || '0.0.0.0', port: Number(match[2]) };
}

/** A positive Go duration in milliseconds, or the problem named. */
function timeout(value: unknown, key: string, problems: string[]): number {
  let ms = NaN;
  try {
    if (typeof value === 'string') ms = parseDuration(value);
  } catch {
    // reported below
  }
  if (!(ms > 0)) {
    problems.push(
      `${key}: expected a duration above zero such as 10s, got ${JSON.stringify(value)}`,
    );
    return 10_000;
  }
  return ms;
}

/** `authHTTPExclude`: a list of {action, path}, as MediaMTX's permissions are written. */
function exclusions(value: unknown, problems: string[]): AuthExclusion[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push('authHTTPExclude: expected a list such as [{action: api}]');
    return [];
  }
  const out: AuthExclusion[] = [];
  value.forEach((entry: unknown, index) => {
    const key = `authHTTPExclude[${index}]`;
    const fields = (entry ?? {}) as Record<string, unknown>;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${key}: expected a mapping such as {action: read, path: cam0}`);
      return;
    }
    const action = fields.action;
    if (typeof action !== 'string' || !AUTH_ACTIONS.includes(action as AuthAction)) {
      problems.push(
        `${key}.action: expected one of ${AUTH_ACTIONS.join(', ')}, got ${JSON.stringify(action)}`,
      );
      return;
    }
    const path = fields.path ?? '';
    if (typeof path !== 'string') {
      problems.push(`${key}.path: expected a path name, got ${JSON.stringify(path)}`);
      return;
    }
    out.push({ action: action as AuthAction, path });
  });
  return out;
}

/** authMethod and its keys, as the relay's auth hook (internal: none, everyone allowed). */
function authOptions(
  raw: Record<string, unknown>,
  readTimeoutMs: number,
  problems: string[],
): Pick<RelayOptions, 'auth'> {
  const method = raw.authMethod ?? 'internal';
  const exclude = exclusions(raw.authHTTPExclude, problems);
  if (method === 'internal') return {};
  if (method !== 'http') {
    problems.push(
      `authMethod: the relay implements internal (everyone allowed) and http, got ${JSON.stringify(method)}`,
    );
    return {};
  }
  const address = raw.authHTTPAddress;
  if (typeof address !== 'string' || !/^https?:\/\/./.test(address)) {
    problems.push(
      `authHTTPAddress: expected an http:// or https:// URL for authMethod http, got ${JSON.stringify(address ?? null)}`,
    );
    return {};
  }
  try {
    return { auth: httpAuthHook(address, { timeoutMs: readTimeoutMs, exclude }) };
  } catch (error) {
    problems.push(`authHTTPAddress: ${(error as Error).message}`);
    return {};
  }
}

export function parseRelayConfig(text: string): { options: RelayOptions; ignored: string[] } {
  // mediamtx.yml uses YAML 1.1 booleans (yes/no).
  const doc: unknown = YAML.parse(text, { version: '1.1' }) ?? {};
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new RelayConfigError(['expected a YAML mapping at the top level']);
  }
  const raw = doc as Record<string, unknown>;
  const problems: string[] = [];
  const ignored = Object.keys(raw).filter((k) => !KNOWN.has(k));
  const rtsp = address(raw.rtspAddress ?? ':8554', 'rtspAddress', problems);
  const api = address(raw.apiAddress ?? '127.0.0.1:9997', 'apiAddress', problems);
  const hlsOn = raw.hls ?? true;
  if (typeof hlsOn !== 'boolean')
    problems.push(`hls: expected yes or no, got ${JSON.stringify(hlsOn)}`);
  const hls = address(raw.hlsAddress ?? ':8888', 'hlsAddress', problems);
  if (hlsOn === true && hls.host !== rtsp.host)
    problems.push(
      'hlsAddress: the relay serves HLS on the host of rtspAddress; use the same host, or only ":port"',
    );
  const readTimeoutMs = timeout(raw.readTimeout ?? '10s', 'readTimeout', problems);
  const writeTimeoutMs = timeout(raw.writeTimeout ?? '10s', 'writeTimeout', problems);
  const auth = authOptions(raw, readTimeoutMs, problems);
  const mediamtxVersion = parseMediamtxVersion(raw.imitateVersion ?? '1.18');
  if (!mediamtxVersion)
    problems.push(
      `imitateVersion: expected the MediaMTX version to imitate, one of ${MEDIAMTX_VERSIONS.map((v) => `"${v}"`).join(' or ')}, got ${JSON.stringify(raw.imitateVersion)}`,
    );
  const gopCache = raw.gopCache ?? true;
  if (typeof gopCache !== 'boolean')
    problems.push(`gopCache: expected yes or no, got ${JSON.stringify(gopCache)}`);
  const paths: (Partial<PathConf> & { name: string })[] = [];
  let allowUnconfigured = false;
  const rawPaths = raw.paths ?? {};
  if (typeof rawPaths !== 'object' || rawPaths === null || Array.isArray(rawPaths)) {
    problems.push('paths: expected a mapping of path names');
  } else {
    for (const [name, conf] of Object.entries(rawPaths as Record<string, unknown>)) {
      if (name === 'all_others' || name === '~^.*$') {
        allowUnconfigured = true;
        continue;
      }
      const values = (conf ?? {}) as Record<string, unknown>;
      if (typeof values !== 'object' || Array.isArray(values)) {
        problems.push(`paths.${name}: expected a mapping`);
        continue;
      }
      for (const [key, value] of Object.entries(values)) {
        const type = PATH_KEYS[key];
        if (!type) ignored.push(`paths.${name}.${key}`);
        else if (typeof value !== type)
          problems.push(`paths.${name}.${key}: expected a ${type}, got ${JSON.stringify(value)}`);
      }
      for (const key of ['runOnDemandStartTimeout', 'runOnDemandCloseAfter']) {
        if (typeof values[key] !== 'string') continue;
        try {
          parseDuration(values[key] as string);
        } catch {
          problems.push(
            `paths.${name}.${key}: expected a duration such as 10s, got ${JSON.stringify(values[key])}`,
          );
        }
      }
      const picked = Object.fromEntries(Object.entries(values).filter(([k]) => k in PATH_KEYS));
      paths.push({ ...picked, name });
    }
  }
  if (problems.length > 0) throw new RelayConfigError(problems);
  return {
    options: {
      host: rtsp.host,
      rtspPort: rtsp.port,
      apiHost: api.host,
      apiPort: api.port,
      hlsPort: hlsOn === false ? null : hls.port,
      paths,
      allowUnconfigured,
      readTimeoutMs,
      writeTimeoutMs,
      ...auth,
      mediamtxVersion: mediamtxVersion ?? '1.18',
      gopCache: gopCache === true,
    },
    ignored,
  };
}

export function loadRelayConfig(file: string | undefined): {
  options: RelayOptions;
  ignored: string[];
} {
  return parseRelayConfig(file ? readFileSync(file, 'utf8') : '');
}
