import type { HealthRegistry, ServiceMetrics } from '../health/index.js';
import type { MethodRegistry } from '../rpc/index.js';
import { getMetrics, getServerInfo, getStatus, ping } from './contracts.js';

export interface ServerIdentity {
  name: string;
  version: string;
  apiVersion: string;
  /** Capabilities and formats are contributed by the modules the app wires in. */
  capabilities: readonly string[];
  supportedFormats: readonly string[];
}

export interface SystemDeps {
  identity: ServerIdentity;
  methods: MethodRegistry;
  health: HealthRegistry;
  metrics: ServiceMetrics;
  connections: () => number;
  limits: () => {
    max_message_bytes: number;
    max_batch_requests: number;
    max_connections: number;
    max_cameras: number;
  };
}

export function registerSystemMethods(deps: SystemDeps): void {
  const { identity, methods, health, metrics } = deps;

  methods.register(ping, () => 'pong' as const);

  methods.register(getServerInfo, () => {
    const { max_cameras, ...limits } = deps.limits();
    return {
      name: identity.name,
      version: identity.version,
      api_version: identity.apiVersion,
      capabilities: [...identity.capabilities],
      supported_formats: [...identity.supportedFormats],
      max_cameras,
      methods: [...methods.names()],
      limits,
    };
  });

  methods.register(getStatus, async () => {
    const report = await health.report();
    return {
      status: report.status,
      uptime: report.uptime_seconds,
      version: report.version,
      components: report.components,
    };
  });

  methods.register(getMetrics, () => {
    const memory = process.memoryUsage();
    return {
      active_connections: deps.connections(),
      ...metrics.requestTotals(),
      memory_usage: {
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        heap_total_bytes: memory.heapTotal,
      },
      cpu_usage: metrics.cpuUsage(),
      uptime_seconds: Math.round(health.uptimeSeconds * 10) / 10,
    };
  });
}
