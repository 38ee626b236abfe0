/**
 * The "sdk" section: what the TypeScript SDK costs over a raw WebSocket, and its download
 * throughput beside curl, through the real service (a child process) on loopback:
 *
 *   - ping through the SDK (CameraServiceClient.ping) and through a raw `ws` socket that
 *     writes the JSON-RPC text itself and matches replies by id, on one authenticated
 *     connection each, at C=1 (one call after the other) and C=100 (100 calls in flight);
 *     runs alternate, so both saw the same machine;
 *   - downloadFile of a recording into a file, and `curl -o` of the same file with the
 *     same credential, alternately, several times.
 *
 * Environment: BENCH_SDK_CALLS (calls per run, default 20,000), BENCH_SDK_RUNS (runs per
 * client and concurrency, default 3), BENCH_SDK_MB (default 100), BENCH_SDK_DOWNLOADS
 * (runs per downloader, default 5).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CameraServiceClient } from '@camera-service/sdk';
import { makeCredentials } from './auth.js';
import { curlDownload, writeRandomFile } from './download-fixture.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { startServer, type ServerHandle } from './server-process.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

const FILE = 'camera9_2026-01-01_00-00-00_001.mp4';

interface CallRun {
  callsPerSecond: number;
  latency: LatencySummary;
}

export interface SdkReport {
  settings: { calls: number; runs: number; megabytes: number; downloads: number };
  calls: Record<'raw' | 'sdk', Record<'c1' | 'c100', CallRun[]>>;
  download: { sdk: number[]; curl: number[]; curlError: string | null };
  error: string | null;
}

const say = (text: string) => process.stderr.write(`[bench] sdk: ${text}\n`);

/** Something that can ping: the SDK, or the raw socket below. */
type Pinger = () => Promise<unknown>;

/** A raw JSON-RPC client on one `ws` socket: the least a client can do. */
async function rawClient(url: string, token: string): Promise<{ ping: Pinger; close: () => void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const pending = new Map<number, (value: unknown) => void>();
  let next = 1;
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (typeof message.id !== 'number') return;
    const resolve = pending.get(message.id);
    pending.delete(message.id);
    resolve?.(
      message.error ? Promise.reject(new Error(JSON.stringify(message.error))) : message.result,
    );
  });
  const call = (method: string, params?: unknown) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  await call('authenticate', { auth_token: token });
  return { ping: () => call('ping'), close: () => ws.close() };
}

/** `calls` pings with `concurrency` in flight; throughput and each call's latency. */
async function drive(ping: Pinger, calls: number, concurrency: number): Promise<CallRun> {
  const latency = new LatencyRecorder();
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < calls) {
      issued += 1;
      const t0 = performance.now();
      const answer = await ping();
      latency.record(performance.now() - t0);
      if (answer !== 'pong') throw new Error(`ping answered ${JSON.stringify(answer)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { callsPerSecond: calls / seconds, latency: latency.summary() };
}

async function measure(context: SectionContext, report: SdkReport): Promise<void> {
  const { calls, runs, megabytes, downloads } = report.settings;
  const dir = context.scratchDir;
  const recordings = join(dir, 'recordings');
  mkdirSync(recordings, { recursive: true });
  const bytes = writeRandomFile(join(recordings, FILE), megabytes);
  const credentials = await makeCredentials(join(dir, 'api-keys.json'));
  let server: ServerHandle | undefined;
  let sdk: CameraServiceClient | undefined;
  let raw: Awaited<ReturnType<typeof rawClient>> | undefined;
  try {
    server = await startServer({
      repoRoot: context.repoRoot,
      scratchDir: dir,
      maxConnections: 10,
      maxConnectionsPerIp: 10,
      startTimeoutMs: 30_000,
      jwtSecret: credentials.jwtSecret,
      apiKeysFile: credentials.apiKeysFile,
      rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 },
    });
    sdk = new CameraServiceClient({
      url: server.wsUrl,
      authToken: credentials.adminJwt,
      requestTimeoutMs: 30_000,
    });
    await sdk.connect();
    raw = await rawClient(server.wsUrl, credentials.adminJwt);
    const pingers = { sdk: () => sdk!.ping(), raw: raw.ping };
    // Warm-up: JIT, buffers.
    await drive(pingers.sdk, 2000, 10);
    await drive(pingers.raw, 2000, 10);
    for (const [key, concurrency] of [
      ['c1', 1],
      ['c100', 100],
    ] as const) {
      say(`${runs} runs of ${calls} pings at C=${concurrency}, raw and SDK in turn`);
      for (let i = 0; i < runs; i += 1) {
        report.calls.raw[key].push(await drive(pingers.raw, calls, concurrency));
        report.calls.sdk[key].push(await drive(pingers.sdk, calls, concurrency));
      }
    }

    say(`downloading ${megabytes} MB ${downloads} times with the SDK and with curl`);
    const httpUrl = `${server.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '')}/files/recordings/${FILE}`;
    const out = join(dir, 'out');
    mkdirSync(out, { recursive: true });
    const viaSdk = async () => {
      const to = join(out, 'sdk.mp4');
      const started = performance.now();
      const result = await sdk!.downloadFile('recordings', FILE, { to });
      const seconds = (performance.now() - started) / 1000;
      if (result.size !== bytes) throw new Error(`the SDK downloaded ${result.size} bytes`);
      rmSync(to);
      return bytes / 1e6 / seconds;
    };
    const viaCurl = async () => {
      const to = join(out, 'curl.mp4');
      const mbs = curlDownload(httpUrl, credentials.adminJwt, to, bytes);
      rmSync(to);
      return mbs;
    };
    await viaSdk();
    try {
      await viaCurl();
    } catch (error) {
      report.download.curlError = (error as Error).message;
    }
    for (let i = 0; i < downloads; i += 1) {
      report.download.sdk.push(await viaSdk());
      if (!report.download.curlError) report.download.curl.push(await viaCurl());
    }
  } finally {
    raw?.close();
    await sdk?.close().catch(() => undefined);
    await server?.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN);
}

function format(report: SdkReport): string {
  const lines = ['sdk', '---'];
  lines.push('The real service on loopback; one authenticated connection per client; ping.');
  for (const key of ['c1', 'c100'] as const) {
    const row = (who: 'raw' | 'sdk') => {
      const runs = report.calls[who][key];
      if (runs.length === 0) return null;
      return {
        rate: median(runs.map((r) => r.callsPerSecond)),
        p50: median(runs.map((r) => r.latency.p50Ms)),
        p99: median(runs.map((r) => r.latency.p99Ms)),
      };
    };
    const raw = row('raw');
    const sdk = row('sdk');
    if (!raw || !sdk) continue;
    const c = key === 'c1' ? 1 : 100;
    lines.push(
      `  C=${c}: raw ws ${raw.rate.toFixed(0)} calls/s (p50 ${raw.p50.toFixed(3)} ms, p99 ${raw.p99.toFixed(3)} ms); SDK ${sdk.rate.toFixed(0)} calls/s (p50 ${sdk.p50.toFixed(3)} ms, p99 ${sdk.p99.toFixed(3)} ms); SDK overhead ${(((raw.rate - sdk.rate) / raw.rate) * 100).toFixed(1)}% of throughput, ${((sdk.p50 - raw.p50) * 1000).toFixed(0)} µs at p50`,
    );
  }
  const { sdk, curl, curlError } = report.download;
  const mbs = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
  if (sdk.length) {
    lines.push(
      `  download ${report.settings.megabytes} MB, SDK downloadFile to a file: median ${median(sdk).toFixed(0)} MB/s (runs: ${mbs(sdk)})`,
    );
  }
  if (curl.length) {
    lines.push(`  download, curl -o: median ${median(curl).toFixed(0)} MB/s (runs: ${mbs(curl)})`);
  } else if (curlError) {
    lines.push(`  download, curl: not measured (${curlError})`);
  }
  if (report.error) lines.push(`  ERROR: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const sdkSection: Section = {
  name: 'sdk',
  summary: 'the TypeScript SDK over a raw WebSocket (C=1, C=100), its downloads beside curl',
  run(context) {
    const report: SdkReport = {
      settings: {
        calls: envNumber(context.env, 'BENCH_SDK_CALLS', 20_000, 10_000_000),
        runs: envNumber(context.env, 'BENCH_SDK_RUNS', 3, 100),
        megabytes: envNumber(context.env, 'BENCH_SDK_MB', 100, 10_000),
        downloads: envNumber(context.env, 'BENCH_SDK_DOWNLOADS', 5, 100),
      },
      calls: { raw: { c1: [], c100: [] }, sdk: { c1: [], c100: [] } },
      download: { sdk: [], curl: [], curlError: null },
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
