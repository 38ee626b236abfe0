/**
 * The "python" section: what the Python SDK (sdk-python/) gets from the real service (a
 * child process) on loopback, measured by sdk-python/bench/bench_sdk.py run with Debian's
 * python3:
 *
 *   - ping calls per second through one client (one WebSocket), at concurrency 1 and 10
 *     (that many asyncio tasks calling one after the other), with p50 and p99 latency;
 *   - download_file of a recording (BENCH_PYTHON_MB MiB, default 100) to a scratch file,
 *     beside curl fetching the same URL with the same token to a file, alternately.
 *
 * Environment: BENCH_PYTHON_SECONDS (per concurrency, default 5), BENCH_PYTHON_MB
 * (default 100), BENCH_PYTHON_DOWNLOADS (runs per client, default 3), TEST_PYTHON (the
 * interpreter; default /usr/bin/python3).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeCredentials } from './auth.js';
import { curlDownload, writeRandomFile } from './download-fixture.js';
import { terminate, track } from './children.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { startServer, type ServerHandle } from './server-process.js';

const BIG = 'camera9_2026-01-01_00-00-00_001.mp4';

interface CallFigures {
  concurrency: number;
  calls: number;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
}

export interface PythonReport {
  settings: { seconds: number; megabytes: number; downloads: number; python: string };
  calls: CallFigures[];
  sdk: { mbPerSecond: number[]; median: number } | null;
  curl: { mbPerSecond: number[]; median: number } | null;
  error: string | null;
}

const say = (text: string) => process.stderr.write(`[bench] python: ${text}\n`);

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Runs the bench script; resolves with the JSON it printed. Bounded by `timeoutMs`. */
function runScript(context: SectionContext, python: string, args: string[], timeoutMs: number) {
  const script = join(context.repoRoot, 'sdk-python', 'bench', 'bench_sdk.py');
  return new Promise<unknown>((resolve, reject) => {
    const child = spawn(python, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
    const timer = setTimeout(() => void terminate(child, 1000), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`bench_sdk.py ${args[0]} exited with ${code}: ${err}`));
      else {
        try {
          resolve(JSON.parse(out));
        } catch {
          reject(new Error(`bench_sdk.py ${args[0]} printed no JSON: ${out.slice(0, 200)}`));
        }
      }
    });
  });
}

async function measure(context: SectionContext, report: PythonReport): Promise<void> {
  const { seconds, megabytes, downloads, python } = report.settings;
  const dir = context.scratchDir;
  const recordings = join(dir, 'recordings');
  mkdirSync(recordings, { recursive: true });
  const bytes = writeRandomFile(join(recordings, BIG), megabytes);

  const credentials = await makeCredentials(join(dir, 'api-keys.json'));
  let server: ServerHandle | undefined;
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
    const token = credentials.adminJwt;
    say(`ping through the SDK for ${seconds} s at concurrency 1 and 10`);
    const calls = (await runScript(
      context,
      python,
      ['calls', server.wsUrl, token, String(seconds), '1', '10'],
      (seconds * 2 + 30) * 1000,
    )) as { calls: CallFigures[] };
    report.calls = calls.calls;

    say(`downloading ${megabytes} MiB ${downloads} times with download_file and with curl`);
    const url = `${server.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '')}/files/recordings/${BIG}`;
    const to = join(dir, 'copy.mp4');
    const sdkRun = async () => {
      rmSync(to, { force: true });
      const r = (await runScript(
        context,
        python,
        ['download', server!.wsUrl, token, BIG, to],
        120_000,
      )) as {
        bytes: number;
        mb_per_second: number;
      };
      if (r.bytes !== bytes) throw new Error(`download_file: ${r.bytes} of ${bytes} bytes`);
      return r.mb_per_second;
    };
    const curlRun = () => {
      rmSync(to, { force: true });
      return curlDownload(url, token, to, bytes);
    };
    // Warm up both (page cache), then alternate, so each pair saw the same machine.
    await sdkRun();
    curlRun();
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < downloads; i += 1) {
      ours.push(await sdkRun());
      theirs.push(curlRun());
    }
    report.sdk = { mbPerSecond: ours, median: median(ours) };
    report.curl = { mbPerSecond: theirs, median: median(theirs) };
    rmSync(to, { force: true });
  } finally {
    await server?.stop();
  }
}

function format(report: PythonReport): string {
  const lines = ['python', '------'];
  lines.push(
    `The Python SDK (${report.settings.python}) against the real service on loopback; one admin client, one WebSocket.`,
  );
  for (const c of report.calls) {
    lines.push(
      `  ping, concurrency ${c.concurrency}: ${c.per_second.toFixed(0)} calls/s, p50 ${c.p50_ms.toFixed(2)} ms, p99 ${c.p99_ms.toFixed(2)} ms (N = ${c.calls})`,
    );
  }
  const mbs = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
  if (report.sdk && report.curl) {
    lines.push(
      `  download ${report.settings.megabytes} MiB, download_file: median ${report.sdk.median.toFixed(0)} MB/s (runs: ${mbs(report.sdk.mbPerSecond)})`,
      `  download ${report.settings.megabytes} MiB, curl: median ${report.curl.median.toFixed(0)} MB/s (runs: ${mbs(report.curl.mbPerSecond)})`,
      `  download_file / curl: ${((report.sdk.median / report.curl.median) * 100).toFixed(0)} %`,
    );
  }
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const pythonSection: Section = {
  name: 'python',
  summary: 'Python SDK: ping calls/s at C=1 and C=10; download_file beside curl',
  async run(context) {
    const python =
      context.env.TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
    const report: PythonReport = {
      settings: {
        seconds: envNumber(context.env, 'BENCH_PYTHON_SECONDS', 5, 600),
        megabytes: Math.round(envNumber(context.env, 'BENCH_PYTHON_MB', 100, 10_000)),
        downloads: Math.round(envNumber(context.env, 'BENCH_PYTHON_DOWNLOADS', 3, 100)),
        python,
      },
      calls: [],
      sdk: null,
      curl: null,
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
