/**
 * What the orchestrator (run.ts) and its children (load.ts, auth-load.ts) exchange: the
 * parameters go to the child as one JSON argument, the result comes back as one JSON
 * line on its stdout. Shared here so both sides agree at compile time.
 *
 * Credentials travel in the child's environment instead: any local user can read a
 * process's arguments (ps), only its owner can read its environment.
 */
import type { LatencySummary } from './stats.js';

/** sdk: the project's CameraServiceClient; raw: a bare `ws` socket, to price the SDK's overhead. */
export type ClientKind = 'sdk' | 'raw';

/** closed: one request in flight per client; open: requests sent on a fixed schedule. */
export type LoadMode = 'closed' | 'open';

/**
 * The calls a workload may make, all without parameters: the cheapest one, one with a
 * real result, and the camera list (whose size grows with the cameras present).
 */
export const BENCH_METHODS = ['ping', 'get_server_info', 'get_camera_list'] as const;
export type BenchMethod = (typeof BENCH_METHODS)[number];

/** What a workload alternates between when LoadParams.methods is not given (the rpc section). */
export const DEFAULT_METHODS: readonly BenchMethod[] = ['ping', 'get_server_info'];

/** The admin JWT every benchmark connection authenticates with once, before its warm-up. */
export const AUTH_TOKEN_ENV = 'BENCH_AUTH_TOKEN';
/** The API key auth-load.ts authenticates with (a credential of the other kind). */
export const API_KEY_ENV = 'BENCH_API_KEY';

export interface LoadParams {
  url: string;
  clients: number;
  mode: LoadMode;
  client: ClientKind;
  warmupMs: number;
  durationMs: number;
  /** Total requests per second over all clients; open mode only. */
  rate: number;
  /** How long to wait for outstanding replies after the window before giving up on them. */
  drainMs: number;
  /** The server's pid, so its CPU time can be read over exactly the measurement window. */
  serverPid: number;
  /**
   * The methods called, in turn (each client starting at its own offset so that all are
   * in flight at any moment); DEFAULT_METHODS when absent.
   */
  methods?: BenchMethod[];
}

export interface LoadResult {
  mode: LoadMode;
  client: ClientKind;
  clients: number;
  /** The methods called, in turn. */
  methods: BenchMethod[];
  /** Measured length of the window in milliseconds (timers are never exact). */
  windowMs: number;
  /** Replies received inside the window. */
  completed: number;
  /** Replies received inside the window, per second. */
  requestsPerSecond: number;
  /** Requests sent inside the window (for open mode: scheduled inside it). */
  sent: number;
  /** Requests that failed at any time, warm-up included: error replies, timeouts, lost connections. */
  errors: number;
  /** A few distinct error messages, to say what went wrong without flooding the report. */
  errorSamples: string[];
  /** Closed: send to reply. Open: scheduled send time to reply (no coordinated omission). */
  latency: LatencySummary;
  /** Open mode only: actual send to reply, i.e. without the generator's own lateness. */
  serviceLatency: LatencySummary | null;
  /** Open mode only: how late the generator sent each request behind its schedule. */
  sendLag: LatencySummary | null;
  /** Target rate, open mode only. */
  targetRate: number | null;
  /** CPU used over the window, in percent of one core. */
  serverCpuPercent: number | null;
  loadCpuPercent: number;
  /**
   * CPU used by everything else on the machine over the window (same unit). Well above
   * zero means other processes competed with the benchmark and its numbers are low.
   */
  otherCpuPercent: number | null;
  /** CPU time the hypervisor withheld (steal), same unit; another sign of a noisy host. */
  stealCpuPercent: number | null;
}

/**
 * auth-load.ts's whole run: normally a few seconds (3 phases of 5,500 calls well under
 * 1 ms each). Here, not in auth-load.ts, because importing that file would run it.
 */
export const AUTH_LOAD_BUDGET_MS = 40_000;

/** auth-load.ts: sequential calls on one already authenticated connection. */
export interface AuthWireParams {
  url: string;
  client: ClientKind;
  /** Measured calls per phase. */
  calls: number;
  /** Unmeasured calls of the same kind before each phase, so JIT and caches are warm. */
  warmupCalls: number;
  callTimeoutMs: number;
  serverPid: number;
}

/** ping is the baseline round trip; the other two are `authenticate` with each credential. */
export type AuthWireCall = 'ping' | 'authenticate_jwt' | 'authenticate_api_key';

export interface AuthWirePhase {
  call: AuthWireCall;
  /** Measured calls that succeeded. */
  calls: number;
  /** Failed calls, warm-up included. */
  errors: number;
  errorSamples: string[];
  /** Wall time of the measured calls, back to back. */
  elapsedMs: number;
  callsPerSecond: number;
  /** Send to reply, one call in flight. */
  latency: LatencySummary;
  /** Over the measured calls, in percent of one core (see LoadResult). */
  serverCpuPercent: number | null;
  /** The server's CPU time over the measured calls, divided by them: what one call costs it. */
  serverCpuUsPerCall: number | null;
  otherCpuPercent: number | null;
  stealCpuPercent: number | null;
}

export interface AuthWireResult {
  client: ClientKind;
  phases: AuthWirePhase[];
}
