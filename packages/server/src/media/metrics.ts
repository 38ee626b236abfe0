/** The media plane's Prometheus metrics. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState } from './breaker.js';

export type MediaMetrics = ReturnType<typeof createMediaMetrics>;

export function createMediaMetrics(registry: Registry) {
  const breaker = new Gauge({
    name: 'camera_service_mediamtx_breaker_state',
    help: 'The media server circuit breaker: 1 for the current state.',
    labelNames: ['state'],
    registers: [registry],
  });
  return {
    up: new Gauge({
      name: 'camera_service_mediamtx_up',
      help: 'Whether the media server answered its last health check (1) or not (0).',
      registers: [registry],
    }),
    checkFailures: new Counter({
      name: 'camera_service_mediamtx_check_failures_total',
      help: 'Failed media server health checks.',
      registers: [registry],
    }),
    restarts: new Counter({
      name: 'camera_service_mediamtx_restarts_total',
      help: 'Media server restarts: managed (the service restarted it) or detected (a new start time).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    reapplied: new Counter({
      name: 'camera_service_mediamtx_paths_reapplied_total',
      help: 'Camera paths re-created after the media server came back.',
      registers: [registry],
    }),
    setBreaker(state: BreakerState) {
      for (const s of ['closed', 'open', 'half_open'] as const)
        breaker.set({ state: s }, s === state ? 1 : 0);
    },
  };
}
