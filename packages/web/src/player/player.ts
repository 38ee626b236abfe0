/**
 * A live player for one <video>: tries the paths best first (choose.ts), notices the first
 * frame and stalls the same way for every path, falls back by itself when a path cannot
 * play, and reconnects when a stream that played stops. What it is doing is published as a
 * status (for the tile) and on the video element's data attributes (for tests and bench:
 * data-path, data-state, data-first-frame-ms).
 */
import { nextAttempt, type PlayerPath } from './choose.js';
import { startHls, startMse, startWhep, type PathEvents, type PathHandle } from './paths.js';

export type PlayerState = 'connecting' | 'playing' | 'reconnecting' | 'unavailable' | 'stopped';

export interface PlayerStatus {
  state: PlayerState;
  path: PlayerPath | null;
  /** Why it is not playing, as a sentence; null while fine. */
  message: string | null;
  /** From the attempt's start to its first frame. */
  firstFrameMs: number | null;
}

type Starter = (video: HTMLVideoElement, streamPath: string, events: PathEvents) => PathHandle;
const STARTERS: Record<PlayerPath, Starter> = { webrtc: startWhep, mse: startMse, hls: startHls };

/** No first frame after this long: the path does not work here. HLS needs whole segments. */
const FIRST_FRAME_MS: Record<PlayerPath, number> = { webrtc: 10_000, mse: 15_000, hls: 25_000 };
/** A playing video whose time stands still this long has lost its stream. */
const STALL_MS = 5000;

type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (callback: () => void) => number;
};

export class LivePlayer {
  readonly #video: FrameCallbackVideo;
  readonly #streamPath: string;
  readonly #order: PlayerPath[];
  readonly #onStatus: (status: PlayerStatus) => void;
  #handle: PathHandle | null = null;
  #timers: ReturnType<typeof setTimeout>[] = [];
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #failedRounds = 0;
  #attempt = 0;
  #stopped = false;

  constructor(
    video: HTMLVideoElement,
    streamPath: string,
    order: PlayerPath[],
    onStatus: (status: PlayerStatus) => void,
  ) {
    this.#video = video;
    this.#streamPath = streamPath;
    this.#order = order;
    this.#onStatus = onStatus;
  }

  start(): void {
    if (this.#order.length === 0) {
      this.#publish({
        state: 'unavailable',
        path: null,
        message: 'This browser can play none of the stream formats (WebRTC, MediaSource, HLS).',
        firstFrameMs: null,
      });
      return;
    }
    this.#try(0, 'connecting');
  }

  stop(): void {
    this.#stopped = true;
    this.#end();
    this.#publish({ state: 'stopped', path: null, message: null, firstFrameMs: null });
  }

  #publish(status: PlayerStatus): void {
    const data = this.#video.dataset;
    data.state = status.state;
    data.path = status.path ?? '';
    if (status.firstFrameMs !== null) data.firstFrameMs = String(Math.round(status.firstFrameMs));
    this.#onStatus(status);
  }

  #end(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    this.#handle?.stop();
    this.#handle = null;
  }

  #try(index: number, state: 'connecting' | 'reconnecting', message: string | null = null): void {
    if (this.#stopped) return;
    this.#end();
    const attempt = ++this.#attempt;
    const path = this.#order[index] as PlayerPath;
    const started = performance.now();
    let played = false;
    let ended = false;
    this.#publish({ state, path, message, firstFrameMs: null });
    const finish = (reason: string) => {
      if (ended || attempt !== this.#attempt) return;
      ended = true;
      const next = nextAttempt(
        { index, played, failedRounds: this.#failedRounds },
        this.#order.length,
      );
      this.#failedRounds = next.failedRounds;
      this.#end();
      const sentence = `${path.toUpperCase()}: ${reason}`;
      this.#publish({ state: 'reconnecting', path, message: sentence, firstFrameMs: null });
      this.#timers.push(
        setTimeout(() => this.#try(next.index, 'reconnecting', sentence), next.delayMs),
      );
    };
    const onFirstFrame = () => {
      if (played || ended || attempt !== this.#attempt) return;
      played = true;
      this.#failedRounds = 0;
      this.#publish({
        state: 'playing',
        path,
        message: null,
        firstFrameMs: performance.now() - started,
      });
    };
    const video = this.#video;
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFirstFrame);
    else video.addEventListener('playing', onFirstFrame, { once: true });
    this.#timers.push(
      setTimeout(() => {
        if (!played) finish(`no picture within ${FIRST_FRAME_MS[path] / 1000} s`);
      }, FIRST_FRAME_MS[path]),
    );
    let lastTime = -1;
    let lastMove = performance.now();
    this.#watchdog = setInterval(() => {
      if (!played) return;
      if (video.currentTime !== lastTime) {
        lastTime = video.currentTime;
        lastMove = performance.now();
      } else if (performance.now() - lastMove > STALL_MS) {
        finish('the stream stopped');
      }
    }, 500);
    this.#handle = STARTERS[path](video, this.#streamPath, { failed: finish });
  }
}

/** What this browser can play. */
export function browserSupport(): { webrtc: boolean; mse: boolean; hls: boolean } {
  const probe = document.createElement('video');
  return {
    webrtc: typeof RTCPeerConnection === 'function',
    mse:
      typeof MediaSource === 'function' &&
      MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E"'),
    hls: probe.canPlayType('application/vnd.apple.mpegurl') !== '',
  };
}
