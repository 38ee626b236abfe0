/**
 * camera-relay's configuration: the subset of mediamtx.yml it understands, with the same
 * names, so a MediaMTX configuration of this subset runs unchanged:
 *   rtspAddress: ":8554"    apiAddress: "127.0.0.1:9997"
 *   hls: yes                hlsAddress: ":8888"
 *   paths: { <name>: {source, runOnDemand, runOnDemandRestart, runOnDemandStartTimeout,
 *            runOnDemandCloseAfter}, all_others: }   # all_others: any path may be published
 * Other MediaMTX keys are ignored with a notice; wrong values are errors naming the key.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseDuration } from './duration.js';
import type { PathConf } from './paths.js';
import type { RelayOptions } from './relay.js';

export class RelayConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`The relay configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const KNOWN = new Set(['rtspAddress', 'apiAddress', 'api', 'hls', 'hlsAddress', 'paths']);
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
