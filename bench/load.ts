/**
 * The load generator, run as its own process so that it does not share an event loop
 * (or a CPU) with the server it measures.
 *
 *   node bench/dist/load.js '<LoadParams as JSON>'
 *
 * Opens the connections, runs one workload, and prints one JSON line (a LoadResult) on
 * stdout. Failures go to stderr with a non-zero exit. It never outlives its budget, nor
 * its parent: when stdin is a pipe (as run.ts starts it), its end means the parent died.
 * Every connection authenticates with the JWT in BENCH_AUTH_TOKEN before the warm-up.
 */
import { exitWithParent, fail as failAs, requireEnv } from './child-side.js';
import { openConnection, type RpcConnection } from './connections.js';
import { AUTH_TOKEN_ENV, BENCH_METHODS, type BenchMethod, type LoadParams } from './protocol.js';
import { runWorkload } from './workload.js';

const CONNECT_TIMEOUT_MS = 5000;
const CLOSE_WITHIN_MS = 1000;
/**
 * Beyond the workload's own timeline: connecting and authenticating (each bounded by
 * CONNECT_TIMEOUT_MS), closing, and slack.
 */
const OVERHEAD_MS = 2 * CONNECT_TIMEOUT_MS + CLOSE_WITHIN_MS + 4000;

function parseParams(text: string | undefined): LoadParams {
  if (text === undefined) throw new Error("usage: load.js '<LoadParams JSON>'");
  const raw = JSON.parse(text) as Record<string, unknown>;
  const number = (key: keyof LoadParams, min: number): number => {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new Error(
        `parameter ${key}: expected a number >= ${min}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const oneOf = <T extends string>(key: keyof LoadParams, values: readonly T[]): T => {
    const value = raw[key];
    if (!values.includes(value as T)) {
      throw new Error(`parameter ${key}: expected one of ${values.join(', ')}`);
    }
    return value as T;
  };
  if (typeof raw.url !== 'string' || !/^wss?:\/\//.test(raw.url)) {
    throw new Error('parameter url: expected a ws:// URL');
  }
  const methods = raw.methods;
  if (
    methods !== undefined &&
    (!Array.isArray(methods) ||
      methods.length === 0 ||
      !methods.every((m) => BENCH_METHODS.includes(m as BenchMethod)))
  ) {
    throw new Error(`parameter methods: expected a non-empty list of ${BENCH_METHODS.join(', ')}`);
  }
  return {
    url: raw.url,
    clients: Math.floor(number('clients', 1)),
    mode: oneOf('mode', ['closed', 'open'] as const),
    client: oneOf('client', ['sdk', 'raw'] as const),
    warmupMs: number('warmupMs', 0),
    durationMs: number('durationMs', 1),
    rate: number('rate', 0),
    drainMs: number('drainMs', 1),
    serverPid: Math.floor(number('serverPid', 1)),
    ...(methods !== undefined && { methods: methods as BenchMethod[] }),
  };
}

const fail = (message: string): never => failAs('load', message);

async function main(): Promise<void> {
  const params = parseParams(process.argv[2]);
  if (params.mode === 'open' && params.rate <= 0) throw new Error('open mode needs a rate above 0');
  const budgetMs = params.warmupMs + params.durationMs + params.drainMs + OVERHEAD_MS;
  setTimeout(() => fail(`still running after ${budgetMs} ms; giving up`), budgetMs).unref();
  exitWithParent('load');
  const authToken = requireEnv(AUTH_TOKEN_ENV);

  const settled = await Promise.allSettled(
    Array.from({ length: params.clients }, () =>
      openConnection(params.client, params.url, CONNECT_TIMEOUT_MS, authToken),
    ),
  );
  const connections = settled
    .filter((s): s is PromiseFulfilledResult<RpcConnection> => s.status === 'fulfilled')
    .map((s) => s.value);
  const refused = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (refused) {
    await Promise.all(connections.map((c) => c.close(CLOSE_WITHIN_MS)));
    const reason: unknown = refused.reason;
    throw new Error(
      `${params.clients - connections.length} of ${params.clients} connections failed: ` +
        (reason instanceof Error ? reason.message : String(reason)),
    );
  }

  const result = await runWorkload(connections, params);
  await Promise.all(connections.map((c) => c.close(CLOSE_WITHIN_MS)));
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
