/**
 * What the relay benchmark's processes exchange, shared so that every side agrees at
 * compile time:
 *   - relay-server.ts prints one `listening` JSON line, then a `stats` line every
 *     STATS_EVERY_MS and a last one when it stops;
 *   - relay-load.ts takes RelayLoadParams as one JSON argument and prints one
 *     RelayLoadResult JSON line.
 */
import type { LatencySummary } from './stats.js';

/** relay-server.ts's first line: where it listens. */
export interface RelayListening {
  kind: 'listening';
  pid: number;
  rtspPort: number;
  apiPort: number;
}

/**
 * relay-server.ts's periodic line: totals over every stream the relay has had (a stream
 * ends when its publisher leaves; its counts stay in these totals).
 */
export interface RelayServerStats {
  kind: 'stats';
  /** Date.now() when taken. */
  at: number;
  /** Paths with a publisher now. */
  publishing: number;
  /** Readers attached now, over every stream. */
  readers: number;
  /** Sum of Stream.stats().readersDropped: readers the relay dropped as too slow. */
  readersDropped: number;
  bytesReceived: number;
  bytesSent: number;
  /** Sum of Stream.stats().packetsReceived / packetsSent (RTP and RTCP). */
  packetsReceived: number;
  packetsSent: number;
}

export type RelayServerLine = RelayListening | RelayServerStats;

export const STATS_EVERY_MS = 500;

export interface RelayLoadParams {
  rtspPort: number;
  apiPort: number;
  /** Published paths; readersPerPath readers open on each. */
  paths: string[];
  readersPerPath: number;
  warmupMs: number;
  durationMs: number;
  /** New readers joining a running path one at a time, after the window. */
  firstFrameSamples: number;
  /** Per-request and per-sample limit. */
  timeoutMs: number;
  /** The relay's pid, so its CPU time can be read over exactly the measurement window. */
  relayPid: number;
  /** The ffmpeg publishers' pids, for their CPU time over the same window. */
  publisherPids: number[];
}

/** Totals over a set of readers (interleaved payload bytes: RTP or RTCP, no `$` header). */
export interface ReaderCounts {
  rtpPackets: number;
  rtpBytes: number;
  rtcpPackets: number;
  rtcpBytes: number;
  /** RTP packets missing by sequence number (a gap of k counts k). */
  lost: number;
  /** Sequence jumps (a gap of any size counts 1). */
  gaps: number;
  /** Packets at or behind the last sequence number seen: duplicates or out of order. */
  late: number;
  /** Packets that did not parse as RTP. */
  malformed: number;
}

export interface RelayLoadResult {
  readers: number;
  /** Measured length of the window in milliseconds. */
  windowMs: number;
  /** Date.now() at the window's start and end, to match relay-server.ts's stats lines. */
  windowStartedAt: number;
  windowEndedAt: number;
  /** Every fan-out reader, over the window only. */
  window: ReaderCounts;
  /** Every fan-out reader, from its PLAY to its close: gaps anywhere count. */
  whole: ReaderCounts;
  /** The slowest and fastest reader over the window, in Mbit/s of RTP+RTCP payload. */
  readerMbitPerSecond: { min: number; max: number };
  /** Fan-out readers whose connection ended before the loadgen closed it. */
  readersClosedByRelay: number;
  /**
   * The relay's own counters from GET /v3/paths/list, asked just before and just after
   * the window: over `windowMs`, a few milliseconds longer than the window.
   */
  api: {
    windowMs: number;
    bytesReceived: number;
    bytesSent: number;
    /** Readers the API listed at the end of the window, over every path. */
    readers: number;
    /** Paths ready at the end of the window. */
    readyPaths: number;
  };
  /** CPU over the window, in percent of one core. */
  relayCpuPercent: number | null;
  relayCpuSeconds: number | null;
  loadCpuPercent: number;
  /** Every publisher together; null when one could not be read (it exited). */
  publishersCpuPercent: number | null;
  /** Everything else: publishers, orchestrator, the rest of the machine. */
  otherCpuPercent: number | null;
  stealCpuPercent: number | null;
  firstFrame: FirstFrameResult;
}

/** New readers joining a running path: PLAY sent to their first packet starting a keyframe. */
export interface FirstFrameResult {
  samples: number;
  /** Samples that got a keyframe start within the timeout. */
  completed: number;
  /** PLAY sent to the first packet that starts a keyframe (startsKeyframe). */
  keyframe: LatencySummary;
  /** PLAY sent to the first media packet of any kind. */
  firstPacket: LatencySummary;
  /** Samples whose very first media packet already started a keyframe (GOP cache hit). */
  startedOnKeyframe: number;
  /** A few distinct failures (timeouts, refusals), if any sample failed. */
  errors: string[];
}

/** relay-load.ts gives up after its own timeline plus this; the orchestrator waits longer. */
export function relayLoadBudgetMs(params: RelayLoadParams): number {
  const connecting = 3 * params.timeoutMs;
  const firstFrames = firstFramePhaseMs(params);
  return connecting + params.warmupMs + params.durationMs + firstFrames + 5000;
}

/** The whole first-frame phase is bounded too: samples not done by then are reported. */
export function firstFramePhaseMs(params: RelayLoadParams): number {
  return Math.min(params.firstFrameSamples * (params.timeoutMs + 500), 30_000);
}
