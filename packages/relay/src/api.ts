/**
 * The subset of MediaMTX's control API v3 the camera service uses, with MediaMTX's paths,
 * JSON field names, status codes and error bodies (openapi.yaml of v1.20):
 *   GET  /v3/info, /v3/config/global/get
 *   GET  /v3/config/paths/list, /v3/config/paths/get/{name}
 *   POST /v3/config/paths/add/{name}, /v3/config/paths/replace/{name}
 *   PATCH /v3/config/paths/patch/{name}; DELETE /v3/config/paths/delete/{name}
 *   GET  /v3/paths/list, /v3/paths/get/{name}
 * Lists are `{itemCount, pageCount, items}` sorted by name, paged with ?page= (from 0) and
 * ?itemsPerPage=. A wrong HTTP method gets a plain-text 404, as Go's router gives.
 * With access control every request is first checked for action `api` with its Basic or
 * Bearer credentials, as MediaMTX's API middleware does: refused, 401
 * `{"status":"error","error":"authentication error"}` (with a Basic challenge when the
 * request carried no credential, else after the pause). A malformed target gets 400.
 *
 * Bodies follow the MediaMTX version imitated (mediamtx-version.ts): v1.18.2 answers writes
 * `{"status":"ok"}` and errors `{"status":"error","error":"..."}`; v1.15.1 answers writes
 * with an empty body, errors `{"error":"..."}`, a refusal with an empty 401, has no
 * /v3/info (plain-text 404) and lists paths with its own fields only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpCredentials, type AccessControl } from './access.js';
import { parseTarget, type Target } from './http-target.js';
import { PATH_DEFAULTS, type PathConf, type PathManager } from './paths.js';
import { parseDuration } from './duration.js';
import type { VersionRules } from './mediamtx-version.js';
import { rtpMap } from './sdp.js';

export interface ApiContext {
  paths: PathManager;
  version: string;
  startedAt: Date;
  ports: () => { rtsp: number; api: number; hls: number };
  /** Absent: every request is allowed. */
  access?: AccessControl;
  /** The answers of the MediaMTX version imitated. */
  rules: VersionRules;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const PATH_NAME = /^[A-Za-z0-9_./~-]{1,255}$/;
const CONF_FIELDS: Record<keyof Omit<PathConf, 'name'>, 'string' | 'boolean'> = {
  source: 'string',
  runOnDemand: 'string',
  runOnDemandRestart: 'boolean',
  runOnDemandStartTimeout: 'string',
  runOnDemandCloseAfter: 'string',
};

/** MediaMTX's codec names for RTP encodings. */
function codecName(encoding: string | undefined): string {
  switch (encoding?.toUpperCase()) {
    case 'H264':
      return 'H264';
    case 'H265':
      return 'H265';
    case 'VP8':
      return 'VP8';
    case 'VP9':
      return 'VP9';
    case 'AV1':
      return 'AV1';
    case 'OPUS':
      return 'Opus';
    case 'MPEG4-GENERIC':
      return 'MPEG-4 Audio';
    case 'PCMU':
    case 'PCMA':
      return 'G711';
    case 'JPEG':
      return 'M-JPEG';
    default:
      return 'Generic';
  }
}

export function apiHandler(ctx: ApiContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseTarget(req.url ?? '');
    if (!target) return void send(res, 400, ctx.rules.errorBody('invalid request target'));
    if (!(await allowed(ctx, req, res, target))) return;
    try {
      const body = await route(ctx, req, target);
      if (body === OK) send(res, 200, ctx.rules.okBody);
      else send(res, 200, body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.message === '') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('404 page not found\n');
      } else if (error instanceof ApiError) {
        send(res, error.status, ctx.rules.errorBody(error.message));
      } else {
        send(res, 500, ctx.rules.errorBody((error as Error).message));
      }
    }
  };
}

/** MediaMTX's API middleware: every request is checked for action `api`. */
async function allowed(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: Target,
): Promise<boolean> {
  if (!ctx.access?.enabled) return true;
  const outcome = await ctx.access.check({
    action: 'api',
    path: '',
    query: target.query,
    protocol: '',
    id: null,
    remote: req.socket.remoteAddress,
    credentials: httpCredentials(req.headersDistinct.authorization),
  });
  if (outcome === 'allowed') return true;
  if (outcome === 'ask') res.setHeader('www-authenticate', 'Basic realm="mediamtx"');
  send(res, 401, ctx.rules.authErrorBody);
  return false;
}

/** A JSON answer; `null`: an empty body, as Go writes a bare status. */
function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) return void res.writeHead(status, { 'content-length': 0 }).end();
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A successful write: answered with the version's body. */
const OK = Symbol('ok');
const notFound = () => new ApiError(404, '');

async function route(ctx: ApiContext, req: IncomingMessage, target: Target): Promise<unknown> {
  const query = new URLSearchParams(target.query);
  const method = req.method ?? 'GET';
  const match = /^\/v3\/(config\/paths\/(?:get|add|patch|replace|delete)|paths\/get)\/(.+)$/.exec(
    target.path,
  );
  const name = match ? (match[2] as string) : '';
  const action = match
    ? match[1]
    : target.path.startsWith('/v3/')
      ? target.path.slice('/v3/'.length)
      : '';
  const expect = (m: string) => {
    if (method !== m) throw notFound();
  };
  switch (action) {
    case 'info':
      expect('GET');
      if (!ctx.rules.info) throw notFound(); // added in v1.16
      return { version: ctx.version, started: ctx.startedAt.toISOString() };
    case 'config/global/get': {
      expect('GET');
      const ports = ctx.ports();
      return {
        api: true,
        apiAddress: `:${ports.api}`,
        rtsp: true,
        rtspAddress: `:${ports.rtsp}`,
        rtspTransports: ['tcp'],
        hls: ports.hls > 0,
        hlsAddress: `:${ports.hls}`,
        rtmp: false,
        srt: false,
        webrtc: false,
        playback: false,
        metrics: false,
        pprof: false,
      };
    }
    case 'config/paths/list':
      expect('GET');
      return page(query, ctx.paths.configs());
    case 'config/paths/get': {
      expect('GET');
      const conf = ctx.paths.config(name);
      if (!conf) throw new ApiError(404, 'path not found');
      return conf;
    }
    case 'config/paths/add': {
      expect('POST');
      if (!PATH_NAME.test(name)) throw new ApiError(400, `invalid path name: ${name}`);
      const body = await readConf(req);
      if (ctx.paths.config(name)) throw new ApiError(400, 'path already exists');
      await ctx.paths.set(validConf({ ...PATH_DEFAULTS, ...body, name }));
      return OK;
    }
    case 'config/paths/patch':
    case 'config/paths/replace': {
      expect(action === 'config/paths/patch' ? 'PATCH' : 'POST');
      const body = await readConf(req);
      const current = ctx.paths.config(name);
      if (!current) throw new ApiError(404, 'path not found');
      const base = action === 'config/paths/patch' ? current : { ...PATH_DEFAULTS, name };
      await ctx.paths.set(validConf({ ...base, ...body, name }));
      return OK;
    }
    case 'config/paths/delete':
      expect('DELETE');
      if (!(await ctx.paths.remove(name))) throw new ApiError(404, 'path not found');
      return OK;
    case 'paths/list':
      expect('GET');
      return page(
        query,
        ctx.paths.names().map((n) => pathItem(ctx, n)),
      );
    case 'paths/get': {
      expect('GET');
      if (!ctx.paths.state(name)) throw new ApiError(404, 'path not found');
      return pathItem(ctx, name);
    }
    default:
      throw notFound();
  }
}

function page<T>(
  query: URLSearchParams,
  items: T[],
): { itemCount: number; pageCount: number; items: T[] } {
  const number = (key: string, fallback: number, min: number) => {
    const text = query.get(key);
    if (text === null) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < min) throw new ApiError(400, `invalid ${key}`);
    return Number(text);
  };
  const itemsPerPage = number('itemsPerPage', 100, 1);
  const pageIndex = number('page', 0, 0);
  return {
    itemCount: items.length,
    pageCount: Math.ceil(items.length / itemsPerPage),
    items: items.slice(pageIndex * itemsPerPage, (pageIndex + 1) * itemsPerPage),
  };
}

async function readConf(req: IncomingMessage): Promise<Partial<PathConf>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new ApiError(400, 'body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'invalid JSON');
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(400, 'invalid JSON');
  for (const [key, value] of Object.entries(body)) {
    if (key === 'name') continue;
    const type = CONF_FIELDS[key as keyof typeof CONF_FIELDS];
    if (!type) throw new ApiError(400, `json: unknown field "${key}"`);
    if (typeof value !== type) throw new ApiError(400, `json: field "${key}" must be a ${type}`);
  }
  const { name: _ignored, ...conf } = body as Partial<PathConf>;
  return conf;
}

function validConf(conf: PathConf): PathConf {
  for (const key of ['runOnDemandStartTimeout', 'runOnDemandCloseAfter'] as const) {
    try {
      parseDuration(conf[key]);
    } catch {
      throw new ApiError(400, `invalid ${key}: ${conf[key]}`);
    }
  }
  if (conf.source !== 'publisher' && !/^rtsps?:\/\//.test(conf.source)) {
    throw new ApiError(400, `invalid source: ${conf.source}`);
  }
  return conf;
}

/** The fields of a /v3/paths item in v1.15.1 (before available, online, tracks2...). */
const V115_PATH_FIELDS = [
  'name',
  'confName',
  'source',
  'ready',
  'readyTime',
  'tracks',
  'bytesReceived',
  'bytesSent',
  'readers',
] as const;

/** A path in the shape of the version imitated. */
function pathItem(ctx: ApiContext, name: string) {
  const info = pathInfo(ctx, name);
  if (ctx.rules.pathFieldsV116) return info;
  return Object.fromEntries(V115_PATH_FIELDS.map((key) => [key, info[key]]));
}

/** A path as /v3/paths reports it: the v1.16+ fields and the older ones they replaced. */
function pathInfo(ctx: ApiContext, name: string) {
  const state = ctx.paths.state(name)!;
  const stream = state.stream;
  const ready = state.readyTime !== null;
  const readyTime = state.readyTime?.toISOString() ?? null;
  const stats = stream?.stats() ?? {
    bytesReceived: 0,
    bytesSent: 0,
    readers: 0,
    readersDropped: 0,
  };
  const codecs = ready && stream ? stream.sdp.media.map((m) => codecName(rtpMap(m)?.encoding)) : [];
  const source =
    stream && state.publisherId
      ? state.conf.source === 'publisher'
        ? { type: 'rtspSession', id: state.publisherId }
        : { type: 'rtspSource', id: '' }
      : null;
  return {
    name,
    confName: state.conf.name,
    source,
    ready,
    readyTime,
    available: ready,
    availableTime: readyTime,
    online: ready,
    onlineTime: readyTime,
    tracks: codecs,
    tracks2: codecs.map((codec) => ({ codec, codecProps: null })),
    bytesReceived: stats.bytesReceived,
    bytesSent: stats.bytesSent,
    inboundBytes: stats.bytesReceived,
    outboundBytes: stats.bytesSent,
    inboundFramesInError: 0,
    readers: (stream?.readerIds() ?? []).map((id) => ({ type: 'rtspSession', id })),
  };
}
