/**
 * `npm run bench`: WebSocket JSON-RPC throughput and latency of the real server.
 *
 * Starts the server as a child process, then for each client count runs a load
 * generator in another child process (so neither shares an event loop with the other
 * or with this orchestrator), samples the server's memory, and reports:
 *   - closed loop at C = 1, 10, 100: one request in flight per client, ping and
 *     get_server_info alternately; measures capacity;
 *   - open loop at C = 100 paced at BENCH_RATE: measures latency at a fixed load, which
 *     the closed loop cannot (at saturation its latency is just C / throughput).
 * Writes everything to .bench/ws-rpc.json. Exits 0 when the benchmark ran, whether or
 * not the targets were met; non-zero only when it could not run.
 *
 * Environment: BENCH_SECONDS (window per run, default 5), BENCH_RATE (open-loop total
 * rate, default 15000), BENCH_REPEATS (paced runs, judged on their median p99, default 3),
 * BENCH_CLIENT (sdk | raw, default sdk).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CameraServiceClient } from '@camera-service/sdk';
import { killTracked } from './children.js';
import { runLoad } from './load-process.js';
import { readMemory, watchMemory, type MemorySample } from './proc.js';
import type { ClientKind, LoadMode, LoadParams } from './protocol.js';
import {
  TARGET_CLIENTS,
  evaluateTargets,
  formatReport,
  type BenchReport,
  type RunRecord,
} from './report.js';
import { startServer, type ServerHandle } from './server-process.js';

/** bench/dist/run.js → the repository root. */
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');
const LOAD_SCRIPT = join(HERE, 'load.js');
const OUTPUT = join(REPO_ROOT, '.bench', 'ws-rpc.json');

const CLOSED_LOOP_CLIENTS = [1, 10, TARGET_CLIENTS];
const WARMUP_MS = 1000;
/** How long replies may trail the window before they count as lost. */
const DRAIN_MS = 5000;
/** Room for C=100 plus the metrics connection, and whatever a slow close leaves behind. */
const MAX_CONNECTIONS = 200;
const SERVER_START_TIMEOUT_MS = 15_000;
const MEMORY_SAMPLE_MS = 200;

interface Settings {
  seconds: number;
  rate: number;
  repeats: number;
  client: ClientKind;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const positive = (name: string, fallback: number, max: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || value > max) {
      throw new UsageError(`${name}=${text}: expected a number above 0 and at most ${max}`);
    }
    return value;
  };
  const client = env.BENCH_CLIENT ?? 'sdk';
  if (client !== 'sdk' && client !== 'raw') {
    throw new UsageError(`BENCH_CLIENT=${client}: expected sdk or raw`);
  }
  return {
    seconds: positive('BENCH_SECONDS', 5, 600),
    rate: positive('BENCH_RATE', 15_000, 1_000_000),
    repeats: Math.round(positive('BENCH_REPEATS', 3, 20)),
    client,
  };
}

class UsageError extends Error {}

async function measure(
  server: ServerHandle,
  settings: Settings,
  mode: LoadMode,
  clients: number,
): Promise<RunRecord> {
  const params: LoadParams = {
    url: server.wsUrl,
    clients,
    mode,
    client: settings.client,
    warmupMs: WARMUP_MS,
    durationMs: settings.seconds * 1000,
    rate: mode === 'open' ? settings.rate : 0,
    drainMs: DRAIN_MS,
    serverPid: server.pid,
  };
  const label =
    mode === 'open'
      ? `open loop, C=${clients}, ${settings.rate} req/s`
      : `closed loop, C=${clients}`;
  process.stderr.write(
    `[bench] ${label} (${WARMUP_MS / 1000} s warm-up + ${settings.seconds} s)\n`,
  );
  const memory = watchMemory(server.pid, MEMORY_SAMPLE_MS);
  let peakRssMb: number | null = null;
  const result = await runLoad(LOAD_SCRIPT, params).finally(() => {
    peakRssMb = memory.stop();
  });
  const after = readMemory(server.pid);
  return {
    result,
    serverMemory: {
      peakRssMb,
      rssAfterMb: after?.rssMb ?? null,
      hwmAfterMb: after?.hwmMb ?? null,
    },
  };
}

/** The server's own view, through the SDK as a user would see it. */
async function serverMetrics(url: string) {
  const client = new CameraServiceClient({ url, connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
  await client.connect();
  try {
    return await client.getMetrics();
  } finally {
    // The reply is what matters; a close handshake that stalls must not hold the run.
    await Promise.race([client.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const bin = join(REPO_ROOT, 'packages', 'server', 'dist', 'src', 'bin.js');
  if (!existsSync(bin) || !existsSync(LOAD_SCRIPT)) {
    throw new UsageError(`${bin} or ${LOAD_SCRIPT} is missing: build first (npx tsc -b)`);
  }
  const scratchDir = mkdtempSync(join(tmpdir(), 'camera-service-bench-'));
  const cleanUp = () => {
    killTracked();
    rmSync(scratchDir, { recursive: true, force: true });
  };
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`[bench] ${signal}: stopping the server and the load generator\n`);
      cleanUp();
      process.exit(128 + number);
    });
  }

  let server: ServerHandle | undefined;
  const runs: RunRecord[] = [];
  let metrics: Awaited<ReturnType<typeof serverMetrics>>;
  let finalMemory: MemorySample | null;
  try {
    server = await startServer({
      repoRoot: REPO_ROOT,
      scratchDir,
      maxConnections: MAX_CONNECTIONS,
      startTimeoutMs: SERVER_START_TIMEOUT_MS,
    });
    process.stderr.write(`[bench] server pid ${server.pid} at ${server.wsUrl}\n`);
    for (const clients of CLOSED_LOOP_CLIENTS) {
      runs.push(await measure(server, settings, 'closed', clients));
    }
    // The paced run is repeated: one run's p99 swings with a single GC pause on either
    // side, so the target is judged on the median of the repeats.
    for (let i = 0; i < settings.repeats; i += 1) {
      runs.push(await measure(server, settings, 'open', TARGET_CLIENTS));
    }
    metrics = await serverMetrics(server.wsUrl);
    finalMemory = readMemory(server.pid);
  } finally {
    await server?.stop();
    cleanUp();
  }

  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      cpuModel,
      node: process.version,
      platform: process.platform,
    },
    settings: {
      ...settings,
      warmupSeconds: WARMUP_MS / 1000,
      drainSeconds: DRAIN_MS / 1000,
      memorySampleMs: MEMORY_SAMPLE_MS,
    },
    server: {
      wsUrl: server.wsUrl,
      healthUrl: server.healthUrl,
      finalMemory,
      metrics,
      problems: server.problems,
      problemCount: server.problemCount,
    },
    runs,
    targets: evaluateTargets(runs),
  };
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReport(report)}\nFull results: ${OUTPUT}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killTracked();
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[bench] failed: ${message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
