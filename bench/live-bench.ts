/**
 * The "live" section: the dashboard's low-latency path on the embedded relay, fMP4 over
 * the WebSocket /streams/<path>/mse, through the real service (a child process) and a
 * declared test pattern (320x240, 10 fps, GOP 1 s) carrying the clock code:
 *
 *   - server CPU per live viewer: 1, 4 and 16 raw WebSocket clients reading, the CPU time
 *     of the service and every process under it (the camera's encoder, the relay, the
 *     fMP4 producer) over a fixed interval, in percent of one core;
 *   - time to first fragment: connect to the first moof, with the stream idle (producer
 *     and camera started on demand) and with it running (another viewer on it);
 *   - the path's latency without a browser: the received fMP4 decoded by ffmpeg as it
 *     arrives, each frame's clock code read back: capture to decoded frame at the client.
 *
 * Environment: BENCH_LIVE_SECONDS (the CPU interval per viewer count, default 10),
 * BENCH_LIVE_SAMPLES (first-fragment samples, default 5).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { decodeClockCode } from '@camera-service/server';
import { makeCredentials } from './auth.js';
import { track } from './children.js';
import { fmtMs } from './format.js';
import { readCpuSeconds } from './proc.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { startServer } from './server-process.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

const CAMERA = 'live0';
const CONFIG = [
  'cameras:',
  `  - id: ${CAMERA}`,
  '    test_pattern: { size: 320x240, fps: 10, clock: false, clock_code: true }',
  'mediamtx:',
  '  on_demand_close_after_seconds: 1',
  '',
].join('\n');
const COUNTS = [1, 4, 16] as const;

interface CpuRow {
  viewers: number;
  /** The service and its descendants, percent of one core. */
  totalPercent: number;
  /** Fragments a viewer received per second (each should get all 10). */
  fragmentsPerSecondPerViewer: number;
}

export interface LiveReport {
  settings: { seconds: number; samples: number };
  cpu: CpuRow[];
  firstFragmentIdle: LatencySummary | null;
  firstFragmentRunning: LatencySummary | null;
  latency: LatencySummary | null;
  error: string | null;
}

/** The process and every process under it. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return out;
}

function treeCpu(root: number): Map<number, number> {
  return new Map(tree(root).map((pid) => [pid, readCpuSeconds(pid) ?? 0]));
}

interface Client {
  ws: WebSocket;
  fragments: number;
  firstFragment: Promise<number>;
}

function viewer(url: string, onData?: (data: Buffer) => void): Client {
  const started = performance.now();
  const ws = new WebSocket(url);
  const client: Client = { ws, fragments: 0, firstFragment: Promise.resolve(0) };
  client.firstFragment = new Promise((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const buffer = data as Buffer;
      onData?.(buffer);
      if (buffer.toString('latin1', 4, 8) === 'moof') {
        client.fragments += 1;
        if (client.fragments === 1) resolve(performance.now() - started);
      }
    });
    ws.on('close', (code) => reject(new Error(`closed with ${code} before a fragment`)));
    ws.on('error', reject);
  });
  client.firstFragment.catch(() => undefined);
  return client;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(context: SectionContext, report: LiveReport): Promise<void> {
  const say = (text: string) => process.stderr.write(`[bench] live: ${text}\n`);
  const configFile = join(context.scratchDir, 'live.yml');
  writeFileSync(configFile, CONFIG);
  const credentials = await makeCredentials(join(context.scratchDir, 'api-keys.json'));
  const server = await startServer({
    repoRoot: context.repoRoot,
    scratchDir: context.scratchDir,
    maxConnections: 100,
    maxConnectionsPerIp: 100,
    startTimeoutMs: 20_000,
    jwtSecret: credentials.jwtSecret,
    apiKeysFile: credentials.apiKeysFile,
    rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    configFile,
  });
  const base = server.wsUrl.replace(/\/ws$/, '');
  const url = `${base}/streams/${CAMERA}/mse?token=${credentials.adminJwt}`;
  const open: Client[] = [];
  const closeAll = async () => {
    for (const c of open.splice(0)) c.ws.terminate();
    await sleep(2500); // the producer and the camera stop (close-after 5 s / 1 s)
  };
  try {
    say(`time to first fragment, idle stream (${report.settings.samples} samples)`);
    const idle = new LatencyRecorder();
    for (let i = 0; i < report.settings.samples; i += 1) {
      const c = viewer(url);
      open.push(c);
      idle.record(await c.firstFragment);
      for (const x of open.splice(0)) x.ws.terminate();
      // The producer stops 5 s after its last viewer, the camera 1 s after its last reader.
      await sleep(7500);
    }
    report.firstFragmentIdle = idle.summary();

    say('time to first fragment, stream running');
    const keep = viewer(url);
    open.push(keep);
    await keep.firstFragment;
    const running = new LatencyRecorder();
    for (let i = 0; i < report.settings.samples; i += 1) {
      const c = viewer(url);
      running.record(await c.firstFragment);
      c.ws.terminate();
      await sleep(300);
    }
    report.firstFragmentRunning = running.summary();

    say('latency: capture -> decoded at the client (ffmpeg decoding the fMP4 as it arrives)');
    const lags = new LatencyRecorder();
    const decoder = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay'],
        ...['-probesize', '32', '-analyzeduration', '0', '-f', 'mp4', '-i', 'pipe:0'],
        ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    track(decoder);
    const frame = 320 * 240 * 3;
    let pending = Buffer.alloc(0);
    let frames = 0;
    decoder.stdout.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= frame) {
        const at = Date.now();
        const when = decodeClockCode(pending.subarray(0, frame), 320, 3);
        frames += 1;
        // The first second is the GOP the viewer starts with (older by design).
        if (when !== null && frames > 12) lags.record(at - when);
        pending = pending.subarray(frame);
      }
    });
    decoder.stdin.on('error', () => undefined);
    const probe = viewer(url, (data) => decoder.stdin.write(data));
    await probe.firstFragment;
    await sleep(6000);
    probe.ws.terminate();
    decoder.stdin.end();
    decoder.kill('SIGTERM');
    report.latency = lags.summary();
    await closeAll();

    for (const count of COUNTS) {
      say(`CPU with ${count} viewer(s) for ${report.settings.seconds} s`);
      const clients = Array.from({ length: count }, () => viewer(url));
      open.push(...clients);
      await Promise.all(clients.map((c) => c.firstFragment));
      await sleep(1500); // settle: every viewer past its first GOP
      const before = treeCpu(server.pid);
      const fragments0 = clients.reduce((n, c) => n + c.fragments, 0);
      const t0 = performance.now();
      await sleep(report.settings.seconds * 1000);
      const elapsed = (performance.now() - t0) / 1000;
      const after = treeCpu(server.pid);
      let seconds = 0;
      for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
      const fragments = clients.reduce((n, c) => n + c.fragments, 0) - fragments0;
      report.cpu.push({
        viewers: count,
        totalPercent: Math.round((seconds / elapsed) * 1000) / 10,
        fragmentsPerSecondPerViewer: Math.round((fragments / count / elapsed) * 10) / 10,
      });
      await closeAll();
    }
  } finally {
    for (const c of open) c.ws.terminate();
    await server.stop();
  }
}

function format(report: LiveReport): string {
  const row = (label: string, s: LatencySummary | null) =>
    s === null
      ? `  ${label}: n/a`
      : `  ${label}: p50 ${fmtMs(s.p50Ms)} ms, p99 ${fmtMs(s.p99Ms)} ms, max ${fmtMs(s.maxMs)} ms (N = ${s.count})`;
  const lines = [
    'live',
    '----',
    'The dashboard’s low-latency path on the embedded relay: fMP4 over /streams/<path>/mse, test pattern 320x240 10 fps, GOP 1 s, x264 zerolatency; raw WebSocket viewers on loopback.',
    row(
      'time to first fragment, idle stream (camera and producer start)',
      report.firstFragmentIdle,
    ),
    row('time to first fragment, stream running', report.firstFragmentRunning),
    row('capture -> frame decoded at the client (ffmpeg, no browser)', report.latency),
    '  server CPU (service + relay + camera encoder + fMP4 producer), percent of one core:',
  ];
  const one = report.cpu.find((r) => r.viewers === 1);
  for (const r of report.cpu) {
    const marginal =
      one && r.viewers > 1
        ? `, ${((r.totalPercent - one.totalPercent) / (r.viewers - 1)).toFixed(2)} % per extra viewer`
        : '';
    lines.push(
      `    ${String(r.viewers).padStart(2)} viewer(s): ${r.totalPercent.toFixed(1)} %${marginal}; ${r.fragmentsPerSecondPerViewer} fragments/s each`,
    );
  }
  const p50 = report.latency?.p50Ms ?? Infinity;
  lines.push(
    'Targets:',
    `  [${p50 < 1000 ? 'MET' : 'NOT MET'}] capture to decoded frame p50 < 1 s`,
  );
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const liveSection: Section = {
  name: 'live',
  summary: 'the MSE live path: server CPU per viewer (1, 4, 16), first fragment, latency',
  async run(context) {
    const report: LiveReport = {
      settings: {
        seconds: envNumber(context.env, 'BENCH_LIVE_SECONDS', 10, 3600),
        samples: Math.round(envNumber(context.env, 'BENCH_LIVE_SAMPLES', 5, 100)),
      },
      cpu: [],
      firstFragmentIdle: null,
      firstFragmentRunning: null,
      latency: null,
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
