/**
 * Keeping a live video at the live edge: a player that falls behind (a stall, a tab in the
 * background) jumps forward to just before the end of what it has buffered, and buffer
 * older than the play position is removed so memory stays bounded. Pure: ranges in,
 * actions out.
 */

/** A buffered range, [start, end] in seconds. */
export type Range = readonly [number, number];

export interface EdgeOptions {
  /** Jump when further behind the buffered end than this (seconds). */
  maxLag: number;
  /** Where to land: this far before the buffered end (seconds). */
  target: number;
  /** Keep this much played buffer (seconds); older is removed. */
  keepBehind: number;
}

/** MSE and WebRTC: under a second end to end means a small lag allowance. */
export const LOW_LATENCY_EDGE: EdgeOptions = { maxLag: 0.5, target: 0.15, keepBehind: 10 };
/** Native HLS: segments of a second or more, so jump only when well behind. */
export const HLS_EDGE: EdgeOptions = { maxLag: 4, target: 1.5, keepBehind: 30 };

export interface EdgeAction {
  /** Seek here (the play position is outside the buffer or too far behind). */
  seekTo: number | null;
  /** Remove buffered media before this time (null: nothing to remove). */
  removeBefore: number | null;
}

export function liveEdgeAction(
  currentTime: number,
  ranges: readonly Range[],
  options: EdgeOptions,
): EdgeAction {
  const last = ranges[ranges.length - 1];
  if (!last) return { seekTo: null, removeBefore: null };
  const [start, end] = last;
  let seekTo: number | null = null;
  const inLast = currentTime >= start && currentTime <= end;
  if (!inLast || end - currentTime > options.maxLag) {
    seekTo = Math.max(start, end - options.target);
  }
  const position = seekTo ?? currentTime;
  const first = ranges[0];
  const removeBefore =
    first && position - first[0] > options.keepBehind * 1.5 ? position - options.keepBehind : null;
  return { seekTo, removeBefore };
}

/** A TimeRanges as plain ranges. */
export function toRanges(ranges: {
  length: number;
  start(i: number): number;
  end(i: number): number;
}): Range[] {
  const out: Range[] = [];
  for (let i = 0; i < ranges.length; i += 1) out.push([ranges.start(i), ranges.end(i)]);
  return out;
}
