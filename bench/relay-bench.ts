/**
 * The "relay fan-out" section: N ffmpeg publishers each stream a ~2 Mbit/s H.264 clip
 * into the embedded RTSP relay (packages/relay), and M raw readers per path read it back.
 *
 *   1. encode one short clip with ffmpeg (x264 ultrafast, 1 s GOP), into the scratch dir;
 *   2. start the relay in its own process (relay-server.js);
 *   3. start N `ffmpeg -re -stream_loop -1 -i clip -c copy -f rtsp` publishers, and wait
 *      until the relay reports every path ready;
 *   4. run the readers in their own process (relay-load.js): warm-up, measured window,
 *      then new readers joining a running path, one at a time, for time-to-first-frame;
 *   5. stop the publishers, then the relay (its last stats line has readersDropped).
 * The relay's RSS is sampled from /proc throughout step 4, its CPU over the window.
 * Any failure is returned in the report rather than thrown, so that what was measured
 * before it is still written.
 *
 * Environment: BENCH_RELAY_PUBLISHERS (default 8), BENCH_RELAY_READERS (readers per
 * publisher, default 10), BENCH_RELAY_SECONDS (measured window, default 10).
 */
import { join } from 'node:path';
import { runRelayLoad } from './load-process.js';
import { readMemory, watchMemory } from './proc.js';
import type { RelayLoadParams, RelayServerStats } from './relay-protocol.js';
import {
  encodeClip,
  publisherFailure,
  startPublisher,
  startRelay,
  stopPublishers,
  waitForPaths,
  type ClipSpec,
  type Publisher,
  type RelayHandle,
} from './relay-process.js';
import { formatRelay, type RelayReport, type RelaySettings } from './relay-report.js';
import { envNumber, type Section } from './section.js';

export const CLIP: ClipSpec = {
  width: 640,
  height: 480,
  fps: 25,
  gop: 25,
  bitrate: '2M',
  seconds: 10,
};
const WARMUP_MS = 2000;
const FIRST_FRAME_SAMPLES = 20;
/** Per RTSP request, connection, and first-frame sample. */
const REQUEST_TIMEOUT_MS = 5000;
const ENCODE_TIMEOUT_MS = 60_000;
const RELAY_START_TIMEOUT_MS = 10_000;
/** ffmpeg connects, announces, and sends its first keyframe at once; allow for a slow start. */
const PATHS_READY_TIMEOUT_MS = 20_000;
const MEMORY_SAMPLE_MS = 200;

export interface RelayBenchOptions {
  settings: Omit<RelaySettings, 'warmupSeconds' | 'firstFrameSamples'>;
  scratchDir: string;
  serverScript: string;
  loadScript: string;
}

export async function runRelayBench(options: RelayBenchOptions): Promise<RelayReport> {
  const settings: RelaySettings = {
    ...options.settings,
    warmupSeconds: WARMUP_MS / 1000,
    firstFrameSamples: FIRST_FRAME_SAMPLES,
  };
  const report: RelayReport = {
    settings,
    clip: null,
    load: null,
    relay: {
      peakRssMb: null,
      rssBeforeMb: null,
      rssAfterMb: null,
      hwmAfterMb: null,
      packetsPerSecond: null,
      final: null,
    },
    problems: [],
    error: null,
  };
  const say = (text: string) => process.stderr.write(`[bench] relay fan-out: ${text}\n`);
  let relay: RelayHandle | undefined;
  const publishers: Publisher[] = [];
  try {
    const clipFile = join(options.scratchDir, 'relay-clip.mkv');
    say(`encoding a ${CLIP.seconds} s ${CLIP.width}x${CLIP.height} H.264 clip`);
    report.clip = await encodeClip(clipFile, CLIP, ENCODE_TIMEOUT_MS);

    relay = await startRelay(options.serverScript, RELAY_START_TIMEOUT_MS);
    say(
      `relay pid ${relay.pid} on rtsp://127.0.0.1:${relay.rtspPort}, API port ${relay.apiPort}; ` +
        `starting ${settings.publishers} publishers`,
    );
    for (let i = 0; i < settings.publishers; i += 1) {
      publishers.push(startPublisher(clipFile, relay.rtspPort, `pub${i}`));
    }
    await waitForPaths(relay.apiPort, publishers, PATHS_READY_TIMEOUT_MS);

    const params: RelayLoadParams = {
      rtspPort: relay.rtspPort,
      apiPort: relay.apiPort,
      paths: publishers.map((p) => p.path),
      readersPerPath: settings.readersPerPath,
      warmupMs: WARMUP_MS,
      durationMs: settings.seconds * 1000,
      firstFrameSamples: FIRST_FRAME_SAMPLES,
      timeoutMs: REQUEST_TIMEOUT_MS,
      relayPid: relay.pid,
      publisherPids: publishers.flatMap((p) => (p.child.pid === undefined ? [] : [p.child.pid])),
    };
    say(
      `${settings.publishers} x ${settings.readersPerPath} readers ` +
        `(${WARMUP_MS / 1000} s warm-up + ${settings.seconds} s, then ${FIRST_FRAME_SAMPLES} joins)`,
    );
    report.relay.rssBeforeMb = readMemory(relay.pid)?.rssMb ?? null;
    const memory = watchMemory(relay.pid, MEMORY_SAMPLE_MS);
    try {
      report.load = await runRelayLoad(options.loadScript, params);
    } finally {
      report.relay.peakRssMb = memory.stop();
    }
    const after = readMemory(relay.pid);
    report.relay.rssAfterMb = after?.rssMb ?? null;
    report.relay.hwmAfterMb = after?.hwmMb ?? null;
    report.relay.packetsPerSecond = packetsPerSecond(
      relay.history(),
      report.load.windowStartedAt,
      report.load.windowEndedAt,
    );
    const died = publisherFailure(publishers);
    if (died) report.problems.push(died.message);
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  } finally {
    await stopPublishers(publishers);
    if (relay) {
      report.relay.final = await relay.stop();
      const stderr = relay.stderr();
      if (stderr) report.problems.push(`the relay wrote on stderr: ${stderr.slice(0, 1000)}`);
    }
  }
  return report;
}

/**
 * RTP+RTCP packets a second into and out of the relay over the window, from the stats
 * lines the relay printed inside it (every 500 ms: they span all of it but the last half
 * second).
 */
function packetsPerSecond(
  history: readonly RelayServerStats[],
  windowStartedAt: number,
  windowEndedAt: number,
): { in: number; out: number } | null {
  const inside = history.filter((s) => s.at >= windowStartedAt && s.at <= windowEndedAt);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last || last.at <= first.at) return null;
  const seconds = (last.at - first.at) / 1000;
  return {
    in: (last.packetsReceived - first.packetsReceived) / seconds,
    out: (last.packetsSent - first.packetsSent) / seconds,
  };
}

export const relaySection: Section = {
  name: 'relay',
  summary:
    'the embedded RTSP relay under N publishers x M readers: bit rate, gaps, drops, CPU, RSS, time to first frame',
  async run(context) {
    const { env, distDir } = context;
    const report = await runRelayBench({
      settings: {
        publishers: Math.round(envNumber(env, 'BENCH_RELAY_PUBLISHERS', 8, 64)),
        readersPerPath: Math.round(envNumber(env, 'BENCH_RELAY_READERS', 10, 200)),
        seconds: envNumber(env, 'BENCH_RELAY_SECONDS', 10, 600),
      },
      scratchDir: context.scratchDir,
      serverScript: join(distDir, 'relay-server.js'),
      loadScript: join(distDir, 'relay-load.js'),
    });
    return { report, text: formatRelay(report).join('\n') + '\n', error: report.error };
  },
};
