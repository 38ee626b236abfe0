/**
 * HTTP downloads on the API port: `GET` and `HEAD` of `/files/recordings/<name>` and
 * `/files/snapshots/<name>`, for a viewer or above (`Authorization: Bearer` or
 * `X-API-Key`).
 *
 * - Path safety: the route takes exactly one segment of the raw URL, decodes it once, and
 *   serves it only when it is a plain media name (letters, digits, `.`, `_`, `-`; no `..`,
 *   no separator of any kind after decoding, no NUL, nothing hidden). A symbolic link is
 *   followed only when it stays inside the directory, and a file with another hard link
 *   is not served. Anything else is a 400 or a 404.
 * - Streaming (never buffered whole), with Content-Type, Content-Length,
 *   Content-Disposition, ETag and Last-Modified; If-None-Match / If-Modified-Since (304);
 *   one byte range (206), unsatisfiable ranges (416), If-Range.
 * - Bounds: downloads at once (503), downloads per client address (429), and a client that
 *   takes nothing for the idle timeout is cut, so clients that stop reading cannot hold
 *   the slots (or the memory) for long. Each download holds one read buffer.
 * - An audit line per download, with who, what, how much and the status.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpAuthResult } from '../auth/index.js';
import type { Principal, Role } from '../rpc/index.js';
import type { Logger } from '../logging/index.js';
import { sendJson } from '../transport/index.js';
import { describeFault, dirProblem } from './faults.js';
import { isMediaName, isOwnFile, resolveInside } from './names.js';
import { sendRange } from './send.js';

export type FileKind = 'recordings' | 'snapshots';

/** Why a download was refused or cut (the `reason` of camera_service_dropped_total). */
export type DownloadDrop = 'download_limit' | 'ip_download_limit' | 'idle_timeout';

export interface DownloadDeps {
  /** The directory and the extensions served, per kind. */
  dirs: () => Record<FileKind, { dir: string; extensions: readonly string[] }>;
  authorize: (req: IncomingMessage, role: Role) => Promise<HttpAuthResult>;
  audit: Logger;
  /** Refusals and cuts. */
  log: Logger;
  /** Downloads served at once (server.max_downloads). */
  maxDownloads: () => number;
  /** Downloads one client address may hold at once (server.max_downloads_per_ip). */
  maxDownloadsPerIp: () => number;
  /** A download whose client takes nothing for this long is cut (server.download_idle_timeout_seconds). */
  idleTimeoutMs: () => number;
  /** The client's address, for the per-address share and the audit (default: the peer's). */
  clientAddress?: (req: IncomingMessage) => string;
  /** Told each refusal or cut, with its reason. */
  onDrop?: (reason: DownloadDrop) => void;
}

const ROUTE = /^\/files\/(recordings|snapshots)\/([^/]*)$/;
const TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  mkv: 'video/x-matroska',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
};
/** Whether a request is for the download routes (everything under /files/). */
export function isFileRequest(req: IncomingMessage): boolean {
  return (req.url ?? '').startsWith('/files/');
}

/**
 * The download handler. At most `maxDownloads()` run at once, at most
 * `maxDownloadsPerIp()` of them for one client address: more answer 503 or 429 with
 * Retry-After.
 */
export function downloadHandler(
  deps: DownloadDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  let active = 0;
  const perAddress = new Map<string, number>();
  const addressOf = deps.clientAddress ?? ((req) => req.socket.remoteAddress ?? 'unknown');
  const refuse = (
    res: ServerResponse,
    reason: DownloadDrop,
    detail: Record<string, unknown>,
    answer: { status: number; error: string; retryAfter: string },
  ) => {
    deps.onDrop?.(reason);
    deps.log.warn(
      { reason, ...detail },
      reason === 'download_limit'
        ? 'download refused: limit reached'
        : 'download refused: per-address limit reached',
    );
    sendJson(res, answer.status, { error: answer.error }, { 'retry-after': answer.retryAfter });
  };
  return async (req, res) => {
    const remote = addressOf(req);
    const mine = perAddress.get(remote) ?? 0;
    const perIp = deps.maxDownloadsPerIp();
    if (mine >= perIp) {
      refuse(
        res,
        'ip_download_limit',
        { limit: perIp, remote },
        {
          status: 429,
          error: `This address already has ${perIp} downloads running, the most allowed at once: wait for one to finish, then try again.`,
          retryAfter: '5',
        },
      );
      return;
    }
    const max = deps.maxDownloads();
    if (active >= max) {
      refuse(
        res,
        'download_limit',
        { limit: max, remote },
        {
          status: 503,
          error: 'Too many downloads at once: try again in a moment.',
          retryAfter: '1',
        },
      );
      return;
    }
    active += 1;
    perAddress.set(remote, mine + 1);
    try {
      await serveFileRequest(req, res, deps, remote);
    } finally {
      active -= 1;
      const left = (perAddress.get(remote) ?? 1) - 1;
      if (left > 0) perAddress.set(remote, left);
      else perAddress.delete(remote);
    }
  };
}

async function serveFileRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: DownloadDeps,
  remote: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(
      res,
      405,
      { error: 'Files are downloaded with GET (or HEAD).' },
      { allow: 'GET, HEAD' },
    );
    return;
  }
  // Who asks comes first: nobody learns whether a file exists without a credential.
  const auth = await deps.authorize(req, 'viewer');
  if (!auth.ok) {
    sendJson(res, auth.status, { error: auth.message }, auth.headers);
    return;
  }
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  const match = ROUTE.exec(rawPath);
  if (!match) {
    sendJson(res, 404, {
      error: 'Nothing here: files are at /files/recordings/<name> and /files/snapshots/<name>.',
    });
    return;
  }
  const kind = match[1] as FileKind;
  const { dir, extensions } = deps.dirs()[kind];
  let name: string;
  try {
    name = decodeURIComponent(match[2] ?? '');
  } catch {
    name = '';
  }
  if (!isMediaName(name, extensions)) {
    sendJson(res, 400, {
      error: `Not a file name the service serves: use a plain name such as camera0_2025-01-15_14-30-00.${extensions[0]}, as listed by list_${kind}.`,
    });
    return;
  }
  const file = await resolveInside(dir, name, extensions);
  // Opened without following links, and described from the open descriptor: what was
  // checked is what is sent, even if the name is swapped for a link meanwhile.
  const handle = file
    ? await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null)
    : null;
  const stats = handle ? await handle.stat().catch(() => null) : null;
  if (!handle || !stats || !isOwnFile(stats)) {
    await handle?.close();
    // Absent because the whole directory is gone or unreadable: say that instead.
    const problem = await dirProblem(dir, false);
    if (problem) {
      const what = describeFault(kind, problem);
      sendJson(res, 503, {
        error: `${what.charAt(0).toUpperCase()}${what.slice(1)}: ${kind} cannot be downloaded; tell the administrator.`,
      });
      return;
    }
    sendJson(res, 404, { error: `There is no ${kind.slice(0, -1)} named ${name}.` });
    return;
  }
  try {
    await respond(req, res, {
      handle,
      stats,
      name,
      kind,
      principal: auth.principal,
      remote,
      deps,
    });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

interface Target {
  handle: FileHandle;
  stats: Stats;
  name: string;
  kind: FileKind;
  principal: Principal;
  remote: string;
  deps: DownloadDeps;
}

async function respond(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
  const { handle, stats, name, kind } = target;

  const etag = `"${stats.ino.toString(36)}-${stats.size.toString(36)}-${Math.floor(stats.mtimeMs).toString(36)}"`;
  const lastModified = new Date(Math.floor(stats.mtimeMs / 1000) * 1000).toUTCString();
  const headers: Record<string, string | number> = {
    'content-type':
      TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream',
    'content-disposition': `attachment; filename="${name}"`,
    'accept-ranges': 'bytes',
    etag,
    'last-modified': lastModified,
    'cache-control': 'private, no-cache',
    'x-content-type-options': 'nosniff',
  };
  const audit = (status: number, bytes: number, range: string | null, completed = true) =>
    target.deps.audit.info(
      {
        event: 'file_download',
        remote: target.remote,
        subject: target.principal.subject,
        role: target.principal.role,
        kind,
        filename: name,
        status,
        bytes,
        range,
        method: req.method,
        completed,
      },
      'audit: file downloaded',
    );

  if (notModified(req, etag, stats.mtimeMs)) {
    res.writeHead(304, headers).end();
    audit(304, 0, null);
    return;
  }
  const range = wantedRange(req, etag, lastModified, stats.size);
  if (range === 'unsatisfiable') {
    res
      .writeHead(416, {
        'content-range': `bytes */${stats.size}`,
        'content-length': 0,
        'accept-ranges': 'bytes',
        etag,
        'last-modified': lastModified,
      })
      .end();
    audit(416, 0, req.headers.range ?? null);
    return;
  }
  const [start, end] = range ?? [0, stats.size - 1];
  const length = Math.max(0, end - start + 1);
  const status = range ? 206 : 200;
  res.writeHead(status, {
    ...headers,
    'content-length': length,
    ...(range && { 'content-range': `bytes ${start}-${end}/${stats.size}` }),
  });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    audit(status, 0, req.headers.range ?? null);
    return;
  }
  const idleMs = target.deps.idleTimeoutMs();
  const { sent, idle } = await sendRange(handle, res, start, length, idleMs);
  if (idle) {
    target.deps.onDrop?.('idle_timeout');
    target.deps.log.warn(
      { reason: 'idle_timeout', remote: target.remote, kind, filename: name, bytes: sent },
      `download cut: the client took nothing for ${idleMs / 1000} s`,
    );
  }
  // A file cut short while it was sent (shorter than Content-Length promised): the
  // connection cannot be reused.
  if (sent < length) res.destroy();
  else res.end();
  audit(status, sent, req.headers.range ?? null, sent === length);
}

function notModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return (
      ifNoneMatch.trim() === '*' ||
      ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
    );
  }
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return Number.isFinite(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/**
 * The byte range asked for: [start, end] inclusive, null for the whole file (no Range,
 * a Range we ignore as RFC 9110 allows: several ranges, bad syntax, a stale If-Range), or
 * 'unsatisfiable'.
 */
function wantedRange(
  req: IncomingMessage,
  etag: string,
  lastModified: string,
  size: number,
): [number, number] | null | 'unsatisfiable' {
  const header = req.headers.range;
  if (header === undefined) return null;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== etag && ifRange !== lastModified) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return [start, end];
}
