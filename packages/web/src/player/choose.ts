/**
 * Which ways of playing a live stream to try, best first. Pure, so it is unit-tested in
 * Node: the browser's and the server's support come in as plain facts.
 *
 * WebRTC (WHEP) is the lowest latency but exists only when the media plane has it
 * (MediaMTX; `streams.webrtc` non-null). MSE over a WebSocket is our own low-latency path on
 * every media plane. HLS is the last resort: several seconds behind, but plays anywhere the
 * browser plays HLS natively (Chromium, Safari).
 */

export type PlayerPath = 'webrtc' | 'mse' | 'hls';

export const PLAYER_PATHS: readonly PlayerPath[] = ['webrtc', 'mse', 'hls'];

export interface PathSupport {
  /** The camera's `streams.webrtc` is non-null. */
  serverWebrtc: boolean;
  /** The browser has RTCPeerConnection. */
  browserWebrtc: boolean;
  /** The browser has MediaSource and takes H.264 in fMP4. */
  browserMse: boolean;
  /** The browser plays application/vnd.apple.mpegurl in a video element. */
  browserHls: boolean;
  /** Only this path (a `?player=` in the page URL, for tests and diagnosis). */
  forced?: PlayerPath | null;
}

/** The paths to try in order; empty when this browser can play none of them. */
export function playerOrder(support: PathSupport): PlayerPath[] {
  const usable: Record<PlayerPath, boolean> = {
    webrtc: support.serverWebrtc && support.browserWebrtc,
    mse: support.browserMse,
    hls: support.browserHls,
  };
  if (support.forced) return usable[support.forced] ? [support.forced] : [];
  return PLAYER_PATHS.filter((path) => usable[path]);
}

/** A `?player=` value, or null when it names no path. */
export function parseForcedPath(value: string | null): PlayerPath | null {
  return value !== null && (PLAYER_PATHS as readonly string[]).includes(value)
    ? (value as PlayerPath)
    : null;
}

/**
 * After an attempt ends: the index of the next path to try and how long to wait first.
 * An attempt that played goes back to the best path at once (a blip: reconnect); one that
 * never played falls back to the next; when all failed, the round starts again after a
 * pause that doubles up to `maxDelayMs`.
 */
export function nextAttempt(
  state: { index: number; played: boolean; failedRounds: number },
  count: number,
  maxDelayMs = 15_000,
): { index: number; delayMs: number; failedRounds: number } {
  if (state.played) return { index: 0, delayMs: 500, failedRounds: 0 };
  if (state.index + 1 < count) {
    return { index: state.index + 1, delayMs: 0, failedRounds: state.failedRounds };
  }
  const failedRounds = state.failedRounds + 1;
  return {
    index: 0,
    delayMs: Math.min(maxDelayMs, 1000 * 2 ** (failedRounds - 1)),
    failedRounds,
  };
}
