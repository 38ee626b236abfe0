/**
 * The "rpc" section: WebSocket JSON-RPC throughput and latency of the real server.
 *
 * Starts the server as a child process, then for each client count runs a load
 * generator in another child process (so neither shares an event loop with the other
 * or with the orchestrator), samples the server's memory, and reports:
 *   - closed loop at C = 1, 10, 100: one request in flight per client, ping and
 *     get_server_info alternately; measures capacity;
 *   - open loop at C = 100 paced at BENCH_RATE: measures latency at a fixed load, which
 *     the closed loop cannot (at saturation its latency is just C / throughput);
 *   - authenticate: what verifying a JWT and an API key costs in-process (here, before
 *     the server starts), and what one `authenticate` call costs over the wire against
 *     a ping baseline (auth-load.js, one connection, one call in flight).
 * The server requires authentication: each run makes a random JWT secret and an API key
 * for it, and every connection authenticates once with an admin JWT before its warm-up.
 * The per-connection rate limit is set far above any rate reached, so that the numbers
 * are the RPC path's, not the limiter's.
 *
 * Environment: BENCH_SECONDS (window per run, default 5), BENCH_RATE (open-loop total
 * rate, default 15000), BENCH_REPEATS (paced runs, judged on their median p99, default 3),
 * BENCH_CLIENT (sdk | raw, default sdk).
 */ import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { CameraServiceClient } from '@camera-service/sdk';
import { makeCredentials, measureVerifyCost, type BenchCredentials } from './auth.js';
import { runAuthLoad, runLoad } from './load-process.js';
import { readMemory, watchMemory, type MemorySample } from './proc.js';
import {
  API_KEY_ENV,
  AUTH_LOAD_BUDGET_MS,
  AUTH_TOKEN_ENV,
  type AuthWireParams,
  type ClientKind,
  type LoadMode,
  type LoadParams,
} from './protocol.js';
import {
  TARGET_CLIENTS,
  evaluateTargets,
  formatReport,
  type AuthReport,
  type BenchReport,
  type RunRecord,
} from './report.js';
import { envNumber, UsageError, type Section, type SectionContext } from './section.js';
import { startServer, type ServerHandle } from './server-process.js';

const CLOSED_LOOP_CLIENTS = [1, 10, TARGET_CLIENTS];
const WARMUP_MS = 1000;
/** How long replies may trail the window before they count as lost. */
const DRAIN_MS = 5000;
/** Room for C=100 plus the metrics connection, and whatever a slow close leaves behind. */
const MAX_CONNECTIONS = 200;
/**
 * Every connection comes from 127.0.0.1, so the per-address cap (default 20) would
 * refuse most of C=100; set above MAX_CONNECTIONS, the total is the only cap.
 */
const MAX_CONNECTIONS_PER_IP = 300;
/**
 * The per-connection token bucket (default 100/s, bursts of 200) would throttle every
 * closed-loop client; this is far above what one connection can send, so the bench
 * measures the RPC path with its (cheap) limiter check, never a refusal.
 */
const RATE_LIMIT = { requestsPerSecond: 10_000_000, burst: 10_000_000 };
/** In-process verifications of each credential, and the unmeasured ones before them. */
const VERIFY_CALLS = 20_000;
const VERIFY_WARMUP = 2_000;
/** Over-the-wire calls per phase (ping, JWT, API key), and the warm-up before each. */
const WIRE_AUTH_CALLS = 5_000;
const WIRE_AUTH_WARMUP = 500;
const WIRE_CALL_TIMEOUT_MS = 5000;
const SERVER_START_TIMEOUT_MS = 15_000;
const MEMORY_SAMPLE_MS = 200;

interface Settings {
  seconds: number;
  rate: number;
  repeats: number;
  client: ClientKind;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const client = env.BENCH_CLIENT ?? 'sdk';
  if (client !== 'sdk' && client !== 'raw') {
    throw new UsageError(`BENCH_CLIENT=${client}: expected sdk or raw`);
  }
  return {
    seconds: envNumber(env, 'BENCH_SECONDS', 5, 600),
    rate: envNumber(env, 'BENCH_RATE', 15_000, 1_000_000),
    repeats: Math.round(envNumber(env, 'BENCH_REPEATS', 3, 20)),
    client,
  };
}

async function measure(
  loadScript: string,
  server: ServerHandle,
  settings: Settings,
  authToken: string,
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
  const result = await runLoad(loadScript, params, authToken).finally(() => {
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

/** What one authenticate costs over the wire, from a fresh process like the load runs. */
async function measureWireAuth(
  authLoadScript: string,
  server: ServerHandle,
  settings: Settings,
  credentials: BenchCredentials,
): Promise<AuthReport['wire']> {
  const params: AuthWireParams = {
    url: server.wsUrl,
    client: settings.client,
    calls: WIRE_AUTH_CALLS,
    warmupCalls: WIRE_AUTH_WARMUP,
    callTimeoutMs: WIRE_CALL_TIMEOUT_MS,
    serverPid: server.pid,
  };
  process.stderr.write(
    `[bench] authenticate over the wire: ping, JWT, API key, ${WIRE_AUTH_CALLS} calls each\n`,
  );
  const env = { [AUTH_TOKEN_ENV]: credentials.adminJwt, [API_KEY_ENV]: credentials.apiKey };
  // The child gives up at its own budget; this allows it time to start and say so.
  const result = await runAuthLoad(authLoadScript, params, env, AUTH_LOAD_BUDGET_MS + 10_000);
  return { ...result, calls: WIRE_AUTH_CALLS, warmupCalls: WIRE_AUTH_WARMUP };
}

/** The server's own view, through the SDK as a user would see it (get_metrics needs admin). */
async function serverMetrics(url: string, authToken: string) {
  const client = new CameraServiceClient({
    url,
    connectTimeoutMs: 5000,
    requestTimeoutMs: 5000,
    authToken,
  });
  await client.connect();
  try {
    return await client.getMetrics();
  } finally {
    // The reply is what matters; a close handshake that stalls must not hold the run.
    await Promise.race([client.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

async function run(context: SectionContext): Promise<{ report: BenchReport; text: string }> {
  const settings = readSettings(context.env);
  const bin = join(context.repoRoot, 'packages', 'server', 'dist', 'src', 'bin.js');
  const loadScript = join(context.distDir, 'load.js');
  const authLoadScript = join(context.distDir, 'auth-load.js');
  const missing = [bin, loadScript, authLoadScript].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new UsageError(`${missing.join(' and ')} missing: build first (npx tsc -b)`);
  }
  let server: ServerHandle | undefined;
  const runs: RunRecord[] = [];
  let metrics: Awaited<ReturnType<typeof serverMetrics>>;
  let finalMemory: MemorySample | null;
  let auth: AuthReport;
  try {
    // Written before the server starts, so its first load of the keys file has the key.
    const credentials = await makeCredentials(join(context.scratchDir, 'api-keys.json'));
    process.stderr.write(
      `[bench] authenticate in-process: ${VERIFY_CALLS} verifications of each credential\n`,
    );
    // Before the server starts, so that nothing else of the benchmark competes with it.
    const verify = await measureVerifyCost(credentials, VERIFY_CALLS, VERIFY_WARMUP);
    server = await startServer({
      repoRoot: context.repoRoot,
      scratchDir: context.scratchDir,
      maxConnections: MAX_CONNECTIONS,
      maxConnectionsPerIp: MAX_CONNECTIONS_PER_IP,
      startTimeoutMs: SERVER_START_TIMEOUT_MS,
      jwtSecret: credentials.jwtSecret,
      apiKeysFile: credentials.apiKeysFile,
      rateLimit: RATE_LIMIT,
    });
    process.stderr.write(`[bench] server pid ${server.pid} at ${server.wsUrl}\n`);
    const token = credentials.adminJwt;
    for (const clients of CLOSED_LOOP_CLIENTS) {
      runs.push(await measure(loadScript, server, settings, token, 'closed', clients));
    }
    // The paced run is repeated: one run's p99 swings with a single GC pause on either
    // side, so the target is judged on the median of the repeats.
    for (let i = 0; i < settings.repeats; i += 1) {
      runs.push(await measure(loadScript, server, settings, token, 'open', TARGET_CLIENTS));
    }
    // Last, so the throughput runs keep the order (and server state) they always had.
    const wire = await measureWireAuth(authLoadScript, server, settings, credentials);
    auth = {
      rateLimit: RATE_LIMIT,
      maxConnectionsPerIp: MAX_CONNECTIONS_PER_IP,
      verify,
      wire,
    };
    metrics = await serverMetrics(server.wsUrl, token);
    finalMemory = readMemory(server.pid);
  } finally {
    await server?.stop();
  }

  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown CPU',
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
    auth,
  };
  return { report, text: formatReport(report) };
}

export const rpcSection: Section = {
  name: 'rpc',
  summary:
    'WebSocket JSON-RPC throughput and latency (closed and paced open loop), and what authenticating costs',
  run: async (context) => ({ ...(await run(context)), error: null }),
};
