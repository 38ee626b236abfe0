/**
 * What differs between the MediaMTX versions the relay imitates, in one table, so that the
 * camera service can be tested here against the behaviour of the version it will meet.
 * Observed on real v1.15.1 and v1.18.2, and read in MediaMTX's source at those versions
 * (internal/api/api.go, internal/defs/api*.go, internal/externalcmd, internal/hooks).
 * '1.18' stands for v1.18.2 and later.
 */
import type { ExpansionOrder } from './command-words.js';

export type MediamtxVersion = '1.15' | '1.18';

export const MEDIAMTX_VERSIONS: readonly MediamtxVersion[] = ['1.15', '1.18'];

export const DEFAULT_MEDIAMTX_VERSION: MediamtxVersion = '1.18';

export interface VersionRules {
  /** The release whose behaviour is reproduced. */
  release: string;
  /** `GET /v3/info` exists (added in v1.16); before, it is Go's plain-text 404. */
  info: boolean;
  /** `/v3/paths` items carry the v1.16+ fields (available, online, tracks2, inboundBytes...). */
  pathFieldsV116: boolean;
  /** The body of a successful write; null: 200 with an empty body. */
  okBody: { status: 'ok' } | null;
  /** The body of an API error. */
  errorBody: (message: string) => Record<string, string>;
  /** The body of a refused API request (401); null: empty. */
  authErrorBody: Record<string, string> | null;
  /** Variables of a command are expanded after splitting it into words, or before. */
  expansion: ExpansionOrder;
  /** MTX_QUERY is URL-encoded (query-escaped) so that it cannot inject arguments. */
  escapeQuery: boolean;
}

export const VERSION_RULES: Record<MediamtxVersion, VersionRules> = {
  '1.15': {
    release: 'v1.15.1',
    info: false,
    pathFieldsV116: false,
    okBody: null,
    errorBody: (message) => ({ error: message }),
    authErrorBody: null,
    expansion: 'expand-then-split',
    escapeQuery: false,
  },
  '1.18': {
    release: 'v1.18.2',
    info: true,
    pathFieldsV116: true,
    okBody: { status: 'ok' },
    errorBody: (message) => ({ status: 'error', error: message }),
    authErrorBody: { status: 'error', error: 'authentication error' },
    expansion: 'split-then-expand',
    escapeQuery: true,
  },
};

/** Reads a version from configuration: "1.15", "v1.18", 1.18 (YAML reads it as a number). */
export function parseMediamtxVersion(value: unknown): MediamtxVersion | null {
  const text =
    typeof value === 'number' ? value.toFixed(2) : typeof value === 'string' ? value : '';
  const match = /^v?(1\.(?:15|18))(?:\.\d+)?$/.exec(text.trim());
  return match ? (match[1] as MediamtxVersion) : null;
}

/**
 * MTX_QUERY as v1.18.2 gives it: Go's url.QueryEscape of the raw query (space is `+`,
 * everything but letters, digits and `-_.~` is %XX).
 */
export function queryEscape(query: string): string {
  return encodeURIComponent(query)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
