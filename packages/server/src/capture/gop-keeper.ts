/**
 * Warm snapshots on any media server. A new RTSP reader of MediaMTX gets no cached GOP:
 * it waits for the next keyframe (about a second at the default GOP, more with ffmpeg's
 * probing), where the embedded relay answers at once. So while a camera's stream is
 * active, the service keeps its own light reader on it (the relay's RTSP client, no
 * ffmpeg) whose packets go into a relay `Stream`, which holds the GOP since the last
 * keyframe; a snapshot then decodes that GOP, fed to ffmpeg on stdin, instead of opening
 * a new RTSP session and waiting.
 *
 * The reader is a reader like any other, and would keep an on-demand stream running for
 * ever: a keeper that has not been used for `idleMs` leaves once it is the stream's only
 * reader, so the media server can stop the camera's ffmpeg after its close-after time.
 */
import { EventEmitter } from 'node:events';
import { RtspClient, Stream, h264AnnexB, type StreamReader } from '@camera-service/relay';
import type { Logger } from '../logging/index.js';

export interface GopKeeperOptions {
  path: string;
  /** The stream's RTSP URL, with the service's reader credential. */
  url: string;
  log: Logger;
  now: () => number;
}

export class GopKeeper extends EventEmitter<{ closed: [reason: string] }> {
  readonly path: string;
  lastUsed: number;
  readonly #client: RtspClient;
  readonly #log: Logger;
  #stream: Stream | null = null;
  #track = -1;
  #closed = false;
  readonly #described: Promise<Stream | null>;

  constructor(options: GopKeeperOptions) {
    super();
    this.path = options.path;
    this.#log = options.log;
    this.lastUsed = options.now();
    this.#client = new RtspClient(options.url, { timeoutMs: 10_000 });
    this.#described = new Promise((resolve) => {
      this.#client.once('described', (sdp) => {
        try {
          const stream = new Stream(sdp);
          this.#track = stream.tracks.findIndex((t) => t.isH264);
          this.#stream = stream;
          resolve(stream);
        } catch {
          resolve(null);
        }
      });
      this.#client.once('closed', () => resolve(null));
    });
    this.#client.on('packet', (track, rtcp, payload) => this.#stream?.write(track, rtcp, payload));
    this.#client.once('closed', (reason) => {
      this.#closed = true;
      this.#stream?.close(reason);
      this.#log.debug({ path: this.path, reason }, 'snapshot keeper left the stream');
      this.emit('closed', reason);
    });
    this.#client.start().catch((error: unknown) => this.#client.close((error as Error).message));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a GOP is held now (a snapshot can be decoded at once). */
  get warm(): boolean {
    return !this.#closed && this.#track >= 0 && (this.#stream?.gopBytes ?? 0) > 0;
  }

  /** Waits until a GOP is held; false when the keeper closed or the time ran out. */
  async waitWarm(timeoutMs: number): Promise<boolean> {
    if (this.warm) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      const stream = await Promise.race([this.#described, timeout]);
      if (!stream || this.#track < 0) return false;
      await Promise.race([
        stream.firstKeyframe,
        timeout,
        new Promise((r) => this.once('closed', r)),
      ]);
      return this.warm;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The held GOP as an H.264 Annex B stream that decodes on its own; null when none is held. */
  annexB(): Buffer | null {
    const stream = this.#stream;
    if (!stream || !this.warm) return null;
    const packets: Buffer[] = [];
    const collector: StreamReader = {
      id: 'snapshot-keeper',
      deliver: (track, rtcp, packet) => {
        if (track === this.#track && !rtcp) packets.push(packet);
        return true;
      },
      close: () => undefined,
    };
    // Adding a fast-start reader delivers the cached GOP at once, synchronously.
    stream.addReader(collector, { fastStart: true });
    stream.removeReader(collector);
    return packets.length > 0 ? h264AnnexB(packets, stream.parameterSets(this.#track)) : null;
  }

  close(reason: string): void {
    this.#client.close(reason);
  }
}

export interface GopKeepersOptions {
  /** The RTSP URL the service reads a path at. */
  url: (path: string) => string;
  /** How many readers a path has now, the keeper included; null when unknown. */
  readers: (path: string) => Promise<number | null>;
  log: Logger;
  /** A keeper unused for this long leaves once it is the only reader (default 5 s). */
  idleMs?: number;
  /** How often that is checked (default 2 s). */
  checkMs?: number;
  now?: () => number;
}

/** One keeper per stream path, started on demand, each leaving when idle. */
export class GopKeepers {
  readonly #options: GopKeepersOptions;
  readonly #keepers = new Map<string, GopKeeper>();
  readonly #timer: NodeJS.Timeout;
  #stopped = false;

  constructor(options: GopKeepersOptions) {
    this.#options = options;
    this.#timer = setInterval(() => void this.#check(), options.checkMs ?? 2000);
    this.#timer.unref();
  }

  /** The keeper of a path, started if there is none; marks it used now. */
  acquire(path: string): GopKeeper | null {
    if (this.#stopped) return null;
    const now = (this.#options.now ?? Date.now)();
    let keeper = this.#keepers.get(path);
    if (!keeper || keeper.closed) {
      keeper = new GopKeeper({
        path,
        url: this.#options.url(path),
        log: this.#options.log,
        now: this.#options.now ?? Date.now,
      });
      const started = keeper;
      started.once('closed', () => {
        if (this.#keepers.get(path) === started) this.#keepers.delete(path);
      });
      this.#keepers.set(path, keeper);
    }
    keeper.lastUsed = now;
    return keeper;
  }

  /** Keepers running now (tests, health). */
  get size(): number {
    return this.#keepers.size;
  }

  get(path: string): GopKeeper | undefined {
    return this.#keepers.get(path);
  }

  /** A path went away (camera unplugged): its keeper leaves at once. */
  release(path: string): void {
    this.#keepers.get(path)?.close('the camera stream was removed');
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const keeper of this.#keepers.values()) keeper.close('the service is stopping');
    this.#keepers.clear();
  }

  async #check(): Promise<void> {
    const now = (this.#options.now ?? Date.now)();
    const idleMs = this.#options.idleMs ?? 5000;
    for (const keeper of [...this.#keepers.values()]) {
      if (keeper.closed || now - keeper.lastUsed < idleMs) continue;
      const readers = await this.#options.readers(keeper.path).catch(() => null);
      // Alone on the stream: leave, so an on-demand camera can stop.
      if (readers !== null && readers <= 1) keeper.close('idle, and the only reader left');
    }
  }
}
