/**
 * `npm run bench -- dashboard`: the dashboard's figures, in Debian's Chromium against the
 * service with a 320x240 10 fps test pattern carrying the clock code:
 *   - time to first frame per player path (a fresh page each run),
 *   - glass-to-glass latency per path (the clock code read back from presented frames),
 *   - server CPU per live viewer on the low-latency path (MSE over WebSocket) at 1, 4 and
 *     16 viewers: the service process plus the stream's fMP4 producer (ffmpeg), the
 *     WebSocket readers in a child process so their own cost is not counted (the capture's
 *     ffmpeg, the same with or without viewers, is not counted either),
 *   - the bundle's size against its budget.
 * WebRTC needs a MediaMTX media plane, which the embedded relay is not: with MEDIAMTX_BIN
 * pointing at a MediaMTX binary, a second service in managed mode runs with it and the
 * webrtc path (WHEP through the service) is measured there the same way; without it the
 * path is reported as not measured. Settings: DASHBOARD_BENCH_RUNS (default 3),
 * DASHBOARD_BENCH_CPU_SECONDS (default 10), MEDIAMTX_BIN.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundle, type BundleReport } from '@camera-service/web/dist/scripts/bundle.js';
import {
  median,
  measureLatency,
  newContext,
  signIn,
  startDashboard,
  waitPlaying,
  type Dashboard,
} from '@camera-service/web/dist/test/e2e/harness.js';
import { formatColumns } from './format.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';

interface PathFigures {
  path: 'mse' | 'hls' | 'webrtc';
  measured: boolean;
  note: string | null;
  /** Every run's, in order: the first run starts the on-demand stream (cold). */
  firstFrameMs: number[];
  firstFrameColdMs: number | null;
  /** The later runs', the stream already running. */
  firstFrameMedianMs: number | null;
  latencyMedianMs: number | null;
  latencyP90Ms: number | null;
  frames: number;
}

interface CpuFigures {
  viewers: number;
  /** The service process and the producer together. */
  cpuPercent: number;
  producerPercent: number;
  perViewerPercent: number;
  bytesPerViewerPerSecond: number;
}

interface DashboardReport {
  bundle: BundleReport | null;
  paths: PathFigures[];
  cpu: { idlePercent: number | null; byViewers: CpuFigures[] };
  error: string | null;
}

function p90(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)] ?? null;
}

async function measurePath(
  d: Dashboard,
  path: PathFigures['path'],
  runs: number,
): Promise<PathFigures> {
  const figures: PathFigures = {
    path,
    measured: true,
    note: null,
    firstFrameMs: [],
    firstFrameColdMs: null,
    firstFrameMedianMs: null,
    latencyMedianMs: null,
    latencyP90Ms: null,
    frames: 0,
  };
  const token = await d.t.token('viewer');
  const latencies: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const context = await newContext(d.browser);
    try {
      const page = await context.newPage();
      await signIn(page, d.baseUrl, token, `?player=${path}`);
      const playing = await waitPlaying(page, 'test0', 60_000);
      figures.firstFrameMs.push(Math.round(playing.firstFrameMs));
      // Let the player settle at the live edge before reading the clock.
      await new Promise((r) => setTimeout(r, 2000));
      latencies.push(...(await measureLatency(page, 'test0', 30)));
    } finally {
      await context.close();
    }
  }
  figures.firstFrameColdMs = figures.firstFrameMs[0] ?? null;
  const warm = figures.firstFrameMs.slice(1);
  figures.firstFrameMedianMs = warm.length ? Math.round(median(warm)) : null;
  figures.frames = latencies.length;
  figures.latencyMedianMs = latencies.length ? Math.round(median(latencies)) : null;
  const high = p90(latencies);
  figures.latencyP90Ms = high === null ? null : Math.round(high);
  return figures;
}

/**
 * The webrtc path, on a service of its own in managed mode with the MediaMTX binary at
 * MEDIAMTX_BIN; not measured without one (the embedded relay has no WebRTC).
 */
async function measureWebrtc(context: SectionContext, runs: number): Promise<PathFigures> {
  const binary = context.env.MEDIAMTX_BIN;
  if (!binary) {
    return {
      path: 'webrtc',
      measured: false,
      note: 'n/a: needs MEDIAMTX_BIN',
      firstFrameMs: [],
      firstFrameColdMs: null,
      firstFrameMedianMs: null,
      latencyMedianMs: null,
      latencyP90Ms: null,
      frames: 0,
    };
  }
  const d = await startDashboard({
    mediamtx: { mode: 'managed', binary, rtsp_transports: ['tcp'] },
  });
  try {
    return await measurePath(d, 'webrtc', runs);
  } finally {
    await d.stop();
  }
}

/** N MSE readers in a child process for `seconds`; resolves with bytes each read per second. */
function readers(url: string, token: string, n: number, seconds: number, repoRoot: string) {
  const script = `
    import WebSocket from 'ws';
    const [url, token, n, seconds] = process.argv.slice(1);
    let bytes = 0; let open = 0;
    const sockets = [];
    for (let i = 0; i < Number(n); i++) {
      const ws = new WebSocket(url, { headers: { Authorization: 'Bearer ' + token } });
      ws.on('open', () => { open++; if (open === Number(n)) process.stdout.write('open\\n'); });
      ws.on('message', (data) => { bytes += data.length; });
      ws.on('error', (e) => { process.stderr.write(String(e.message) + '\\n'); process.exit(1); });
      sockets.push(ws);
    }
    process.stdin.on('data', () => {
      process.stdout.write(JSON.stringify({ bytes }) + '\\n');
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 100);
    });
  `;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, url, token, String(n), String(seconds)],
    { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let at;
    while ((at = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, at);
      out = out.slice(at + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) return resolve(line);
      const timer = setTimeout(() => reject(new Error('the MSE readers did not answer')), 30_000);
      waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  return {
    opened: next,
    async finish(): Promise<number> {
      child.stdin.write('x\n');
      const { bytes } = JSON.parse(await next()) as { bytes: number };
      return bytes;
    },
  };
}

/** CPU seconds a child has used (utime + stime from /proc, at the usual 100 ticks/s). */
function childCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * The service's CPU over `ms`, percent of a core: its own process and the stream's live
 * fMP4 producer (an ffmpeg child that remuxes the camera's stream for every viewer).
 */
async function cpuOver(d: Dashboard, ms: number): Promise<{ service: number; producer: number }> {
  const pid = d.t.app.mse.producers().get('test0')?.pid;
  const start = process.cpuUsage();
  const producerStart = childCpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(start);
  const elapsed = performance.now() - t0;
  const producer = ((childCpuSeconds(pid) - producerStart) * 1000 * 100) / elapsed;
  return { service: ((used.user + used.system) / 1000 / elapsed) * 100, producer };
}

async function measure(context: SectionContext, report: DashboardReport): Promise<void> {
  const runs = envNumber(context.env, 'DASHBOARD_BENCH_RUNS', 3, 20);
  const cpuSeconds = envNumber(context.env, 'DASHBOARD_BENCH_CPU_SECONDS', 10, 120);
  report.bundle = await bundle(`${context.scratchDir}/dist`);
  const d = await startDashboard();
  try {
    report.paths.push(await measurePath(d, 'mse', runs));
    report.paths.push(await measurePath(d, 'hls', Math.max(2, Math.min(runs, 3))));
    const token = await d.t.token('viewer');
    const url = `${d.baseUrl.replace(/^http/, 'ws')}streams/test0/mse`;
    // The stream kept running by one reader, so the idle figure has the capture in it.
    const keeper = readers(url, token, 1, cpuSeconds, context.repoRoot);
    await keeper.opened();
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await cpuOver(d, cpuSeconds * 1000);
    report.cpu.idlePercent = idle.service + idle.producer;
    await keeper.finish();
    for (const n of [1, 4, 16]) {
      const group = readers(url, token, n, cpuSeconds, context.repoRoot);
      await group.opened();
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = performance.now();
      const used = await cpuOver(d, cpuSeconds * 1000);
      const cpu = used.service + used.producer;
      const bytes = await group.finish();
      const seconds = (performance.now() - t0) / 1000;
      report.cpu.byViewers.push({
        viewers: n,
        cpuPercent: Math.round(cpu * 10) / 10,
        producerPercent: Math.round(used.producer * 10) / 10,
        perViewerPercent: Math.round((cpu / n) * 100) / 100,
        bytesPerViewerPerSecond: Math.round(bytes / n / seconds),
      });
    }
  } finally {
    await d.stop();
  }
  // After the embedded service has stopped, so its capture does not load the machine.
  report.paths.push(await measureWebrtc(context, runs));
}

function format(report: DashboardReport): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const lines = ['== dashboard'];
  if (report.bundle) {
    lines.push(
      `bundle: JS ${kb(report.bundle.jsBytes)}, ${kb(report.bundle.jsGzipBytes)} gzipped (budget ${kb(report.bundle.budgetGzipBytes)}); CSS ${kb(report.bundle.cssGzipBytes)} gzipped`,
    );
  }
  const ms = (n: number | null) => (n === null ? 'n/a' : String(n));
  lines.push(
    formatColumns(
      ['path', 'first frame ms: cold', 'warm (median)', 'glass-to-glass ms p50', 'p90', 'frames'],
      report.paths.map((p) => [
        p.measured ? p.path : `${p.path} (${p.note})`,
        ms(p.firstFrameColdMs),
        ms(p.firstFrameMedianMs),
        ms(p.latencyMedianMs),
        ms(p.latencyP90Ms),
        String(p.frames),
      ]),
      0,
    ),
  );
  if (report.cpu.idlePercent !== null) {
    lines.push(
      `service CPU (process and producer) with the stream running and one reader: ${report.cpu.idlePercent.toFixed(1)}% of a core`,
    );
  }
  if (report.cpu.byViewers.length > 0) {
    lines.push(
      formatColumns(
        [
          'MSE viewers',
          'server CPU %',
          'of it the producer %',
          'per viewer %',
          'bytes/s per viewer',
        ],
        report.cpu.byViewers.map((c) => [
          String(c.viewers),
          c.cpuPercent.toFixed(1),
          c.producerPercent.toFixed(1),
          c.perViewerPercent.toFixed(2),
          String(c.bytesPerViewerPerSecond),
        ]),
        0,
      ),
    );
  }
  lines.push(
    'cold: the first viewer, who starts the on-demand stream (capture start included); warm: the stream already running.',
  );
  if (report.error) lines.push(`error: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const dashboardSection: Section = {
  name: 'dashboard',
  summary:
    'dashboard in Chromium: first frame and glass-to-glass per path, CPU per MSE viewer, bundle size',
  run: (context) =>
    measured(
      context,
      { bundle: null, paths: [], cpu: { idlePercent: null, byViewers: [] }, error: null },
      measure,
      format,
    ),
};
