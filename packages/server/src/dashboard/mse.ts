/**
 * Low-latency live video for MediaSource: fragmented MP4 over a WebSocket
 * (`/streams/<path>/mse`). One producer per camera, shared by all its viewers: an ffmpeg
 * that reads the camera's RTSP with the service's reader credential and remuxes it
 * (`-c copy`, no re-encoding) into fMP4 with one fragment per frame, cut into the init
 * segment and moof+mdat fragments by Fmp4Parser.
 *
 * A viewer gets a JSON text message with the codec string, the init segment, then the
 * fragments of the current GOP from its keyframe (a fast first frame; a player jumps to
 * the live edge of what it has buffered), then each fragment as it comes. A viewer whose
 * socket holds more than `maxBufferedBytes` unsent gets nothing more until it has drained
 * and the next keyframe comes (it skips ahead, never buffers without end); one stuck like
 * that for `stuckMs` is dropped. A producer with no viewer for `closeAfterMs` is stopped;
 * at most `maxProducers` run, and each exits (SIGTERM, then SIGKILL) when it is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { WebSocket } from 'ws';
import type { Logger } from '../logging/index.js';
import { Fmp4Parser, type Fragment } from './fmp4.js';

export interface MseOptions {
  /** The RTSP URL the producer reads a path from (the service's reader credential). */
  readerUrl: (path: string) => string;
  log: Logger;
  ffmpeg?: string;
  closeAfterMs?: number;
  maxProducers?: number;
  maxViewers?: number;
  maxBufferedBytes?: number;
  stuckMs?: number;
  /** Bytes of the current GOP kept for new viewers at most. */
  maxGopBytes?: number;
}

export interface Viewer {
  socket: WebSocket;
  /** Whether the viewer may still watch (its session or credential); checked at keyframes. */
  allowed: () => boolean;
}

interface ViewerState extends Viewer {
  /** Waiting for a keyframe before anything more is sent (a new or a skipping viewer). */
  waiting: boolean;
  started: boolean;
  stuckSince: number | null;
}

const KILL_AFTER_MS = 2000;

class Producer {
  readonly viewers = new Set<ViewerState>();
  init: Buffer | null = null;
  codec: string | null = null;
  /** The fragments since the last keyframe, keyframe first. */
  gop: Buffer[] = [];
  gopBytes = 0;
  child: ChildProcess | null = null;
  closeTimer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
  fragments = 0;
  /** The most any viewer's socket held unsent, in bytes (what the bound keeps bounded). */
  peakBuffered = 0;
  stopping = false;

  constructor(
    readonly path: string,
    readonly options: Required<Omit<MseOptions, 'log' | 'readerUrl'>> & MseOptions,
    readonly log: Logger,
    readonly onExit: (producer: Producer) => void,
  ) {
    const parser = new Fmp4Parser({
      init: (init, codec) => {
        this.init = init;
        this.codec = codec;
      },
      fragment: (fragment) => this.#fragment(fragment),
    });
    const child = spawn(
      options.ffmpeg,
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-nostats'],
        ...['-fflags', 'nobuffer', '-flags', 'low_delay', '-rtsp_transport', 'tcp'],
        // The SDP's sprop-parameter-sets say all -c copy needs: no seconds of probing.
        ...['-probesize', '32', '-analyzeduration', '0'],
        ...['-i', options.readerUrl(path)],
        ...['-map', '0:v:0', '-c', 'copy', '-f', 'mp4'],
        ...['-movflags', 'empty_moov+default_base_moof+frag_every_frame', '-flush_packets', '1'],
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      if (parser.failed) {
        this.log.warn({ path, reason: parser.failed }, 'live stream unreadable; producer stopped');
        this.stop();
      }
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        this.log.error({ err: error.message, path }, 'live stream producer could not start');
      });
      child.on('close', (code, signal) => {
        this.child = null;
        if (!this.stopping) {
          this.log.warn(
            {
              path,
              code,
              signal,
              stderr: stderr.trim().replace(/rtsp:\/\/[^@\s]*@/g, 'rtsp://***@'),
            },
            'live stream producer ended',
          );
        }
        for (const viewer of this.viewers)
          viewer.socket.close(1011, 'the live stream ended; reconnect');
        this.viewers.clear();
        this.onExit(this);
        resolve();
      });
    });
    this.log.debug({ path, pid: child.pid }, 'live stream producer started');
  }

  add(viewer: ViewerState): void {
    clearTimeout(this.closeTimer);
    this.viewers.add(viewer);
    if (this.init && this.gop.length > 0) this.#start(viewer);
  }

  remove(viewer: ViewerState): void {
    this.viewers.delete(viewer);
    if (this.viewers.size === 0) {
      clearTimeout(this.closeTimer);
      this.closeTimer = setTimeout(() => this.stop(), this.options.closeAfterMs);
      this.closeTimer.unref();
    }
  }

  stop(): void {
    clearTimeout(this.closeTimer);
    if (this.stopping) return;
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS).unref();
  }

  /** Init segment and the GOP so far: the viewer starts at its keyframe. */
  #start(viewer: ViewerState): void {
    if (!viewer.allowed()) return void viewer.socket.close(4401, 'the session has ended');
    viewer.socket.send(
      JSON.stringify({ type: 'init', codec: `video/mp4; codecs="${this.codec ?? 'avc1.42c01e'}"` }),
    );
    viewer.socket.send(this.init!);
    for (const data of this.gop) viewer.socket.send(data);
    viewer.started = true;
    viewer.waiting = false;
  }

  #fragment(fragment: Fragment): void {
    this.fragments += 1;
    if (fragment.keyframe) {
      this.gop = [fragment.data];
      this.gopBytes = fragment.data.length;
    } else if (
      this.gop.length > 0 &&
      this.gopBytes + fragment.data.length <= this.options.maxGopBytes
    ) {
      this.gop.push(fragment.data);
      this.gopBytes += fragment.data.length;
    } else {
      // Too long a GOP to keep: new viewers wait for the next keyframe.
      this.gop = [];
      this.gopBytes = 0;
    }
    const now = Date.now();
    for (const viewer of this.viewers) {
      const socket = viewer.socket;
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (!viewer.started) {
        if (fragment.keyframe && this.init) this.#start(viewer);
        continue;
      }
      this.peakBuffered = Math.max(this.peakBuffered, socket.bufferedAmount);
      if (socket.bufferedAmount > this.options.maxBufferedBytes) {
        viewer.waiting = true;
        viewer.stuckSince ??= now;
        if (now - viewer.stuckSince > this.options.stuckMs) {
          this.log.warn(
            { path: this.path, buffered_bytes: socket.bufferedAmount },
            'live viewer dropped: not reading',
          );
          socket.terminate();
        }
        continue;
      }
      if (viewer.waiting) {
        // Skipped frames: only a keyframe can follow them.
        if (!fragment.keyframe) continue;
        viewer.waiting = false;
        viewer.stuckSince = null;
      }
      if (fragment.keyframe && !viewer.allowed()) {
        socket.close(4401, 'the session has ended');
        continue;
      }
      socket.send(fragment.data);
    }
  }
}

export class MseStreams {
  readonly #producers = new Map<string, Producer>();
  readonly #options: Required<Omit<MseOptions, 'log' | 'readerUrl'>> & MseOptions;
  readonly #log: Logger;
  #viewers = 0;
  #closed = false;

  constructor(options: MseOptions) {
    this.#log = options.log;
    this.#options = {
      ffmpeg: 'ffmpeg',
      closeAfterMs: 5000,
      maxProducers: 16,
      maxViewers: 256,
      maxBufferedBytes: 2 * 1024 * 1024,
      stuckMs: 10_000,
      maxGopBytes: 8 * 1024 * 1024,
      ...options,
    };
  }

  /** Running producers, by path (tests and the bench look). */
  producers(): ReadonlyMap<
    string,
    { pid: number | undefined; viewers: number; fragments: number; peakBuffered: number }
  > {
    return new Map(
      [...this.#producers].map(([path, p]) => [
        path,
        {
          pid: p.child?.pid,
          viewers: p.viewers.size,
          fragments: p.fragments,
          peakBuffered: p.peakBuffered,
        },
      ]),
    );
  }

  get viewers(): number {
    return this.#viewers;
  }

  /** Starts serving a viewer of `path` (whose socket is open). */
  watch(path: string, viewer: Viewer): void {
    const socket = viewer.socket;
    if (this.#closed) return void socket.close(1001, 'the server is shutting down');
    if (this.#viewers >= this.#options.maxViewers) {
      return void socket.close(1013, 'too many live viewers; try again later');
    }
    let producer = this.#producers.get(path);
    if (producer?.stopping) producer = undefined;
    if (!producer) {
      if (this.#producers.size >= this.#options.maxProducers) {
        return void socket.close(1013, 'too many live streams at once; try again later');
      }
      producer = new Producer(path, this.#options, this.#log, (p) => {
        if (this.#producers.get(path) === p) this.#producers.delete(path);
      });
      this.#producers.set(path, producer);
    }
    const state: ViewerState = { ...viewer, waiting: true, started: false, stuckSince: null };
    this.#viewers += 1;
    producer.add(state);
    const owner = producer;
    socket.on('close', () => {
      this.#viewers -= 1;
      owner.remove(state);
    });
    socket.on('error', () => socket.terminate());
    // Viewers send nothing; anything they send is ignored (the payload cap bounds it).
  }

  /** Stops every producer and waits for their processes to exit. */
  async close(): Promise<void> {
    this.#closed = true;
    const producers = [...this.#producers.values()];
    for (const producer of producers) {
      for (const viewer of producer.viewers)
        viewer.socket.close(1001, 'the server is shutting down');
      producer.stop();
    }
    await Promise.all(producers.map((p) => p.exited));
  }
}
