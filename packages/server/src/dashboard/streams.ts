/**
 * Streams through the API port, so that the dashboard's players are on its own origin
 * and authorised by its session cookie (or Bearer, or `?token=`):
 *
 *   GET  /streams/<path>/index.m3u8, its playlists and segments  HLS of the media plane
 *   POST /streams/<path>/whep, PATCH/DELETE its session           WHEP (MediaMTX modes)
 *   WS   /streams/<path>/mse                                      fMP4 for MediaSource
 *
 * The service checks the caller itself, then reaches the media plane with its own reader
 * credential (Basic), which the stream authorization hook accepts from this machine: a
 * viewer's cookie means nothing to MediaMTX. Upstream answers are bounded in time, and a
 * playlist in size; a playlist asked for with `?token=` gets the token on its URIs, as
 * MediaMTX does, so that players that cannot send headers fetch the segments too.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Principal } from '../rpc/index.js';
import { sendJson, targetPath, targetQuery } from '../transport/index.js';

export interface StreamTargets {
  /** Whether a camera streams at this path. */
  hasPath: (path: string) => boolean;
  /** http://host:port of the media plane's HLS server. */
  hlsBase: () => string;
  /** http://host:port of its WebRTC server, or null when it has none (embedded relay). */
  webrtcBase: () => string | null;
  /** The service's own reader credential. */
  reader: () => { user: string; password: string };
}

const PATH = /^[A-Za-z0-9_-]{1,64}$/;
/** What may follow /streams/<path>/ for HLS: file names, no dot segments. */
const HLS_FILE = /^[A-Za-z0-9_.-]{1,128}$/;
const WHEP_SESSION = /^whep\/[A-Za-z0-9_-]{1,128}$/;
const UPSTREAM_TIMEOUT_MS = 15_000;
const MAX_PLAYLIST = 1024 * 1024;
const MAX_SDP = 64 * 1024;

export interface StreamTarget {
  path: string;
  rest: string;
}

/** The camera path and what follows it, for a /streams/ request; null for others. */
export function streamTarget(url: string | undefined): StreamTarget | null {
  const pathname = targetPath(url);
  if (pathname === null || !pathname.startsWith('/streams/')) return null;
  const [path = '', ...rest] = pathname.slice('/streams/'.length).split('/');
  return { path, rest: rest.join('/') };
}

export function isStreamRequest(req: IncomingMessage): boolean {
  return (targetPath(req.url) ?? '').startsWith('/streams/');
}

/** Answers an authorised /streams/ request. */
export async function serveStream(
  req: IncomingMessage,
  res: ServerResponse,
  targets: StreamTargets,
  auth: { principal: Principal; queryToken: string | null },
): Promise<void> {
  const target = streamTarget(req.url);
  if (!target || !PATH.test(target.path) || !targets.hasPath(target.path)) {
    sendJson(res, 404, {
      error: "No camera streams at this path; get_camera_list gives each camera's stream path.",
    });
    return;
  }
  const method = req.method ?? 'GET';
  if (target.rest === 'whep' || WHEP_SESSION.test(target.rest)) {
    const base = targets.webrtcBase();
    if (base === null) {
      sendJson(res, 404, {
        error:
          'WebRTC is not offered by this media plane (the embedded relay): use /streams/<path>/mse or HLS.',
      });
      return;
    }
    if (target.rest === 'whep' ? method !== 'POST' : method !== 'PATCH' && method !== 'DELETE') {
      sendJson(res, 405, {
        error: 'WHEP: POST an SDP offer to .../whep; PATCH or DELETE its session.',
      });
      return;
    }
    await proxy(req, res, base, target, targets, { body: true, queryToken: null });
    return;
  }
  if (!HLS_FILE.test(target.rest) || target.rest.startsWith('.')) {
    sendJson(res, 404, {
      error:
        'Not a stream resource: ask for /streams/<path>/index.m3u8 (HLS) or connect to /streams/<path>/mse.',
    });
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    sendJson(res, 405, { error: 'HLS is read with GET.' }, { allow: 'GET, HEAD' });
    return;
  }
  await proxy(req, res, targets.hlsBase(), target, targets, {
    body: false,
    queryToken: auth.queryToken,
  });
}

async function proxy(
  req: IncomingMessage,
  res: ServerResponse,
  base: string,
  target: StreamTarget,
  targets: StreamTargets,
  options: { body: boolean; queryToken: string | null },
): Promise<void> {
  // The viewer's own credentials stay here; the media plane gets the service's.
  const query = new URLSearchParams(targetQuery(req.url));
  query.delete('token');
  query.delete('jwt');
  const search = query.toString();
  const url = new URL(`/${target.path}/${target.rest}${search ? `?${search}` : ''}`, base);
  const { user, password } = targets.reader();
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  };
  let body: Buffer | undefined;
  if (options.body) {
    const type = req.headers['content-type'];
    if (typeof type === 'string') headers['content-type'] = type;
    try {
      body = await readLimited(req, MAX_SDP);
    } catch {
      sendJson(res, 413, { error: `The SDP offer is larger than ${MAX_SDP} bytes.` });
      return;
    }
  }
  await new Promise<void>((resolve) => {
    const upstream = http.request(
      url,
      { method: req.method, headers, timeout: UPSTREAM_TIMEOUT_MS },
      (answer) => {
        const status = answer.statusCode ?? 502;
        const type = String(answer.headers['content-type'] ?? '');
        const out: Record<string, string> = { 'cache-control': 'no-cache' };
        if (type) out['content-type'] = type;
        const location = answer.headers.location;
        if (typeof location === 'string') {
          // MediaMTX answers /<path>/whep/<id>: the browser comes back through here.
          out.location = location.startsWith(`/${target.path}/`) ? `/streams${location}` : location;
        }
        for (const name of ['etag', 'link', 'accept-patch', 'access-control-expose-headers']) {
          const value = answer.headers[name];
          if (typeof value === 'string') out[name] = value;
        }
        if (status === 401 || status === 403) {
          answer.resume();
          sendJson(res, 502, {
            error:
              "The media server refused the service's own reader credential; check the stream authorization hook (mediamtx.auth_hook_port).",
          });
          return resolve();
        }
        if (/mpegurl/i.test(type) && status === 200) {
          void readLimited(answer, MAX_PLAYLIST).then(
            (text) => {
              const rewritten = rewritePlaylist(
                text.toString('utf8'),
                target.path,
                options.queryToken,
              );
              res.writeHead(200, { ...out, 'content-length': Buffer.byteLength(rewritten) });
              res.end(req.method === 'HEAD' ? undefined : rewritten);
              resolve();
            },
            () => {
              sendJson(res, 502, {
                error: 'The media server sent a playlist too large to pass on.',
              });
              resolve();
            },
          );
          return;
        }
        const length = answer.headers['content-length'];
        if (typeof length === 'string') out['content-length'] = length;
        res.writeHead(status, out);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', () => {
          res.destroy();
          resolve();
        });
        res.on('close', () => {
          answer.destroy();
          resolve();
        });
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', () => {
      if (!res.headersSent) {
        sendJson(res, 502, {
          error:
            'The media server did not answer for this stream; it may be starting: retry shortly.',
        });
      } else {
        res.destroy();
      }
      resolve();
    });
    upstream.end(body);
  });
}

/**
 * A playlist's URIs kept under /streams/<path>/: relative ones stay relative (they resolve
 * there already), absolute paths of the media plane are moved under /streams/, and with
 * a query token every URI carries it.
 */
export function rewritePlaylist(text: string, path: string, token: string | null): string {
  const fix = (uri: string): string => {
    let out = uri;
    if (out.startsWith(`/${path}/`)) out = `/streams${out}`;
    else if (/^[a-z]+:\/\//i.test(out)) return out;
    if (token !== null) out += `${out.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    return out;
  };
  return text
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return fix(trimmed);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${fix(uri)}"`);
    })
    .join('\n');
}

function readLimited(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new Error('too large'));
        stream.pause();
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
