export { HealthRegistry, aggregate } from './registry.js';
export type {
  ComponentEntry,
  ComponentReport,
  HealthComponent,
  HealthStatus,
  SystemReport,
} from './registry.js';
export { ServiceMetrics, certificateNotAfter } from './metrics.js';
export type { CallObservation, CpuUsage, DropListener, RequestTotals } from './metrics.js';
export { healthHandler } from './server.js';
export type { HealthRoutesOptions } from './server.js';
