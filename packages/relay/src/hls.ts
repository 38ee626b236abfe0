/**
 * HLS for browsers: GET /<path>/index.m3u8 starts, on first request, an ffmpeg muxer that
 * reads the path over RTSP and writes an HLS playlist and MPEG-TS segments without
 * re-encoding (`-c copy`); the files are served from its directory. A muxer nobody has
 * asked anything of for `closeAfterMs` is stopped and its files removed.
 *
 * With access control, every request (playlist and segments) is checked for `read` with
 * protocol `hls`, as MediaMTX checks each one: refused without credentials, 401 with a
 * Basic challenge (browsers prompt); refused with them, 401 after the pause. As gohlslib
 * does, the playlist's URIs carry the request's query, so a player given
 * `.../index.m3u8?token=X` sends the token with every segment too.
 */
import { EventEmitter, once } from 'node:events';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCredentials, type AccessControl } from './access.js';
import { CommandSupervisor } from './command.js';
import { parseTarget } from './http-target.js';

export interface HlsOptions {
  /** The RTSP URL the muxer reads (carrying the relay's own token when access is checked). */
  rtspUrl: (path: string) => string;
  /** Whether a path exists (configured or published); others get 404 at once. */
  hasPath: (path: string) => boolean;
  closeAfterMs?: number;
  startTimeoutMs?: number;
  segmentSeconds?: number;
  /** Absent: everyone may read. */
  access?: AccessControl;
}

const FILE = /^(index\.m3u8|seg\d{1,8}\.ts)$/;
/** A path name as the API accepts them, without `.` or `..` segments (it goes into a URL). */
const PATH = /^[A-Za-z0-9_.~-]+(\/[A-Za-z0-9_.~-]+)*$/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

class Muxer {
  readonly dir = mkdtempSync(join(tmpdir(), 'camera-relay-hls-'));
  readonly command: CommandSupervisor;
  /** Requests being answered now; the idle countdown runs only when there are none. */
  active = 0;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(url: string, segmentSeconds: number) {
    // Exact arguments, no shell and nothing split or expanded: a path or a temporary
    // directory with any character in it stays one argument.
    this.command = new CommandSupervisor({
      argv: [
        'ffmpeg',
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostats',
        '-rtsp_transport',
        'tcp',
        '-i',
        url,
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        String(segmentSeconds),
        '-hls_list_size',
        '6',
        '-hls_flags',
        'delete_segments+independent_segments+temp_file',
        '-hls_segment_filename',
        join(this.dir, 'seg%05d.ts'),
        join(this.dir, 'index.m3u8'),
      ],
      env: {},
      restart: false,
      killGraceMs: 2000,
    });
  }
}

type Defaulted = 'closeAfterMs' | 'startTimeoutMs' | 'segmentSeconds';

const AUTH_ERROR = JSON.stringify({ status: 'error', error: 'authentication error' });

export class HlsServer extends EventEmitter<{ started: [path: string]; stopped: [path: string] }> {
  readonly #options: Omit<HlsOptions, Defaulted> & Required<Pick<HlsOptions, Defaulted>>;
  readonly #muxers = new Map<string, Muxer>();

  constructor(options: HlsOptions) {
    super();
    this.#options = { closeAfterMs: 60_000, startTimeoutMs: 15_000, segmentSeconds: 1, ...options };
  }

  get muxers(): number {
    return this.#muxers.size;
  }

  /** The request handler; the listener's guard answers 500 to anything it throws. */
  handler() {
    return (req: IncomingMessage, res: ServerResponse): Promise<void> => this.#serve(req, res);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#muxers.keys()].map((path) => this.#stop(path)));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? '');
    if (!target) return void res.writeHead(400).end();
    const slash = target.path.lastIndexOf('/');
    const path = target.path.slice(1, Math.max(slash, 1));
    const file = target.path.slice(slash + 1);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (
      !PATH.test(path) ||
      DOT_SEGMENT.test(path) ||
      !FILE.test(file) ||
      !this.#options.hasPath(path)
    )
      return void res.writeHead(404).end();
    if (!(await this.#allowed(req, res, path, target.query))) return;
    let muxer = this.#muxers.get(path);
    if (!muxer) {
      if (file !== 'index.m3u8') return void res.writeHead(404).end();
      muxer = this.#start(path);
    }
    this.#inUse(path, muxer, res);
    const onDisk = join(muxer.dir, file);
    if (file === 'index.m3u8' && !existsSync(onDisk) && !(await this.#appears(muxer, file))) {
      return void res.writeHead(404).end();
    }
    const headers = { 'cache-control': 'no-cache', 'access-control-allow-origin': '*' };
    // ffmpeg deletes old segments and replaces the playlist as it goes: gone is 404.
    if (file === 'index.m3u8') {
      const text = await readFile(onDisk, 'utf8').catch(() => null);
      if (text === null) return void res.writeHead(404).end();
      const playlist = withQuery(text, target.query);
      res.writeHead(200, {
        ...headers,
        'content-type': 'application/vnd.apple.mpegurl',
        'content-length': Buffer.byteLength(playlist),
      });
      return void res.end(req.method === 'HEAD' ? undefined : playlist);
    }
    let size: number;
    try {
      size = statSync(onDisk).size;
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { ...headers, 'content-type': 'video/mp2t', 'content-length': size });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(onDisk)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  /** Checks `read` for this request; when refused, answers it as MediaMTX's HLS server does. */
  async #allowed(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
  ): Promise<boolean> {
    const access = this.#options.access;
    if (!access?.enabled) return true;
    const outcome = await access.check({
      action: 'read',
      path,
      query,
      protocol: 'hls',
      id: null,
      remote: req.socket.remoteAddress,
      credentials: httpCredentials(req.headersDistinct.authorization),
    });
    if (outcome === 'allowed') return true;
    if (res.destroyed) return false;
    res.writeHead(401, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(AUTH_ERROR),
      ...(outcome === 'ask' && { 'www-authenticate': 'Basic realm="mediamtx"' }),
    });
    res.end(AUTH_ERROR);
    return false;
  }

  #start(path: string): Muxer {
    const muxer = new Muxer(this.#options.rtspUrl(path), this.#options.segmentSeconds);
    this.#muxers.set(path, muxer);
    muxer.command.on('exited', () => void this.#stop(path));
    muxer.command.start();
    this.emit('started', path);
    return muxer;
  }

  /** Holds the muxer while the response is open; the idle countdown restarts after the last one. */
  #inUse(path: string, muxer: Muxer, res: ServerResponse): void {
    muxer.active += 1;
    clearTimeout(muxer.idleTimer);
    res.once('close', () => {
      muxer.active -= 1;
      if (muxer.active > 0 || this.#muxers.get(path) !== muxer) return;
      muxer.idleTimer = setTimeout(() => void this.#stop(path), this.#options.closeAfterMs);
    });
  }

  /** Waits for ffmpeg to write the playlist: false when it exits first or the start timeout passes. */
  async #appears(muxer: Muxer, file: string): Promise<boolean> {
    const watcher = watch(muxer.dir);
    const signal = AbortSignal.timeout(this.#options.startTimeoutMs);
    const exited = once(muxer.command, 'exited', { signal }).then(
      () => 'exited',
      () => 'timeout',
    );
    try {
      while (!existsSync(join(muxer.dir, file))) {
        const event = await Promise.race([
          once(watcher, 'change', { signal }).then(
            () => 'change',
            () => 'timeout',
          ),
          exited,
        ]);
        if (event !== 'change') return existsSync(join(muxer.dir, file));
      }
      return true;
    } finally {
      watcher.close();
    }
  }

  async #stop(path: string): Promise<void> {
    const muxer = this.#muxers.get(path);
    if (!muxer) return;
    this.#muxers.delete(path);
    clearTimeout(muxer.idleTimer);
    await muxer.command.stop();
    rmSync(muxer.dir, { recursive: true, force: true });
    this.emit('stopped', path);
  }
}

/**
 * The playlist with `query` appended to each URI, as gohlslib does for MediaMTX, so that
 * the player sends what it was given (such as `?token=`) with every segment.
 */
export function withQuery(playlist: string, query: string): string {
  if (query === '') return playlist;
  return playlist
    .replace(/^[^#\r\n][^\r\n]*(?=\r?$)/gm, (uri) => `${uri}?${query}`)
    .replace(
      /^(#[^\r\n]*?URI=")([^"]*)"/gm,
      (_all, head: string, uri: string) => `${head}${uri}?${query}"`,
    );
}
