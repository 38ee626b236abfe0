/**
 * The media plane: which media server serves the streams (mode), starting and stopping
 * it, and everything the rest of the service asks of it (paths, readiness, stream URLs,
 * health). Whatever the mode, the service talks to it through one MediaMtxClient.
 *
 *   managed   the service runs the mediamtx binary with a configuration it writes
 *   external  something else runs MediaMTX; the service only connects
 *   embedded  packages/relay, in this process
 *   auto      managed when a mediamtx binary is found, else embedded
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Relay } from '@camera-service/relay';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConfigError, type Config } from '../config/index.js';
import type { HealthRegistry } from '../health/index.js';
import type { Logger } from '../logging/index.js';
import { AuthHookServer, type HookDecision, type HookRequest } from './auth-hook.js';
import { findMediaMtxBinary } from './binary.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { MediaMtxClient, type CallOptions, type PathConf, type PathStatus } from './client.js';
import { publishCommand, type CameraSource } from './command.js';
import { newMediaCredentials, withCredential, type MediaCredentials } from './credentials.js';
import { mediamtxConfig, writeMediaMtxConfig } from './mediamtx-config.js';
import { HealthMonitor, type RecoveryReason } from './monitor.js';
import { PathManager, type ReapplyResult } from './paths.js';
import { waitReady } from './readiness.js';
import { ProcessSupervisor } from './supervisor.js';

export type MediaMode = 'managed' | 'external' | 'embedded';

export interface ResolvedMode {
  mode: MediaMode;
  requested: Config['mediamtx']['mode'];
  /** Why this mode: logged at start and shown in get_status. */
  reason: string;
  binary: string | null;
}

/** The configured mode cannot run: a configuration error (the daemon exits 78). */
export class MediaModeError extends ConfigError {
  constructor(problem: string) {
    super([problem], 'of the media server');
    this.name = 'MediaModeError';
  }
}

/** Picks the mode; `find` is the binary lookup (injected by tests). */
export function resolveMode(
  config: Config,
  find: typeof findMediaMtxBinary = findMediaMtxBinary,
): ResolvedMode {
  const requested = config.mediamtx.mode;
  if (requested === 'embedded' || requested === 'external') {
    return { mode: requested, requested, reason: `mediamtx.mode is ${requested}`, binary: null };
  }
  let found;
  try {
    found = find(config.mediamtx.binary);
  } catch (error) {
    throw new MediaModeError((error as Error).message);
  }
  if (found) {
    const where = found.how === 'configured' ? 'mediamtx.binary' : 'PATH';
    return {
      mode: 'managed',
      requested,
      reason:
        requested === 'managed'
          ? `mediamtx.mode is managed; running ${found.path} (from ${where})`
          : `mediamtx.mode is auto and ${found.path} was found (from ${where})`,
      binary: found.path,
    };
  }
  if (requested === 'managed') {
    throw new MediaModeError(
      'mediamtx.mode is managed but no mediamtx binary was found: set mediamtx.binary to its path, put it on PATH, or use mode embedded or external.',
    );
  }
  return {
    mode: 'embedded',
    requested,
    reason:
      'mediamtx.mode is auto and no mediamtx binary was found (mediamtx.binary unset, none on PATH): the embedded relay serves the streams',
    binary: null,
  };
}

export interface MediaPlaneOptions {
  config: Config;
  log: Logger;
  health: HealthRegistry;
  registry: Registry;
  /** Overrides resolveMode (tests). */
  mode?: ResolvedMode;
  /**
   * Decides every stream action (publish, read, api...) the media server asks about:
   * in-process for the embedded relay, through the loopback hook for MediaMTX. Absent:
   * the media server's own rules (tests of the media plane alone).
   */
  authorize?: (request: HookRequest) => Promise<HookDecision>;
  /** auth.anonymous_viewing (live): whether stream URLs need a credential. */
  anonymousViewing?: () => boolean;
  /** The embedded relay closed or refused a connection to protect itself (metrics). */
  onDrop?: (listener: 'rtsp' | 'hls', reason: string) => void;
}

export interface StreamUrls {
  rtsp: string;
  /** null when the media server has no WebRTC (the embedded relay). */
  webrtc: string | null;
  hls: string;
  /** What reading them takes: a credential of this role, or null when anyone may watch. */
  credential: 'viewer' | null;
  /**
   * The same URLs carrying a credential, `{token}` standing for a JWT or API key, as
   * `?token=` (MediaMTX reads it on all three; ffmpeg cuts an RTSP password of more than
   * 127 bytes, and a JWT is longer). Null when none is needed.
   */
  token_urls: { rtsp: string; webrtc: string | null; hls: string } | null;
}

/** Where a viewer's own address for the service came from: the Host it used, and TLS. */
export interface ClientView {
  host: string | null;
  secure?: boolean;
}

export interface MediaPorts {
  api: number;
  rtsp: number;
  hls: number;
  webrtc: number | null;
}

export class MediaPlane {
  readonly mode: ResolvedMode;
  /** The service's own publisher, reader and API credentials, new at every start. */
  readonly credentials: MediaCredentials = newMediaCredentials();
  readonly breaker: CircuitBreaker;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #health: HealthRegistry;
  readonly #metrics: ReturnType<typeof createMetrics>;
  #client: MediaMtxClient | null = null;
  #paths: PathManager | null = null;
  #monitor: HealthMonitor | null = null;
  #relay: Relay | null = null;
  #supervisor: ProcessSupervisor | null = null;
  #ports: MediaPorts | null = null;
  #hook: AuthHookServer | null = null;
  readonly #authorize: MediaPlaneOptions['authorize'];
  readonly #anonymousViewing: () => boolean;
  readonly #onDrop: MediaPlaneOptions['onDrop'];
  #recovering: Promise<void> | null = null;
  #recoverAgain: RecoveryReason | null = null;
  #stopped = false;
  readonly #recoveredListeners = new Set<(names: string[], reason: RecoveryReason) => void>();

  constructor(options: MediaPlaneOptions) {
    this.#config = options.config;
    this.#log = options.log;
    this.#health = options.health;
    this.#authorize = options.authorize;
    this.#anonymousViewing = options.anonymousViewing ?? (() => false);
    this.#onDrop = options.onDrop;
    this.mode = options.mode ?? resolveMode(options.config);
    this.#metrics = createMetrics(options.registry);
    const m = options.config.mediamtx;
    this.breaker = new CircuitBreaker({
      failureThreshold: m.breaker_failure_threshold,
      successThreshold: m.breaker_success_threshold,
      openMs: m.breaker_open_seconds * 1000,
      onChange: (from, to) => {
        this.#log.warn({ from, to }, `media server circuit breaker ${to.replace('_', '-')}`);
        this.#metrics.setBreaker(to);
      },
    });
    this.#metrics.setBreaker('closed');
  }

  get client(): MediaMtxClient {
    if (!this.#client) throw new Error('the media plane has not started');
    return this.#client;
  }

  get paths(): PathManager {
    if (!this.#paths) throw new Error('the media plane has not started');
    return this.#paths;
  }

  get ports(): MediaPorts {
    if (!this.#ports) throw new Error('the media plane has not started');
    return this.#ports;
  }

  /** The in-process relay (embedded mode), for tests and the bench. */
  get relay(): Relay | null {
    return this.#relay;
  }

  /** The managed media server process (managed mode). */
  get supervisor(): ProcessSupervisor | null {
    return this.#supervisor;
  }

  get monitor(): HealthMonitor {
    if (!this.#monitor) throw new Error('the media plane has not started');
    return this.#monitor;
  }

  /** Called after paths were re-created following a media server restart or outage. */
  onRecovered(listener: (names: string[], reason: RecoveryReason) => void): () => void {
    this.#recoveredListeners.add(listener);
    return () => this.#recoveredListeners.delete(listener);
  }

  async start(): Promise<MediaPorts> {
    const m = this.#config.mediamtx;
    this.#log.info(
      { mode: this.mode.mode, requested: this.mode.requested, binary: this.mode.binary },
      `media server mode ${this.mode.mode}: ${this.mode.reason}`,
    );
    const clientLog = this.#log.child({ component: 'mediamtx-client' });
    const timeoutMs = m.api_timeout_seconds * 1000;
    if (this.mode.mode === 'embedded') {
      const relayLog = this.#log.child({ component: 'relay' });
      const authorize = this.#authorize;
      const relay = new Relay({
        host: m.listen_host,
        apiHost: '127.0.0.1',
        rtspPort: m.rtsp_port,
        apiPort: m.api_port,
        hlsPort: m.hls_port,
        maxConnections: m.rtsp_max_connections,
        mediamtxVersion: m.embedded_version,
        gopCache: m.embedded_gop_cache,
        readTimeoutMs: m.read_timeout_seconds * 1000,
        writeTimeoutMs: m.write_timeout_seconds * 1000,
        // The same checker MediaMTX reaches through the hook, called in-process.
        ...(authorize && {
          auth: async (request) => (await authorize(request)).allow,
        }),
        // The relay logs each drop with its reason itself; here it is counted.
        onDrop: (event) => this.#onDrop?.(event.listener, event.reason),
        log: (level, fields, message) => relayLog[level](fields, message),
      });
      const ports = await relay.start();
      this.#relay = relay;
      this.#ports = {
        api: ports.apiPort,
        rtsp: ports.rtspPort,
        hls: ports.hlsPort ?? 0,
        webrtc: null,
      };
      this.#client = new MediaMtxClient({
        baseUrl: `http://127.0.0.1:${ports.apiPort}`,
        log: clientLog,
        timeoutMs,
        username: this.credentials.api.user,
        password: this.credentials.api.password,
      });
    } else if (this.mode.mode === 'managed') {
      await this.#startHook();
      await this.#startManaged(clientLog, timeoutMs);
    } else {
      await this.#startHook();
      this.#ports = { api: m.api_port, rtsp: m.rtsp_port, hls: m.hls_port, webrtc: m.webrtc_port };
      // A MediaMTX that asks the service's hook (docs/operations.md) accepts the service's
      // own API credential; one with its own users takes the configured ones.
      const api =
        m.api_username !== null
          ? { username: m.api_username, password: m.api_password ?? '' }
          : { username: this.credentials.api.user, password: this.credentials.api.password };
      this.#client = new MediaMtxClient({
        baseUrl: `http://${urlHost(m.host)}:${m.api_port}`,
        log: clientLog,
        timeoutMs,
        ...api,
      });
    }
    this.#paths = new PathManager({
      client: this.#client!,
      log: this.#log.child({ component: 'paths' }),
    });
    this.#monitor = new HealthMonitor({
      client: this.#client!,
      breaker: this.breaker,
      log: this.#log.child({ component: 'mediamtx-monitor' }),
      intervalMs: m.health_check_interval_seconds * 1000,
      backoff: {
        initialMs: m.backoff_initial_seconds * 1000,
        maxMs: m.backoff_max_seconds * 1000,
        jitter: 0.2,
      },
    });
    this.#monitor.on('failed', () => this.#metrics.checkFailures.inc());
    this.#monitor.on('checked', () => this.#metrics.up.set(this.#monitor?.reachable ? 1 : 0));
    this.#monitor.on('recovered', (reason) => {
      if (reason === 'restarted') this.#metrics.restarts.inc({ kind: 'detected' });
      void this.#recover(reason);
    });
    this.#health.register({
      name: 'mediamtx',
      critical: true,
      check: () => this.#healthReport(),
    });
    await this.#monitor.start();
    return this.#ports!;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#monitor?.stop();
    await this.#recovering;
    await this.#supervisor?.stop();
    await this.#relay?.stop();
    await this.#hook?.stop();
    this.#client?.close();
  }

  /** The URL of the stream authorization hook MediaMTX posts to (managed and external modes). */
  get authHookUrl(): string | null {
    return this.#hook?.url ?? null;
  }

  /** Starts the loopback hook MediaMTX asks before every stream action, when the service decides. */
  async #startHook(): Promise<void> {
    const authorize = this.#authorize;
    if (!authorize) return;
    const hook = new AuthHookServer({
      check: authorize,
      log: this.#log.child({ component: 'stream-auth-hook' }),
    });
    await hook.start(this.#config.mediamtx.auth_hook_port);
    this.#hook = hook;
    this.#log.info({ url: hook.url }, 'stream authorization hook listening');
  }

  /**
   * The path configuration for a camera: its ffmpeg command on demand (V4L2 and test
   * patterns), or a pulled `source` (network cameras).
   */
  cameraPathConf(name: string, source: CameraSource | { kind: 'url'; url: string }): PathConf {
    if (source.kind === 'url') return { source: source.url };
    const m = this.#config.mediamtx;
    return {
      source: 'publisher',
      runOnDemand: publishCommand({
        source,
        codec: m.codec,
        stderrFile: this.stderrFile(name),
        publisher: this.credentials.publisher,
        ...(this.mode.mode !== 'external' && { publishHost: this.#localHost() }),
      }),
      runOnDemandRestart: true,
      runOnDemandStartTimeout: goDuration(m.on_demand_start_timeout_seconds),
      runOnDemandCloseAfter: goDuration(m.on_demand_close_after_seconds),
    };
  }

  /** Where a path's ffmpeg appends its stderr (emptied when the service starts the path). */
  stderrFile(name: string): string {
    const dir = resolve(this.#config.service.state_dir, 'streams');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${name}.log`);
  }

  /** Waits until the path is ready, starting it on demand; rejects with the reason. */
  waitReady(name: string, call?: CallOptions, timeoutMs?: number): Promise<PathStatus> {
    const m = this.#config.mediamtx;
    return waitReady({
      client: this.client,
      rtspBase: this.rtspBase(),
      name,
      timeoutMs: timeoutMs ?? (m.on_demand_start_timeout_seconds + 2) * 1000,
      stderrFile: this.stderrFile(name),
      ...(call && { call }),
    });
  }

  /**
   * rtsp://user:password@host:port where the service itself reads streams, with its own
   * reader credential (never shown to clients: `redact` in capture turns URLs into "the
   * stream", and log lines mask the password).
   */
  rtspBase(): string {
    const host = this.mode.mode === 'external' ? this.#config.mediamtx.host : this.#localHost();
    return withCredential(`rtsp://${urlHost(host)}:${this.ports.rtsp}`, this.credentials.reader);
  }

  /**
   * A media server the service runs listens for RTSP on listen_host: on loopback when that
   * is every address, else on that address only (where loopback reaches nothing).
   */
  #localHost(): string {
    const listen = this.#config.mediamtx.listen_host;
    return listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen;
  }

  /**
   * URLs for a client: on the host name the client used to reach the service (or
   * server.public_host), since 127.0.0.1 means nothing on the client's machine.
   */
  streamUrls(path: string, client: ClientView): StreamUrls {
    const host = urlHost(this.#config.server.public_host ?? client.host ?? this.#defaultHost());
    const ports = this.ports;
    // A client that reached the service over TLS (its own, or a proxy's) gets https URLs:
    // a page served over https cannot play http streams.
    const http = client.secure ? 'https' : 'http';
    const rtsp = `rtsp://${host}:${ports.rtsp}/${path}`;
    const webrtc = ports.webrtc === null ? null : `${http}://${host}:${ports.webrtc}/${path}/`;
    const hls = `${http}://${host}:${ports.hls}/${path}/index.m3u8`;
    const anonymous = this.#anonymousViewing();
    return {
      rtsp,
      webrtc,
      hls,
      credential: anonymous ? null : 'viewer',
      token_urls: anonymous
        ? null
        : {
            rtsp: `${rtsp}?token={token}`,
            webrtc: webrtc === null ? null : `${webrtc}?token={token}`,
            hls: `${hls}?token={token}`,
          },
    };
  }

  #defaultHost(): string {
    const listen = this.#config.mediamtx.listen_host;
    return listen === '0.0.0.0' || listen === '::' ? hostname() : listen;
  }

  async #startManaged(clientLog: Logger, timeoutMs: number): Promise<void> {
    const m = this.#config.mediamtx;
    const binary = this.mode.binary!;
    // MediaMTX has no "port 0": pick free ports here and write them into its config.
    const ports: MediaPorts = {
      api: m.api_port || (await freePort()),
      rtsp: m.rtsp_port || (await freePort()),
      hls: m.hls_port || (await freePort()),
      webrtc: m.webrtc_port || (await freePort()),
    };
    const stateDir = resolve(this.#config.service.state_dir);
    mkdirSync(stateDir, { recursive: true });
    const file = join(stateDir, 'mediamtx.yml');
    writeMediaMtxConfig(
      file,
      mediamtxConfig({
        apiPort: ports.api,
        rtspPort: ports.rtsp,
        hlsPort: ports.hls,
        webrtcPort: ports.webrtc ?? 0,
        listenHost: m.listen_host,
        apiUser: this.credentials.api.user,
        apiPassword: this.credentials.api.password,
        ...(this.#hook && { authHttpAddress: this.#hook.url }),
        readTimeout: goDuration(m.read_timeout_seconds),
        writeTimeout: goDuration(m.write_timeout_seconds),
        rtspTransports: m.rtsp_transports,
        logLevel: 'info',
      }),
    );
    this.#ports = ports;
    this.#client = new MediaMtxClient({
      baseUrl: `http://127.0.0.1:${ports.api}`,
      log: clientLog,
      timeoutMs,
      username: this.credentials.api.user,
      password: this.credentials.api.password,
    });
    const supervisor = new ProcessSupervisor({
      name: 'mediamtx',
      command: binary,
      args: [file],
      // The supervisor labels its records with component: 'mediamtx' itself.
      log: this.#log,
      backoff: {
        initialMs: m.backoff_initial_seconds * 1000,
        maxMs: m.backoff_max_seconds * 1000,
        factor: 2,
        jitter: 0.2,
      },
    });
    this.#supervisor = supervisor;
    supervisor.on('spawn', ({ attempt }: { attempt: number }) => {
      if (attempt > 1) {
        this.#metrics.restarts.inc({ kind: 'managed' });
        // Ask at once rather than at the next tick: the paths come back sooner.
        void this.#waitForApi(m.start_timeout_seconds * 1000).then((up) => {
          if (up) void this.#monitor?.checkNow();
        });
      }
    });
    supervisor.start();
    if (!(await this.#waitForApi(m.start_timeout_seconds * 1000))) {
      // Not fatal: the supervisor keeps restarting it, the monitor keeps asking, and
      // /health/mediamtx says what is wrong; the rest of the service stays up.
      this.#log.error(
        { binary, api_port: ports.api, output: supervisor.tail().slice(-5) },
        `mediamtx did not answer on its API port within ${m.start_timeout_seconds} s; retrying`,
      );
    }
  }

  /** Polls /v3/info until it answers or the time is up. */
  async #waitForApi(limitMs: number): Promise<boolean> {
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline) {
      try {
        await this.client.info();
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return false;
  }

  async #recover(reason: RecoveryReason): Promise<void> {
    // One recovery at a time. One asked for while another runs (the media server restarted
    // again mid-way, and forgot what was already re-applied) runs once that one is done.
    if (this.#recovering) {
      this.#recoverAgain = reason;
      return;
    }
    this.#recovering = (async () => {
      const results: ReapplyResult[] = await this.paths.reapply();
      const failed = results.filter((r) => r.outcome === 'failed');
      this.#metrics.reapplied.inc(results.length - failed.length);
      this.#log.info(
        {
          reason,
          paths: results.length,
          created: results.filter((r) => r.outcome === 'created').length,
          failed: failed.map((f) => ({ path: f.name, error: f.error })),
        },
        'camera paths re-applied after media server recovery',
      );
      const names = results.filter((r) => r.outcome !== 'failed').map((r) => r.name);
      for (const listener of this.#recoveredListeners) listener(names, reason);
    })().finally(() => {
      this.#recovering = null;
      const again = this.#recoverAgain;
      this.#recoverAgain = null;
      if (again && !this.#stopped) void this.#recover(again);
    });
    await this.#recovering;
  }

  #healthReport() {
    const status = this.#monitor!.status();
    const details = {
      mode: this.mode.mode,
      requested_mode: this.mode.requested,
      reason: this.mode.reason,
      api_url: this.#client?.baseUrl ?? null,
      ports: this.#ports,
      paths: this.#paths?.names().length ?? 0,
      ...(this.#supervisor && {
        process: {
          state: this.#supervisor.state,
          pid: this.#supervisor.pid ?? null,
          restarts: this.#supervisor.restarts,
        },
      }),
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
}

function createMetrics(registry: Registry) {
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

/** Seconds as a Go duration string, the form MediaMTX answers with ("10s", "1m30s", "500ms"). */
export function goDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${(ms % 60_000) / 1000}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A port nothing listens on now (on loopback). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
