/**
 * What the orchestrator (run.ts) and the load generator (load.ts) exchange: the
 * parameters go to the child as one JSON argument, the result comes back as one JSON
 * line on its stdout. Shared here so both sides agree at compile time.
 */
import type { LatencySummary } from './stats.js';

/** sdk: the project's CameraServiceClient; raw: a bare `ws` socket, to price the SDK's overhead. */
export type ClientKind = 'sdk' | 'raw';

/** closed: one request in flight per client; open: requests sent on a fixed schedule. */
export type LoadMode = 'closed' | 'open';

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
}

export interface LoadResult {
  mode: LoadMode;
  client: ClientKind;
  clients: number;
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
