/** /health/mediamtx: which media server runs, why, and whether it answers. */
import type { RunningMedia } from './backend.js';
import type { ResolvedMode } from './mode.js';
import type { MonitorStatus } from './monitor.js';

export interface HealthInput {
  mode: ResolvedMode;
  running: RunningMedia | null;
  /** Paths the service wants. */
  paths: number;
  /** Whether the media server has /v3/info (MediaMTX v1.16+ and the relay; null: not asked yet). */
  hasInfo: boolean | null;
  /** The backend's own details (the managed process). */
  backend: Record<string, unknown>;
  status: MonitorStatus;
}

export function mediaHealthReport(input: HealthInput) {
  const { mode, running, status } = input;
  const details = {
    mode: mode.mode,
    requested_mode: mode.requested,
    reason: mode.reason,
    api_url: running?.client.baseUrl ?? null,
    ports: running?.ports ?? null,
    paths: input.paths,
    info_endpoint: input.hasInfo,
    ...input.backend,
    ...status,
  };
  if (status.reachable === false || status.breaker === 'open') {
    return {
      status: 'unhealthy' as const,
      message: `the media server does not answer (${status.last_error ?? 'unknown error'}); streams, snapshots and recordings are unavailable until it does`,
      details,
    };
  }
  if (status.breaker === 'half_open') {
    return {
      status: 'degraded' as const,
      message: 'the media server is answering again; waiting for it to stay up',
      details,
    };
  }
  return { status: 'healthy' as const, details };
}
