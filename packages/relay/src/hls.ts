/**
 * HLS for browsers: GET /<path>/index.m3u8 starts, on first request, an ffmpeg muxer that
 * reads the path over RTSP and writes an HLS playlist and MPEG-TS segments without
 * re-encoding (`-c copy`); the files are served from its directory. A muxer nobody has
 * asked anything of for `closeAfterMs` is stopped and its files removed.
 */
import { EventEmitter, once } from 'node:events';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, watch } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandSupervisor } from './command.js';

export interface HlsOptions {
  rtspUrl: (path: string) => string;
  /** Whether a path exists (configured or published); others get 404 at once. */
  hasPath: (path: string) => boolean;
  closeAfterMs?: number;
  startTimeoutMs?: number;
  segmentSeconds?: number;
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
    // The command string goes through `sh -c`: only our own safe path and dir are in it.
    this.command = new CommandSupervisor({
      command:
        `ffmpeg -hide_banner -loglevel error -nostats -rtsp_transport tcp -i '${url}' -c copy -f hls ` +
        `-hls_time ${segmentSeconds} -hls_list_size 6 -hls_flags delete_segments+independent_segments+temp_file ` +
        `-hls_segment_filename '${join(this.dir, 'seg%05d.ts')}' '${join(this.dir, 'index.m3u8')}'`,
      env: {},
      restart: false,
      killGraceMs: 2000,
    });
  }
}

export class HlsServer extends EventEmitter<{ started: [path: string]; stopped: [path: string] }> {
  readonly #options: Required<HlsOptions>;
  readonly #muxers = new Map<string, Muxer>();

  constructor(options: HlsOptions) {
    super();
    this.#options = { closeAfterMs: 60_000, startTimeoutMs: 15_000, segmentSeconds: 1, ...options };
  }

  get muxers(): number {
    return this.#muxers.size;
  }

  handler() {
    return (req: IncomingMessage, res: ServerResponse): void => {
      this.#serve(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#muxers.keys()].map((path) => this.#stop(path)));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const slash = pathname.lastIndexOf('/');
    const path = pathname.slice(1, slash);
    const file = pathname.slice(slash + 1);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (
      !PATH.test(path) ||
      DOT_SEGMENT.test(path) ||
      !FILE.test(file) ||
      !this.#options.hasPath(path)
    )
      return void res.writeHead(404).end();
    let muxer = this.#muxers.get(path);
    if (!muxer) {
      if (file !== 'index.m3u8') return void res.writeHead(404).end();
      muxer = this.#start(path);
    }
    this.#inUse(path, muxer, res);
    const target = join(muxer.dir, file);
    if (file === 'index.m3u8' && !existsSync(target) && !(await this.#appears(muxer, file))) {
      return void res.writeHead(404).end();
    }
    if (!existsSync(target)) return void res.writeHead(404).end();
    const type = file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
    res.writeHead(200, {
      'content-type': type,
      'content-length': statSync(target).size,
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(target)
      .on('error', () => res.destroy())
      .pipe(res);
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
