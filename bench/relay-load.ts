/**
 * The relay benchmark's readers, in a process of their own so that they share neither an
 * event loop nor a CPU account with the relay:
 *
 *   node bench/dist/relay-load.js '<RelayLoadParams as JSON>'
 *
 * Opens readersPerPath raw RTSP readers on every path, lets them run for the warm-up,
 * then counts what they receive over the window (packets, bytes, sequence gaps) along
 * with the relay's CPU and its own API byte counters. Then, with every reader still
 * attached, new readers join a running path one at a time to time their first keyframe.
 * Prints one RelayLoadResult JSON line; failures go to stderr with a non-zero exit. It
 * never outlives its budget, nor its parent (stdin is a pipe from run.ts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitWithParent, fail as failAs } from './child-side.js';
import { readCpuSeconds, startCpuMeter } from './proc.js';
import {
  firstFramePhaseMs,
  relayLoadBudgetMs,
  type FirstFrameResult,
  type ReaderCounts,
  type RelayLoadParams,
  type RelayLoadResult,
} from './relay-protocol.js';
import { RtspReader, addCounts, emptyCounts, subtractCounts } from './rtsp-reader.js';
import { LatencyRecorder } from './stats.js';

const HOST = '127.0.0.1';
const MAX_ERROR_SAMPLES = 5;
/** Pause before each first-frame sample, drawn at random so joins land all over the GOP. */
const JOIN_PAUSE_MS = { min: 50, max: 150 };

const fail = (message: string): never => failAs('relay-load', message);

function parseParams(text: string | undefined): RelayLoadParams {
  if (text === undefined) throw new Error("usage: relay-load.js '<RelayLoadParams JSON>'");
  const raw = JSON.parse(text) as Record<string, unknown>;
  const number = (key: keyof RelayLoadParams, min: number): number => {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new Error(
        `parameter ${key}: expected a number >= ${min}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const paths = raw.paths;
  if (
    !Array.isArray(paths) ||
    paths.length === 0 ||
    !paths.every((p) => typeof p === 'string' && /^[A-Za-z0-9_-]+$/.test(p))
  ) {
    throw new Error('parameter paths: expected a non-empty list of path names');
  }
  return {
    rtspPort: Math.floor(number('rtspPort', 1)),
    apiPort: Math.floor(number('apiPort', 1)),
    paths: paths as string[],
    readersPerPath: Math.floor(number('readersPerPath', 1)),
    warmupMs: number('warmupMs', 0),
    durationMs: number('durationMs', 1),
    firstFrameSamples: Math.floor(number('firstFrameSamples', 0)),
    timeoutMs: number('timeoutMs', 1),
    relayPid: Math.floor(number('relayPid', 1)),
    publisherPids: pids(raw.publisherPids),
  };
}

function pids(value: unknown): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && (v as number) > 0)) {
    throw new Error('parameter publisherPids: expected a list of process ids');
  }
  return value as number[];
}

/** CPU seconds of every process together, or null when one cannot be read. */
function totalCpuSeconds(pidList: readonly number[]): number | null {
  let total = 0;
  for (const pid of pidList) {
    const seconds = readCpuSeconds(pid);
    if (seconds === null) return null;
    total += seconds;
  }
  return total;
}

interface ApiTotals {
  /** performance.now() when the answer came. */
  at: number;
  bytesReceived: number;
  bytesSent: number;
  readers: number;
  readyPaths: number;
}

/** The relay's own counters, summed over every path, from its control API. */
async function apiTotals(params: RelayLoadParams): Promise<ApiTotals> {
  const url = `http://${HOST}:${params.apiPort}/v3/paths/list?itemsPerPage=1000`;
  const response = await fetch(url, { signal: AbortSignal.timeout(params.timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const body = (await response.json()) as {
    items?: { ready?: boolean; bytesReceived?: number; bytesSent?: number; readers?: unknown[] }[];
  };
  const totals: ApiTotals = {
    at: performance.now(),
    bytesReceived: 0,
    bytesSent: 0,
    readers: 0,
    readyPaths: 0,
  };
  for (const item of body.items ?? []) {
    totals.bytesReceived += item.bytesReceived ?? 0;
    totals.bytesSent += item.bytesSent ?? 0;
    totals.readers += item.readers?.length ?? 0;
    if (item.ready === true) totals.readyPaths += 1;
  }
  return totals;
}

async function openReader(params: RelayLoadParams, path: string): Promise<RtspReader> {
  const reader = await RtspReader.connect(HOST, params.rtspPort, params.timeoutMs);
  try {
    await reader.play(`rtsp://${HOST}:${params.rtspPort}/${path}`, params.timeoutMs);
  } catch (error) {
    reader.close();
    throw error;
  }
  return reader;
}

/** Every reader's counters, copied, so the window is the difference of two snapshots. */
function snapshot(readers: readonly RtspReader[]): ReaderCounts[] {
  return readers.map((r) => ({ ...r.counts }));
}

async function measureFirstFrames(params: RelayLoadParams): Promise<FirstFrameResult> {
  const keyframe = new LatencyRecorder();
  const firstPacket = new LatencyRecorder();
  const errors = new Set<string>();
  let startedOnKeyframe = 0;
  const phaseEnd = performance.now() + firstFramePhaseMs(params);
  let samples = 0;
  for (let i = 0; i < params.firstFrameSamples; i += 1) {
    if (performance.now() >= phaseEnd) {
      errors.add(`the phase ran out of time after ${samples} samples`);
      break;
    }
    samples += 1;
    const { min, max } = JOIN_PAUSE_MS;
    await sleep(min + Math.random() * (max - min));
    const path = params.paths[i % params.paths.length] as string;
    let reader: RtspReader | undefined;
    try {
      reader = await RtspReader.connect(HOST, params.rtspPort, params.timeoutMs, true);
      const sentAt = await reader.play(
        `rtsp://${HOST}:${params.rtspPort}/${path}`,
        params.timeoutMs,
      );
      if (!(await reader.keyframe(params.timeoutMs))) {
        throw new Error(`no keyframe within ${params.timeoutMs} ms of PLAY`);
      }
      keyframe.record((reader.firstKeyframeAt ?? 0) - sentAt);
      firstPacket.record((reader.firstPacketAt ?? 0) - sentAt);
      if (reader.firstPacketWasKeyframe) startedOnKeyframe += 1;
    } catch (error) {
      if (errors.size < MAX_ERROR_SAMPLES) {
        errors.add(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    } finally {
      reader?.close();
    }
  }
  return {
    samples,
    completed: keyframe.count,
    keyframe: keyframe.summary(),
    firstPacket: firstPacket.summary(),
    startedOnKeyframe,
    errors: [...errors],
  };
}

/** CPU seconds over a window, in percent of one core, to 0.1. */
function percentOf(seconds: number, windowMs: number): number {
  return windowMs > 0 ? Math.round(((seconds * 1000) / windowMs) * 1000) / 10 : 0;
}

function mbitPerSecond(counts: ReaderCounts, ms: number): number {
  return ms > 0 ? ((counts.rtpBytes + counts.rtcpBytes) * 8) / (ms * 1000) : 0;
}

async function main(): Promise<void> {
  const params = parseParams(process.argv[2]);
  const budgetMs = relayLoadBudgetMs(params);
  setTimeout(() => fail(`still running after ${budgetMs} ms; giving up`), budgetMs).unref();
  exitWithParent('relay-load');

  const settled = await Promise.allSettled(
    params.paths.flatMap((path) =>
      Array.from({ length: params.readersPerPath }, () => openReader(params, path)),
    ),
  );
  const readers = settled
    .filter((s): s is PromiseFulfilledResult<RtspReader> => s.status === 'fulfilled')
    .map((s) => s.value);
  const refused = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (refused) {
    for (const reader of readers) reader.close();
    const reason: unknown = refused.reason;
    throw new Error(
      `${settled.length - readers.length} of ${settled.length} readers failed to start: ` +
        (reason instanceof Error ? reason.message : String(reason)),
    );
  }

  await sleep(params.warmupMs);
  const apiBefore = await apiTotals(params);
  const countsBefore = snapshot(readers);
  const cpu = startCpuMeter(params.relayPid);
  const publishers0 = totalCpuSeconds(params.publisherPids);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const windowStartedAt = Date.now();
  await sleep(params.durationMs);
  const windowMs = performance.now() - t0;
  const windowEndedAt = Date.now();
  const share = cpu();
  const publishers1 = totalCpuSeconds(params.publisherPids);
  const self = process.cpuUsage(self0);
  const countsAfter = snapshot(readers);
  const apiAfter = await apiTotals(params);

  const window = emptyCounts();
  let min = Infinity;
  let max = 0;
  countsAfter.forEach((after, i) => {
    const delta = subtractCounts(after, countsBefore[i] ?? emptyCounts());
    addCounts(window, delta);
    const rate = mbitPerSecond(delta, windowMs);
    min = Math.min(min, rate);
    max = Math.max(max, rate);
  });

  const firstFrame = await measureFirstFrames(params);

  const readersClosedByRelay = readers.filter((r) => r.closed).length;
  const whole = emptyCounts();
  for (const reader of readers) {
    addCounts(whole, reader.counts);
    reader.close();
  }
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const result: RelayLoadResult = {
    readers: readers.length,
    windowMs: round(windowMs),
    windowStartedAt,
    windowEndedAt,
    window,
    whole,
    readerMbitPerSecond: { min: round(min), max: round(max) },
    readersClosedByRelay,
    api: {
      windowMs: round(apiAfter.at - apiBefore.at),
      bytesReceived: apiAfter.bytesReceived - apiBefore.bytesReceived,
      bytesSent: apiAfter.bytesSent - apiBefore.bytesSent,
      readers: apiAfter.readers,
      readyPaths: apiAfter.readyPaths,
    },
    relayCpuPercent: share.processPercent,
    relayCpuSeconds: share.processSeconds,
    loadCpuPercent: percentOf((self.user + self.system) / 1e6, windowMs),
    publishersCpuPercent:
      publishers0 === null || publishers1 === null
        ? null
        : percentOf(publishers1 - publishers0, windowMs),
    otherCpuPercent: share.otherPercent,
    stealCpuPercent: share.stealPercent,
    firstFrame,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
