/**
 * The health port: liveness, readiness, system and per-component health, and Prometheus
 * metrics. Open without authentication so load balancers and systemd checks can use it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logging/index.js';
import { decodeSegment, sendJson, targetPath } from '../transport/index.js';
import type { ServiceMetrics } from './metrics.js';
import type { HealthRegistry } from './registry.js';

export interface HealthRoutesOptions {
  registry: HealthRegistry;
  metrics: ServiceMetrics;
  log: Logger;
  /**
   * Guards /metrics when set: answers the request itself and returns false when the
   * caller may not see it. /health/* always stays open.
   */
  guardMetrics?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

/** The request handler for the health server. */
export function healthHandler(options: HealthRoutesOptions) {
  const { registry, metrics, log, guardMetrics } = options;
  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((error: unknown) => {
      log.error({ err: error, url: req.url }, 'health request failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: 'The health check failed; see the service log.' });
      else res.destroy();
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = targetPath(req.url);
    if (raw === null) {
      sendJson(res, 400, { error: 'The request target is not a path; try /health/system.' });
      return;
    }
    const pathname = raw.replace(/\/+$/, '') || '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(
        res,
        405,
        { error: `Method ${req.method} is not allowed here; use GET.` },
        { allow: 'GET, HEAD' },
      );
      return;
    }
    if (pathname === '/health/live') {
      sendJson(res, 200, { status: 'alive', uptime_seconds: Math.round(registry.uptimeSeconds) });
      return;
    }
    if (pathname === '/health/ready') {
      const { ready, reasons } = await registry.readiness();
      sendJson(
        res,
        ready ? 200 : 503,
        ready ? { status: 'ready' } : { status: 'not_ready', reasons },
      );
      return;
    }
    if (pathname === '/health/system' || pathname === '/health') {
      const report = await registry.report();
      sendJson(res, report.status === 'unhealthy' ? 503 : 200, report);
      return;
    }
    if (pathname.startsWith('/health/')) {
      const name = decodeSegment(pathname.slice('/health/'.length));
      const entry = name === null ? undefined : await registry.component(name);
      if (entry) {
        sendJson(res, entry.status === 'unhealthy' ? 503 : 200, { component: name, ...entry });
        return;
      }
    }
    if (pathname === '/metrics') {
      if (guardMetrics && !(await guardMetrics(req, res))) return;
      const { contentType, body } = await metrics.exposition();
      res.writeHead(200, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const known = [
      '/health/live',
      '/health/ready',
      '/health/system',
      ...registry.names().map((n) => `/health/${n}`),
      '/metrics',
    ];
    sendJson(res, 404, { error: `Nothing here; try ${known.join(', ')}.` });
  }
}
