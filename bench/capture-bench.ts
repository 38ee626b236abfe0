/**
 * The "capture" section: what operators wait for, through the real service (a child
 * process with the embedded relay) and a declared test-pattern camera (320x240, 10 fps,
 * a keyframe every second), over an authenticated WebSocket client:
 *
 *   - take_snapshot on an active stream (a reader keeps it running): tier 1;
 *   - take_snapshot on an idle on-demand stream (waited until the media server reports it
 *     not ready): tier 2, which starts ffmpeg first;
 *   - start_recording: the RPC reply, and the first fragment on disk (the file holding a
 *     `moof` box, i.e. playable video, not only its header);
 *   - stop_recording: the RPC reply, which includes finalising and measuring the file.
 *
 * Times are round trips measured at the client. Environment: BENCH_CAPTURE_SNAPSHOTS
 * (active samples, default 20), BENCH_CAPTURE_IDLE (idle samples, default 6),
 * BENCH_CAPTURE_RECORDINGS (default 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CameraServiceClient } from '@camera-service/sdk';
import { makeCredentials } from './auth.js';
import { terminate, track } from './children.js';
import { fmtMs } from './format.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { startServer, type ServerHandle } from './server-process.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

const CAMERA = 'test0';
const config = (gopCache: boolean) =>
  [
    'cameras:',
    `  - id: ${CAMERA}`,
    '    test_pattern: { size: 320x240, fps: 10, clock: false }',
    'mediamtx:',
    // An idle stream stops soon, so the idle samples do not wait 10 s each.
    '  on_demand_close_after_seconds: 0.5',
    // false: new readers wait for a keyframe, as with MediaMTX (the service's own GOP
    // keeper is what keeps snapshots warm then).
    `  embedded_gop_cache: ${gopCache}`,
    '',
  ].join('\n');
const RECORD_MS = 3000;
const WAIT_MS = 20_000;

export interface CaptureReport {
  settings: { snapshots: number; idleSnapshots: number; recordings: number; recordMs: number };
  activeSnapshot: LatencySummary | null;
  activeCaptureMs: LatencySummary | null;
  /** The same, with the relay's GOP cache off (as MediaMTX): the keeper's work. */
  activeSnapshotNoGopCache: LatencySummary | null;
  activeCaptureMsNoGopCache: LatencySummary | null;
  idleSnapshot: LatencySummary | null;
  idleCaptureMs: LatencySummary | null;
  recordingReply: LatencySummary | null;
  firstFragment: LatencySummary | null;
  stopReply: LatencySummary | null;
  tiers: { active: number[]; idle: number[]; activeNoGopCache: number[] };
  error: string | null;
}

interface Snapshot {
  tier: number;
  capture_ms: number;
}

const until = async (what: string, check: () => Promise<boolean> | boolean) => {
  const deadline = performance.now() + WAIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Whether the file holds a complete fragment: a `moof` box after the header. */
function hasFragment(file: string): boolean {
  let fd: number;
  try {
    if (statSync(file).size < 64) return false;
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const buffer = Buffer.alloc(256 * 1024);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, n).includes('moof');
  } finally {
    closeSync(fd);
  }
}

async function streamReady(client: CameraServiceClient): Promise<boolean> {
  const streams = (await client.request('get_streams', {})) as { name: string; ready: boolean }[];
  return streams.find((s) => s.name === CAMERA)?.ready ?? false;
}

/** `count` snapshots one after the other (each after `before`): round trips, capture_ms, tiers. */
async function snapshots(
  client: CameraServiceClient,
  count: number,
  before?: () => Promise<void>,
): Promise<{ roundTrip: LatencySummary; captureMs: LatencySummary; tiers: number[] }> {
  const roundTrip = new LatencyRecorder();
  const captureMs = new LatencyRecorder();
  const tiers: number[] = [];
  for (let i = 0; i < count; i += 1) {
    await before?.();
    const started = performance.now();
    const shot = (await client.request('take_snapshot', { device: CAMERA })) as Snapshot;
    roundTrip.record(performance.now() - started);
    captureMs.record(shot.capture_ms);
    tiers.push(shot.tier);
  }
  return { roundTrip: roundTrip.summary(), captureMs: captureMs.summary(), tiers };
}

interface Running {
  server: ServerHandle;
  client: CameraServiceClient;
  /** A viewer keeping the stream active. */
  reader: ChildProcess | undefined;
}

/** The service with the test pattern, an admin client, and a viewer keeping it streaming. */
async function startRunning(context: SectionContext, gopCache: boolean): Promise<Running> {
  const dir = join(context.scratchDir, gopCache ? 'gop-cache' : 'no-gop-cache');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'capture.yml');
  writeFileSync(configFile, config(gopCache));
  const credentials = await makeCredentials(join(dir, 'api-keys.json'));
  const server = await startServer({
    repoRoot: context.repoRoot,
    scratchDir: dir,
    maxConnections: 10,
    maxConnectionsPerIp: 10,
    startTimeoutMs: 20_000,
    jwtSecret: credentials.jwtSecret,
    apiKeysFile: credentials.apiKeysFile,
    rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    configFile,
  });
  const client = new CameraServiceClient({
    url: server.wsUrl,
    requestTimeoutMs: 30_000,
    authToken: credentials.adminJwt,
  });
  await client.connect();
  const camera = (await client.getCameraStatus(CAMERA)) as {
    streams: { token_urls: { rtsp: string } };
  };
  // Watching takes a credential: the bench's own, in the query.
  const readerUrl = camera.streams.token_urls.rtsp.replace('{token}', credentials.adminJwt);
  const reader = spawn(
    'ffmpeg',
    ['-v', 'error', '-rtsp_transport', 'tcp', '-i', readerUrl, '-f', 'null', '-'],
    { stdio: 'ignore' },
  );
  track(reader);
  await until('the stream to be ready', () => streamReady(client));
  return { server, client, reader };
}

async function stopRunning(running: Running | undefined): Promise<void> {
  if (!running) return;
  if (running.reader) await terminate(running.reader, 2000);
  await running.client.close().catch(() => undefined);
  await running.server.stop();
}

async function measure(context: SectionContext, report: CaptureReport): Promise<void> {
  const say = (text: string) => process.stderr.write(`[bench] capture: ${text}\n`);
  let running: Running | undefined;
  try {
    say(`${report.settings.snapshots} snapshots of an active stream, relay GOP cache off`);
    running = await startRunning(context, false);
    const cold = await snapshots(running.client, report.settings.snapshots);
    report.activeSnapshotNoGopCache = cold.roundTrip;
    report.activeCaptureMsNoGopCache = cold.captureMs;
    report.tiers.activeNoGopCache = cold.tiers;
    await stopRunning(running);
    running = undefined;

    say(`${report.settings.snapshots} snapshots of an active stream`);
    running = await startRunning(context, true);
    const { client } = running;
    const dir = join(context.scratchDir, 'gop-cache');
    const active = await snapshots(client, report.settings.snapshots);
    report.activeSnapshot = active.roundTrip;
    report.activeCaptureMs = active.captureMs;
    report.tiers.active = active.tiers;

    say(`${report.settings.recordings} recordings of ${RECORD_MS / 1000} s`);
    const reply = new LatencyRecorder();
    const fragment = new LatencyRecorder();
    const stop = new LatencyRecorder();
    for (let i = 0; i < report.settings.recordings; i += 1) {
      const started = performance.now();
      const rec = (await client.request('start_recording', { device: CAMERA })) as {
        filename: string;
      };
      reply.record(performance.now() - started);
      const file = join(dir, 'recordings', rec.filename);
      await until('the first fragment', () => hasFragment(file));
      fragment.record(performance.now() - started);
      const left = RECORD_MS - (performance.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      const stopAt = performance.now();
      await client.request('stop_recording', { device: CAMERA });
      stop.record(performance.now() - stopAt);
    }
    report.recordingReply = reply.summary();
    report.firstFragment = fragment.summary();
    report.stopReply = stop.summary();

    say(`${report.settings.idleSnapshots} snapshots of an idle on-demand stream`);
    if (running.reader) await terminate(running.reader, 2000);
    running.reader = undefined;
    const idle = await snapshots(client, report.settings.idleSnapshots, async () => {
      await until('the stream to stop', async () => !(await streamReady(client)));
    });
    report.idleSnapshot = idle.roundTrip;
    report.idleCaptureMs = idle.captureMs;
    report.tiers.idle = idle.tiers;
  } finally {
    await stopRunning(running);
  }
}

function format(report: CaptureReport): string {
  const row = (label: string, s: LatencySummary | null) =>
    s === null
      ? `  ${label}: n/a`
      : `  ${label}: p50 ${fmtMs(s.p50Ms)} ms, p99 ${fmtMs(s.p99Ms)} ms, max ${fmtMs(s.maxMs)} ms (N = ${s.count})`;
  const tiers = (list: number[]) =>
    list.length === 0 ? 'none' : [...new Set(list)].map((t) => `tier ${t}`).join(', ');
  const target = (ok: boolean, text: string) => `  [${ok ? 'MET' : 'NOT MET'}] ${text}`;
  const lines = [
    'capture',
    '-------',
    'The real service (embedded relay) with a declared test pattern, 320x240 10 fps, GOP 1 s; round trips at an admin WebSocket client on loopback.',
    row(`take_snapshot, active stream (${tiers(report.tiers.active)})`, report.activeSnapshot),
    row('  of which capture_ms (the service’s own)', report.activeCaptureMs),
    row(
      `take_snapshot, active stream, relay GOP cache off as MediaMTX (${tiers(report.tiers.activeNoGopCache)})`,
      report.activeSnapshotNoGopCache,
    ),
    row('  of which capture_ms', report.activeCaptureMsNoGopCache),
    row(`take_snapshot, idle on-demand stream (${tiers(report.tiers.idle)})`, report.idleSnapshot),
    row('  of which capture_ms', report.idleCaptureMs),
    row('start_recording reply', report.recordingReply),
    row('start_recording sent -> first fragment (moof) on disk', report.firstFragment),
    row(`stop_recording reply (after ${report.settings.recordMs / 1000} s)`, report.stopReply),
    'Targets:',
  ];
  const p50 = (s: LatencySummary | null) => s?.p50Ms ?? Infinity;
  const p99 = (s: LatencySummary | null) => s?.p99Ms ?? Infinity;
  lines.push(
    target(p50(report.activeSnapshot) < 250, 'snapshot on an active stream p50 < 250 ms'),
    target(
      p50(report.activeSnapshotNoGopCache) < 250,
      'the same with the relay GOP cache off (as MediaMTX) p50 < 250 ms',
    ),
    target(p50(report.idleSnapshot) < 2000, 'snapshot on an idle stream p50 < 2 s'),
    target(p99(report.recordingReply) < 100, 'start_recording reply < 100 ms (p99)'),
    target(p99(report.firstFragment) < 2000, 'first fragment on disk < 2 s (p99)'),
  );
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const captureSection: Section = {
  name: 'capture',
  summary: 'snapshots (active and idle stream), recording start, first fragment and stop',
  async run(context) {
    const report: CaptureReport = {
      settings: {
        snapshots: Math.round(envNumber(context.env, 'BENCH_CAPTURE_SNAPSHOTS', 20, 10_000)),
        idleSnapshots: Math.round(envNumber(context.env, 'BENCH_CAPTURE_IDLE', 6, 1000)),
        recordings: Math.round(envNumber(context.env, 'BENCH_CAPTURE_RECORDINGS', 5, 1000)),
        recordMs: RECORD_MS,
      },
      activeSnapshot: null,
      activeCaptureMs: null,
      activeSnapshotNoGopCache: null,
      activeCaptureMsNoGopCache: null,
      idleSnapshot: null,
      idleCaptureMs: null,
      recordingReply: null,
      firstFragment: null,
      stopReply: null,
      tiers: { active: [], idle: [], activeNoGopCache: [] },
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
