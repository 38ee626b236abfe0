/**
 * The "files" section: what the file methods and downloads cost, through the real service
 * (a child process) on a scratch recordings directory:
 *
 *   - list_recordings over 10,000 recordings: the first call of each sort order (the
 *     catalog sorts, then keeps the view), then a steady run cycling the four orders and
 *     paging through the directory; one authenticated client, calls one after the other;
 *   - HTTP download of a 200 MB recording over loopback, from the service and from nginx
 *     (Debian's, started here on a free port with sendfile on) serving the same file, each
 *     read in full by the same client in this process, alternately, several times.
 *
 * Environment: BENCH_FILES_COUNT (default 10,000), BENCH_FILES_CALLS (default 1,000),
 * BENCH_FILES_MB (default 200), BENCH_FILES_DOWNLOADS (runs per server, default 9).
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CameraServiceClient } from '@camera-service/sdk';
import { startNginx as startSharedNginx } from '@camera-service/server/dist/test/helpers/nginx.js';
import { makeCredentials } from './auth.js';
import { writeRandomFile } from './download-fixture.js';
import { terminate, track } from './children.js';
import { fmtMs } from './format.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { startServer, type ServerHandle } from './server-process.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

const SORTS = ['newest', 'oldest', 'name', 'largest'] as const;
const BIG = 'camera9_2026-01-01_00-00-00_001.mp4';

export interface FilesReport {
  settings: { files: number; calls: number; megabytes: number; downloads: number };
  firstCallMs: Record<string, number>;
  list: LatencySummary | null;
  service: { mbPerSecond: number[]; median: number } | null;
  nginx: { mbPerSecond: number[]; median: number; version: string } | null;
  nginxError: string | null;
  error: string | null;
}

const say = (text: string) => process.stderr.write(`[bench] files: ${text}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Reads a URL to the end, counting bytes; resolves with MB/s (10^6 bytes). */
function download(url: string, headers: Record<string, string>, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${url} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        if (bytes !== expected) reject(new Error(`${url}: ${bytes} of ${expected} bytes`));
        else resolve(bytes / 1e6 / ((performance.now() - started) / 1000));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** nginx serving `root` on a free port (the shared test helper), `sendfile on` as in production. */
async function startNginx(
  root: string,
  dir: string,
): Promise<{ url: string; child: ChildProcess; version: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const nginx = await startSharedNginx(
    dir,
    [
      '  sendfile on;',
      '  tcp_nopush on;',
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
    ].join('\n'),
    port,
  );
  track(nginx.child);
  return {
    url: `http://127.0.0.1:${port}/`,
    child: nginx.child,
    version: nginx.version,
    stop: nginx.stop,
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function measure(context: SectionContext, report: FilesReport): Promise<void> {
  const { files, calls, megabytes, downloads } = report.settings;
  const dir = context.scratchDir;
  const recordings = join(dir, 'recordings');
  mkdirSync(recordings, { recursive: true });
  say(`writing ${files} recordings and one of ${megabytes} MB`);
  const base = Date.parse('2026-01-01T00:00:00Z') / 1000;
  for (let i = 0; i < files; i += 1) {
    const name = `camera${i % 8}_2026-01-01_00-00-00_${String(i).padStart(6, '0')}.mp4`;
    writeFileSync(join(recordings, name), Buffer.alloc(i % 1000));
    utimesSync(join(recordings, name), base + i, base + i);
  }
  const bigBytes = writeRandomFile(join(recordings, BIG), megabytes);

  const credentials = await makeCredentials(join(dir, 'api-keys.json'));
  let server: ServerHandle | undefined;
  let client: CameraServiceClient | undefined;
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    server = await startServer({
      repoRoot: context.repoRoot,
      scratchDir: dir,
      maxConnections: 10,
      maxConnectionsPerIp: 10,
      startTimeoutMs: 30_000,
      jwtSecret: credentials.jwtSecret,
      apiKeysFile: credentials.apiKeysFile,
      rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
    });
    client = new CameraServiceClient({
      url: server.wsUrl,
      requestTimeoutMs: 30_000,
      authToken: credentials.adminJwt,
    });
    await client.connect();

    say(`list_recordings: first call per sort order, then ${calls} calls`);
    for (const sort of SORTS) {
      const started = performance.now();
      const page = (await client.request('list_recordings', { sort })) as { total: number };
      report.firstCallMs[sort] = performance.now() - started;
      if (page.total !== files + 1) throw new Error(`listed ${page.total} of ${files + 1} files`);
    }
    const list = new LatencyRecorder();
    for (let i = 0; i < calls; i += 1) {
      const sort = SORTS[i % SORTS.length];
      const offset = (i * 100) % files;
      const started = performance.now();
      await client.request('list_recordings', { sort, offset, limit: 100 });
      list.record(performance.now() - started);
    }
    report.list = list.summary();

    say(`downloading ${megabytes} MB ${downloads} times from the service and from nginx`);
    const httpBase = server.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '');
    const serviceUrl = `${httpBase}/files/recordings/${BIG}`;
    const auth = { authorization: `Bearer ${credentials.adminJwt}` };
    try {
      nginx = await startNginx(recordings, join(dir, 'nginx'));
    } catch (error) {
      report.nginxError = (error as Error).message;
    }
    const ours: number[] = [];
    const theirs: number[] = [];
    // Warm up both first (page cache, connections, JIT), so neither pays for a first time.
    await download(serviceUrl, auth, bigBytes);
    if (nginx) await download(`${nginx.url}${BIG}`, {}, bigBytes);
    for (let i = 0; i < downloads; i += 1) {
      ours.push(await download(serviceUrl, auth, bigBytes));
      if (nginx) theirs.push(await download(`${nginx.url}${BIG}`, {}, bigBytes));
    }
    report.service = { mbPerSecond: ours, median: median(ours) };
    if (nginx)
      report.nginx = { mbPerSecond: theirs, median: median(theirs), version: nginx.version };
  } finally {
    if (nginx) await terminate(nginx.child, 2000);
    await client?.close().catch(() => undefined);
    await server?.stop();
  }
}

function format(report: FilesReport): string {
  const lines = ['files', '-----'];
  lines.push(
    `The real service with ${report.settings.files.toLocaleString('en')} recordings (+ one of ${report.settings.megabytes} MB) in its recordings directory; one admin client on loopback.`,
  );
  const first = Object.entries(report.firstCallMs)
    .map(([sort, ms]) => `${sort} ${fmtMs(ms)}`)
    .join(', ');
  if (first)
    lines.push(`  list_recordings, first call per sort order (sorts, then keeps): ${first} ms`);
  const s = report.list;
  if (s) {
    lines.push(
      `  list_recordings, 100 per page, orders and pages in turn: p50 ${fmtMs(s.p50Ms)} ms, p99 ${fmtMs(s.p99Ms)} ms, max ${fmtMs(s.maxMs)} ms (N = ${s.count})`,
    );
  }
  const mbs = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
  if (report.service) {
    lines.push(
      `  download, the service: median ${report.service.median.toFixed(0)} MB/s (runs: ${mbs(report.service.mbPerSecond)})`,
    );
  }
  if (report.nginx) {
    lines.push(
      `  download, ${report.nginx.version} (sendfile): median ${report.nginx.median.toFixed(0)} MB/s (runs: ${mbs(report.nginx.mbPerSecond)})`,
    );
  } else if (report.nginxError) {
    lines.push(`  download, nginx: not measured (${report.nginxError})`);
  }
  lines.push('Targets:');
  const target = (ok: boolean, text: string) => `  [${ok ? 'MET' : 'NOT MET'}] ${text}`;
  if (s)
    lines.push(
      target(s.p99Ms < 20, `list_recordings p99 < 20 ms on 10,000 files (${fmtMs(s.p99Ms)} ms)`),
    );
  if (report.service && report.nginx) {
    // Runs alternate, so each pair saw the same machine: judged on the median of the pairs'
    // ratios, which a noisy neighbour slowing one whole pair does not move.
    const nginx = report.nginx.mbPerSecond;
    const ratios = report.service.mbPerSecond.map((v, i) => v / (nginx[i] ?? Infinity));
    const ratio = median(ratios);
    lines.push(
      target(
        ratio >= 0.7,
        `download at least 70 % of nginx's MB/s (median of ${ratios.length} paired runs: ${(ratio * 100).toFixed(0)} %; pairs ${ratios.map((r) => (r * 100).toFixed(0)).join(', ')} %)`,
      ),
    );
  }
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const filesSection: Section = {
  name: 'files',
  summary: 'list_recordings on 10,000 files; download throughput beside nginx',
  async run(context) {
    const report: FilesReport = {
      settings: {
        files: Math.round(envNumber(context.env, 'BENCH_FILES_COUNT', 10_000, 1_000_000)),
        calls: Math.round(envNumber(context.env, 'BENCH_FILES_CALLS', 1000, 1_000_000)),
        megabytes: Math.round(envNumber(context.env, 'BENCH_FILES_MB', 200, 10_000)),
        downloads: Math.round(envNumber(context.env, 'BENCH_FILES_DOWNLOADS', 9, 100)),
      },
      firstCallMs: {},
      list: null,
      service: null,
      nginx: null,
      nginxError: null,
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
