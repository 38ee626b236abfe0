/**
 * A typed client for the MediaMTX control API v3: only the endpoints the service uses,
 * with types generated from MediaMTX's openapi.yaml (mediamtx-api.gen.ts). The embedded
 * relay answers the same endpoints, so this one client serves every mode.
 *
 * Requests go over one keep-alive agent (a path create is one round trip, not a TCP
 * handshake plus one), each with a timeout. A request that fails on a reused socket the
 * server had closed meanwhile (it restarted) is retried once on a fresh one when it is
 * safe to repeat. Errors are MediaServerErrors saying what the media server answered.
 *
 * Every MediaMTX from v1.15 to v1.20 is read alike: a write is done on any 2xx, whatever
 * its body (v1.15 answers nothing, v1.16+ `{"status":"ok"}`); an error's text is its
 * `error` field (`{"error": ...}` before v1.16, `{"status":"error","error": ...}` after);
 * path states are normalized by normalizePath.
 */
import http from 'node:http';
import type { Logger } from '../logging/index.js';
import type { components } from './mediamtx-api.gen.js';

type Schemas = components['schemas'];
/** A path's configuration as MediaMTX describes it (every field optional on writes). */
export type PathConf = Schemas['PathConf'];
export type ApiPath = Schemas['Path'];
export type ApiInfo = Schemas['Info'];
export type GlobalConf = Schemas['GlobalConf'];

/** A path's live state, the same whichever MediaMTX version (v1.15 to v1.20) answered. */
export interface PathStatus {
  name: string;
  /** Readers can read it now (v1.16+ `available`, else the deprecated `ready`). */
  ready: boolean;
  readyTime: string | null;
  /** What feeds it: e.g. {type: 'rtspSession'} for a publisher; null when nothing does. */
  source: { type: string; id: string } | null;
  readers: { type: string; id: string }[];
  bytesReceived: number;
  bytesSent: number;
  /** Codec names, e.g. ['H264']. */
  tracks: string[];
}

export type MediaServerFailure = 'unreachable' | 'timeout' | 'rejected' | 'invalid_response';

/** The media server could not be reached, or refused or garbled a request. */
export class MediaServerError extends Error {
  readonly reason: MediaServerFailure;
  /** HTTP status when it answered. */
  readonly status: number | null;
  /** Its own error text (the `error` field of its answer), when it gave one. */
  readonly answer: string | null;

  constructor(
    message: string,
    reason: MediaServerFailure,
    status: number | null = null,
    answer: string | null = null,
  ) {
    super(message);
    this.name = 'MediaServerError';
    this.reason = reason;
    this.status = status;
    this.answer = answer;
  }
}

export interface MediaMtxClientOptions {
  /** e.g. http://127.0.0.1:9997 */
  baseUrl: string;
  log: Logger;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Basic credentials for the API (managed mode sets a user only the service knows). */
  username?: string;
  password?: string;
}

/** Per-call context: the correlation id of the request that caused the call. */
export interface CallOptions {
  correlationId?: string;
}

interface Answer {
  status: number;
  body: string;
}

const PAGE_SIZE = 200;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class MediaMtxClient {
  readonly baseUrl: string;
  readonly #url: URL;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #authorization: string | undefined;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(options: MediaMtxClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#url = new URL(this.baseUrl);
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    if (options.username !== undefined) {
      const pair = `${options.username}:${options.password ?? ''}`;
      this.#authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
  }

  /**
   * Version and start time (`started` changes when the media server restarts); null from
   * a MediaMTX before v1.16, which has no /v3/info (it answers 404).
   */
  async info(call?: CallOptions): Promise<ApiInfo | null> {
    return this.#jsonOrNull<ApiInfo>('/v3/info', call);
  }

  async globalConfig(call?: CallOptions): Promise<GlobalConf> {
    return this.#json<GlobalConf>('GET', '/v3/config/global/get', undefined, call);
  }

  async listPathConfigs(call?: CallOptions): Promise<PathConf[]> {
    return this.#all<PathConf>('/v3/config/paths/list', call);
  }

  /** A path's configuration, or null when it has none. */
  async getPathConfig(name: string, call?: CallOptions): Promise<PathConf | null> {
    return this.#jsonOrNull<PathConf>(`/v3/config/paths/get/${pathSegment(name)}`, call);
  }

  async addPath(name: string, conf: PathConf, call?: CallOptions): Promise<void> {
    await this.#send('POST', `/v3/config/paths/add/${pathSegment(name)}`, conf, call, 'add');
  }

  async patchPath(name: string, conf: PathConf, call?: CallOptions): Promise<void> {
    await this.#send('PATCH', `/v3/config/paths/patch/${pathSegment(name)}`, conf, call, 'patch');
  }

  async replacePath(name: string, conf: PathConf, call?: CallOptions): Promise<void> {
    await this.#send(
      'POST',
      `/v3/config/paths/replace/${pathSegment(name)}`,
      conf,
      call,
      'replace',
    );
  }

  /** Deletes a path's configuration; false when there was none. */
  async deletePath(name: string, call?: CallOptions): Promise<boolean> {
    const answer = await this.#request(
      'DELETE',
      `/v3/config/paths/delete/${pathSegment(name)}`,
      undefined,
      call,
    );
    if (answer.status === 404) return false;
    this.#expectOk(answer, `delete path ${name}`);
    return true;
  }

  /** Every path the media server has now (configured, or published without configuration). */
  async listPaths(call?: CallOptions): Promise<PathStatus[]> {
    return (await this.#all<ApiPath>('/v3/paths/list', call)).map(normalizePath);
  }

  /** A path's live state, or null when the media server has no such path. */
  async getPath(name: string, call?: CallOptions): Promise<PathStatus | null> {
    const path = await this.#jsonOrNull<ApiPath>(`/v3/paths/get/${pathSegment(name)}`, call);
    return path === null ? null : normalizePath(path);
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  async #all<T>(endpoint: string, call: CallOptions | undefined): Promise<T[]> {
    const items: T[] = [];
    for (let page = 0; ; page += 1) {
      const list = await this.#json<{ pageCount?: number; items?: T[] }>(
        'GET',
        `${endpoint}?itemsPerPage=${PAGE_SIZE}&page=${page}`,
        undefined,
        call,
      );
      items.push(...(list.items ?? []));
      if (page + 1 >= (list.pageCount ?? 0)) return items;
    }
  }

  async #jsonOrNull<T>(endpoint: string, call: CallOptions | undefined): Promise<T | null> {
    const answer = await this.#request('GET', endpoint, undefined, call);
    if (answer.status === 404) return null;
    return this.#parse<T>(answer, `GET ${endpoint}`);
  }

  async #json<T>(
    method: string,
    endpoint: string,
    body: unknown,
    call: CallOptions | undefined,
  ): Promise<T> {
    const answer = await this.#request(method, endpoint, body, call);
    return this.#parse<T>(answer, `${method} ${endpoint.split('?')[0] ?? endpoint}`);
  }

  async #send(
    method: string,
    endpoint: string,
    body: unknown,
    call: CallOptions | undefined,
    verb: string,
  ): Promise<void> {
    const answer = await this.#request(method, endpoint, body, call);
    const name = decodeURI(endpoint.slice(endpoint.lastIndexOf(`/${verb}/`) + verb.length + 2));
    this.#expectOk(answer, `${verb} path ${name}`);
  }

  #parse<T>(answer: Answer, what: string): T {
    this.#expectOk(answer, what);
    try {
      return JSON.parse(answer.body) as T;
    } catch {
      throw new MediaServerError(
        `The media server at ${this.baseUrl} answered ${what} with something that is not JSON; is another program on its API port?`,
        'invalid_response',
        answer.status,
      );
    }
  }

  #expectOk(answer: Answer, what: string): void {
    if (answer.status >= 200 && answer.status < 300) return;
    const said = errorText(answer.body);
    const detail = said ?? (answer.body.trim().slice(0, 200) || 'no explanation');
    const hint =
      answer.status === 401 || answer.status === 403
        ? ' (the media server refused the service’s API credentials)'
        : '';
    throw new MediaServerError(
      `The media server refused to ${what}: ${detail} (HTTP ${answer.status})${hint}.`,
      'rejected',
      answer.status,
      said,
    );
  }

  async #request(
    method: string,
    endpoint: string,
    body: unknown,
    call: CallOptions | undefined,
  ): Promise<Answer> {
    const started = performance.now();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let answer: Answer;
    try {
      answer = await this.#once(method, endpoint, payload).catch((error: unknown) => {
        // A kept-alive socket the server closed while idle fails at once; one retry on
        // a new connection tells that apart from a server that is really gone. Only for
        // requests that are safe to repeat: an add that did reach it would now be a
        // duplicate.
        if (isStaleSocket(error) && method !== 'POST') {
          return this.#once(method, endpoint, payload, true);
        }
        throw error;
      });
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      this.#log.debug(
        { correlation_id: call?.correlationId, method, endpoint, ms, err: String(error) },
        'media server request failed',
      );
      throw this.#transportError(error, method, endpoint);
    }
    this.#log.debug(
      {
        correlation_id: call?.correlationId,
        method,
        endpoint,
        status: answer.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'media server request',
    );
    return answer;
  }

  #once(
    method: string,
    endpoint: string,
    payload: string | undefined,
    freshSocket = false,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      if (this.#authorization) headers.Authorization = this.#authorization;
      const req = http.request(
        {
          protocol: this.#url.protocol,
          hostname: this.#url.hostname,
          port: this.#url.port,
          method,
          path: endpoint,
          headers,
          // Every pooled socket may be stale after a restart: the retry opens its own.
          agent: freshSocket ? false : this.#agent,
          signal: AbortSignal.timeout(this.#timeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  #transportError(error: unknown, method: string, endpoint: string): MediaServerError {
    const what = `${method} ${endpoint.split('?')[0] ?? endpoint}`;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return new MediaServerError(
        `The media server at ${this.baseUrl} did not answer ${what} within ${this.#timeoutMs} ms.`,
        'timeout',
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ECONNREFUSED'
        ? 'nothing listens on its API port (is it running?)'
        : (code ?? (error instanceof Error ? error.message : String(error)));
    return new MediaServerError(
      `The media server at ${this.baseUrl} is unreachable: ${why}.`,
      'unreachable',
    );
  }
}

/** MediaMTX path names may hold '/', which stays a separator in the endpoint. */
function pathSegment(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

function errorText(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : null;
  } catch {
    return null;
  }
}

function isStaleSocket(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** Reads the v1.16+ fields when present, else the older ones. */
export function normalizePath(path: ApiPath): PathStatus {
  const source = path.source ?? null;
  return {
    name: path.name ?? '',
    ready: path.available ?? path.ready ?? false,
    readyTime: path.availableTime ?? path.readyTime ?? null,
    source: source ? { type: source.type ?? 'unknown', id: source.id ?? '' } : null,
    readers: (path.readers ?? []).map((r) => ({ type: r.type ?? 'unknown', id: r.id ?? '' })),
    bytesReceived: path.inboundBytes ?? path.bytesReceived ?? 0,
    bytesSent: path.outboundBytes ?? path.bytesSent ?? 0,
    tracks: path.tracks2 ? path.tracks2.map((t) => t.codec ?? 'unknown') : (path.tracks ?? []),
  };
}
