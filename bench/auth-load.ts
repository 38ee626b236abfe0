/**
 * What one `authenticate` costs over the wire, in its own process like load.ts:
 *
 *   BENCH_AUTH_TOKEN=<admin JWT> BENCH_API_KEY=<key> node bench/dist/auth-load.js '<AuthWireParams>'
 *
 * Opens one connection (authenticated with the JWT, so ping is allowed), then runs three
 * phases on it, one call in flight: ping (the baseline round trip), authenticate with the
 * JWT, authenticate with the API key. Each phase has its own warm-up. Re-authenticating
 * an open connection is what a client does when its token is renewed, and it isolates
 * the credential check from the WebSocket handshake. Prints one AuthWireResult line.
 */
import { performance } from 'node:perf_hooks';
import { exitWithParent, fail as failAs, requireEnv } from './child-side.js';
import { openConnection, type RpcConnection } from './connections.js';
import { startCpuMeter } from './proc.js';
import {
  API_KEY_ENV,
  AUTH_LOAD_BUDGET_MS,
  AUTH_TOKEN_ENV,
  type AuthWireCall,
  type AuthWireParams,
  type AuthWirePhase,
  type AuthWireResult,
} from './protocol.js';
import { LatencyRecorder } from './stats.js';

const CONNECT_TIMEOUT_MS = 5000;
const CLOSE_WITHIN_MS = 1000;
const MAX_ERROR_SAMPLES = 5;

const fail = (message: string): never => failAs('auth-load', message);

function parseParams(text: string | undefined): AuthWireParams {
  if (text === undefined) throw new Error("usage: auth-load.js '<AuthWireParams JSON>'");
  const raw = JSON.parse(text) as Record<string, unknown>;
  const number = (key: keyof AuthWireParams, min: number): number => {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new Error(
        `parameter ${key}: expected a whole number >= ${min}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  if (typeof raw.url !== 'string' || !/^wss?:\/\//.test(raw.url)) {
    throw new Error('parameter url: expected a ws:// URL');
  }
  if (raw.client !== 'sdk' && raw.client !== 'raw') {
    throw new Error('parameter client: expected sdk or raw');
  }
  return {
    url: raw.url,
    client: raw.client,
    calls: number('calls', 1),
    warmupCalls: number('warmupCalls', 0),
    callTimeoutMs: number('callTimeoutMs', 1),
    serverPid: number('serverPid', 1),
  };
}

/** Warm-up, then `calls` measured calls back to back; errors are counted, not fatal. */
async function phase(
  call: AuthWireCall,
  invoke: () => Promise<void>,
  connection: RpcConnection,
  params: AuthWireParams,
): Promise<AuthWirePhase> {
  let errors = 0;
  const errorSamples = new Set<string>();
  const attempt = async (): Promise<boolean> => {
    try {
      await invoke();
      return true;
    } catch (error) {
      errors += 1;
      if (errorSamples.size < MAX_ERROR_SAMPLES) {
        errorSamples.add(error instanceof Error ? error.message : String(error));
      }
      // Failing instantly on a dead connection would make a meaningless phase of errors.
      if (!connection.isOpen) throw new Error(`connection lost during ${call}`);
      return false;
    }
  };
  for (let i = 0; i < params.warmupCalls; i += 1) await attempt();
  const latency = new LatencyRecorder();
  const stopCpu = startCpuMeter(params.serverPid);
  const start = performance.now();
  for (let i = 0; i < params.calls; i += 1) {
    const sentAt = performance.now();
    if (await attempt()) latency.record(performance.now() - sentAt);
  }
  const elapsedMs = performance.now() - start;
  const cpu = stopCpu();
  return {
    call,
    calls: latency.count,
    errors,
    errorSamples: [...errorSamples],
    elapsedMs: Math.round(elapsedMs * 10) / 10,
    callsPerSecond: Math.round(latency.count / (elapsedMs / 1000)),
    latency: latency.summary(),
    serverCpuPercent: cpu.processPercent,
    serverCpuUsPerCall:
      cpu.processSeconds === null || params.calls === 0
        ? null
        : Math.round((cpu.processSeconds / params.calls) * 1e6),
    otherCpuPercent: cpu.otherPercent,
    stealCpuPercent: cpu.stealPercent,
  };
}

async function main(): Promise<void> {
  const params = parseParams(process.argv[2]);
  setTimeout(
    () => fail(`still running after ${AUTH_LOAD_BUDGET_MS} ms; giving up`),
    AUTH_LOAD_BUDGET_MS,
  ).unref();
  exitWithParent('auth-load');
  const jwt = requireEnv(AUTH_TOKEN_ENV);
  const apiKey = requireEnv(API_KEY_ENV);

  const connection = await openConnection(params.client, params.url, CONNECT_TIMEOUT_MS, jwt);
  const timeout = params.callTimeoutMs;
  const phases: AuthWirePhase[] = [];
  try {
    // Sequential on purpose: one call in flight measures the round trip, not a queue.
    phases.push(await phase('ping', () => connection.call('ping', timeout), connection, params));
    phases.push(
      await phase(
        'authenticate_jwt',
        () => connection.authenticate(jwt, timeout),
        connection,
        params,
      ),
    );
    phases.push(
      await phase(
        'authenticate_api_key',
        () => connection.authenticate(apiKey, timeout),
        connection,
        params,
      ),
    );
  } finally {
    await connection.close(CLOSE_WITHIN_MS);
  }
  const result: AuthWireResult = { client: params.client, phases };
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
