/**
 * The "media" section: what the service's media plane costs against a media server (the
 * embedded relay, in a process of its own as relay-server.js, reached over its control
 * API exactly as MediaMTX would be):
 *
 *   - path create: PathManager.ensure of a new camera path (one GET that finds nothing,
 *     one add), then its delete; sequential, so each is one client's latency;
 *   - path create → stream ready: a new on-demand test-pattern path (320x240, 10 fps,
 *     libx264 as the service configures it), then waitReady: the RTSP DESCRIBE that
 *     starts ffmpeg, and the API answering `ready`. This is what a first snapshot or
 *     recording of an idle camera waits for.
 *
 * Environment: BENCH_MEDIA_CREATES (default 500), BENCH_MEDIA_READY (default 10).
 */
import { join } from 'node:path';
import {
  MediaMtxClient,
  PathManager,
  createLogger,
  defaultConfig,
  goDuration,
  publishCommand,
  waitReady,
} from '@camera-service/server';
import { fmtMs } from './format.js';
import { startRelay, type RelayHandle } from './relay-process.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

const WARMUP_CREATES = 50;
const READY_TIMEOUT_MS = 15_000;

export interface MediaReport {
  settings: { creates: number; readySamples: number; warmupCreates: number };
  pathCreate: LatencySummary | null;
  pathDelete: LatencySummary | null;
  createToReady: LatencySummary | null;
  readyErrors: string[];
  error: string | null;
}

async function measure(context: SectionContext, report: MediaReport): Promise<void> {
  const say = (text: string) => process.stderr.write(`[bench] media: ${text}\n`);
  let relay: RelayHandle | undefined;
  const { logger } = createLogger({
    level: 'silent',
    format: 'json',
    environment: 'development',
  });
  let client: MediaMtxClient | undefined;
  try {
    relay = await startRelay(join(context.distDir, 'relay-server.js'), 10_000);
    client = new MediaMtxClient({ baseUrl: `http://127.0.0.1:${relay.apiPort}`, log: logger });
    const paths = new PathManager({ client, log: logger });
    say(`${report.settings.creates} path creates and deletes against the relay (pid ${relay.pid})`);
    const create = new LatencyRecorder();
    const remove = new LatencyRecorder();
    const codec = defaultConfig().mediamtx.codec;
    const conf = (name: string) => ({
      source: 'publisher',
      runOnDemand: publishCommand({
        source: { kind: 'v4l2', device: `/dev/${name}` },
        codec,
      }),
      runOnDemandRestart: true,
      runOnDemandStartTimeout: goDuration(10),
      runOnDemandCloseAfter: goDuration(10),
    });
    const total = WARMUP_CREATES + report.settings.creates;
    for (let i = 0; i < total; i += 1) {
      const name = `bench${i}`;
      let started = performance.now();
      const outcome = await paths.ensure(name, conf(name));
      if (outcome !== 'created') throw new Error(`path ${name} was ${outcome}, not created`);
      if (i >= WARMUP_CREATES) create.record(performance.now() - started);
      started = performance.now();
      await paths.remove(name);
      if (i >= WARMUP_CREATES) remove.record(performance.now() - started);
    }
    report.pathCreate = create.summary();
    report.pathDelete = remove.summary();

    say(`${report.settings.readySamples} on-demand test patterns from path creation to ready`);
    const ready = new LatencyRecorder();
    for (let i = 0; i < report.settings.readySamples; i += 1) {
      const name = `ready${i}`;
      const started = performance.now();
      await paths.ensure(name, {
        source: 'publisher',
        runOnDemand: publishCommand({
          source: { kind: 'test_pattern', size: '320x240', fps: 10, clock: true },
          codec,
        }),
        runOnDemandStartTimeout: goDuration(10),
        runOnDemandCloseAfter: goDuration(1),
      });
      try {
        await waitReady({
          client,
          rtspBase: `rtsp://127.0.0.1:${relay.rtspPort}`,
          name,
          timeoutMs: READY_TIMEOUT_MS,
        });
        ready.record(performance.now() - started);
      } catch (error) {
        report.readyErrors.push((error as Error).message);
      }
      // Deleting the path stops its ffmpeg, so the samples do not pile up processes.
      await paths.remove(name);
    }
    if (ready.count > 0) report.createToReady = ready.summary();
  } finally {
    client?.close();
    await relay?.stop();
  }
}

function format(report: MediaReport): string {
  const row = (label: string, s: LatencySummary | null) =>
    s === null
      ? `  ${label}: n/a`
      : `  ${label}: p50 ${fmtMs(s.p50Ms)} ms, p90 ${fmtMs(s.p90Ms)} ms, p99 ${fmtMs(s.p99Ms)} ms, ` +
        `max ${fmtMs(s.maxMs)} ms (N = ${s.count})`;
  const lines = [
    'media plane',
    '-----------',
    'Against the embedded relay in its own process, over its MediaMTX-compatible API (loopback).',
    row('path create (PathManager.ensure: get + add)', report.pathCreate),
    row('path delete', report.pathDelete),
    row(
      'path create -> stream ready (on-demand ffmpeg test pattern, DESCRIBE + API)',
      report.createToReady,
    ),
    ...report.readyErrors.map((e) => `  not ready: ${e}`),
  ];
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const mediaSection: Section = {
  name: 'media',
  summary: 'media plane: camera path create/delete latency, and path creation to stream ready',
  async run(context) {
    const report: MediaReport = {
      settings: {
        creates: Math.round(envNumber(context.env, 'BENCH_MEDIA_CREATES', 500, 100_000)),
        readySamples: Math.round(envNumber(context.env, 'BENCH_MEDIA_READY', 10, 1000)),
        warmupCreates: WARMUP_CREATES,
      },
      pathCreate: null,
      pathDelete: null,
      createToReady: null,
      readyErrors: [],
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
