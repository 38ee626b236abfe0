/**
 * Components report their own health; the registry aggregates them for /health/system,
 * /health/ready and get_status. A module registers itself when the composition root
 * creates it (media server, camera monitor, storage...).
 */

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ComponentReport {
  status: HealthStatus;
  /** What is wrong and what to do, when not healthy. */
  message?: string;
  details?: Record<string, unknown>;
}

export interface HealthComponent {
  readonly name: string;
  /** A critical component that is unhealthy makes the service unready and unhealthy. */
  readonly critical: boolean;
  check(): ComponentReport | Promise<ComponentReport>;
}

export interface ComponentEntry extends ComponentReport {
  critical: boolean;
}

export interface SystemReport {
  status: HealthStatus;
  timestamp: string;
  uptime_seconds: number;
  version: string;
  components: Record<string, ComponentEntry>;
}

const CHECK_TIMEOUT_MS = 2000;

export class HealthRegistry {
  readonly #components = new Map<string, HealthComponent>();
  readonly #version: string;
  readonly #startedAt = Date.now();
  #ready = false;
  #notReadyReason = 'the service is starting';

  constructor(options: { version: string }) {
    this.#version = options.version;
  }

  register(component: HealthComponent): void {
    if (this.#components.has(component.name)) {
      throw new Error(`health component ${component.name} is registered twice`);
    }
    this.#components.set(component.name, component);
  }

  names(): string[] {
    return [...this.#components.keys()];
  }

  /** The service's own readiness (started and not stopping). */
  setReady(ready: boolean, reason = 'the service is stopping'): void {
    this.#ready = ready;
    this.#notReadyReason = reason;
  }

  get uptimeSeconds(): number {
    return (Date.now() - this.#startedAt) / 1000;
  }

  async component(name: string): Promise<ComponentEntry | undefined> {
    const component = this.#components.get(name);
    return component ? runCheck(component) : undefined;
  }

  async report(): Promise<SystemReport> {
    const entries = await Promise.all(
      [...this.#components.values()].map(async (c) => [c.name, await runCheck(c)] as const),
    );
    const components = Object.fromEntries(entries);
    return {
      status: aggregate(Object.values(components)),
      timestamp: new Date().toISOString(),
      uptime_seconds: Math.round(this.uptimeSeconds * 10) / 10,
      version: this.#version,
      components,
    };
  }

  /** Ready when started and no critical component is unhealthy (other checks are not run). */
  async readiness(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = this.#ready ? [] : [this.#notReadyReason];
    const critical = [...this.#components.values()].filter((c) => c.critical);
    const entries = await Promise.all(
      critical.map(async (c) => [c.name, await runCheck(c)] as const),
    );
    for (const [name, entry] of entries) {
      if (entry.status === 'unhealthy') reasons.push(`${name}: ${entry.message ?? 'unhealthy'}`);
    }
    return { ready: reasons.length === 0, reasons };
  }
}

export function aggregate(entries: readonly ComponentEntry[]): HealthStatus {
  if (entries.some((e) => e.critical && e.status === 'unhealthy')) return 'unhealthy';
  if (entries.some((e) => e.status !== 'healthy')) return 'degraded';
  return 'healthy';
}

async function runCheck(component: HealthComponent): Promise<ComponentEntry> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentReport>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: 'unhealthy',
          message: `the health check did not answer within ${CHECK_TIMEOUT_MS} ms`,
        }),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    const report = await Promise.race([Promise.resolve().then(() => component.check()), timeout]);
    return { ...report, critical: component.critical };
  } catch (error) {
    return {
      status: 'unhealthy',
      message: `the health check failed: ${(error as Error).message}`,
      critical: component.critical,
    };
  } finally {
    clearTimeout(timer);
  }
}
