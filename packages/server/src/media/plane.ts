/**
 * The media plane: everything the rest of the service asks of its media server, whatever
 * runs it (mode.ts). One backend per mode starts and stops the media server
 * (embedded.ts, external.ts, managed.ts); the rest works the same in every mode, through
 * one MediaMtxClient:
 *
 *   paths      the camera paths, created, replaced and deleted (PathManager), and
 *              re-created after the media server restarted or came back
 *   health     a check every health_check_interval_seconds as every MediaMTX version
 *              answers it (probe.ts), with backoff and a circuit breaker
 *   readiness  which streams are ready, as events (ready-state.ts): from the relay at
 *              once, from each check's path list for MediaMTX, from the service's reads
 *   urls       the stream URLs for clients, and where the service reads streams itself
 *
 * The cameras module reaches it through its StreamPaths interface and capture through
 * StreamSource; both are declared where they are used.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Relay } from '@camera-service/relay';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { HealthRegistry } from '../health/index.js';
import type { Logger } from '../logging/index.js';
import { AuthHookServer, type HookDecision, type HookRequest } from './auth-hook.js';
import type { BackendContext, MediaBackend, MediaPorts, RunningMedia } from './backend.js';
import { CircuitBreaker } from './breaker.js';
import type { CallOptions, MediaMtxClient, PathConf, PathStatus } from './client.js';
import { publishCommand, type CameraSource } from './command.js';
import { newMediaCredentials, withCredential, type MediaCredentials } from './credentials.js';
import { EmbeddedBackend } from './embedded.js';
import { ExternalBackend } from './external.js';
import { goDuration } from './go-duration.js';
import { ManagedBackend } from './managed.js';
import { createMediaMetrics, type MediaMetrics } from './metrics.js';
import { resolveMode, type ResolvedMode } from './mode.js';
import { HealthMonitor } from './monitor.js';
import { PathManager, type EnsureOutcome } from './paths.js';
import { mediaHealthReport } from './health-report.js';
import { ServerProbe, type ProbeResult } from './probe.js';
import { ReadyState } from './ready-state.js';
import { PathRecovery, type RecoveryListener } from './recovery.js';
import { waitReady } from './readiness.js';
import { streamUrls, urlHost, type ClientView, type StreamUrls } from './urls.js';

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

/** What a camera's path is fed by: an ffmpeg command on demand, or a pulled URL. */
export type CameraPathSource = CameraSource | { kind: 'url'; url: string };

/** A check's answer, with what the service knew when it asked. */
type Check = ProbeResult & { settled: string[]; askedAt: number };

export class MediaPlane {
  readonly mode: ResolvedMode;
  /** The service's own publisher, reader and API credentials, new at every start. */
  readonly credentials: MediaCredentials = newMediaCredentials();
  readonly breaker: CircuitBreaker;
  readonly #options: MediaPlaneOptions;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #metrics: MediaMetrics;
  readonly #ready = new ReadyState();
  #backend: MediaBackend | null = null;
  #running: RunningMedia | null = null;
  #paths: PathManager | null = null;
  #monitor: HealthMonitor<Check> | null = null;
  #hook: AuthHookServer | null = null;
  #recovery: PathRecovery | null = null;
  /** Listeners that subscribed before the start. */
  readonly #recoveredListeners = new Set<RecoveryListener>();

  constructor(options: MediaPlaneOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#log = options.log;
    this.mode = options.mode ?? resolveMode(options.config);
    this.#metrics = createMediaMetrics(options.registry);
    const m = options.config.mediamtx;
    this.breaker = new CircuitBreaker({
      failureThreshold: m.breaker_failure_threshold,
      successThreshold: m.breaker_success_threshold,
      openMs: m.breaker_open_seconds * 1000,
      onChange: (from, to) => {
        this.#log.warn({ from, to }, `media server circuit breaker ${to.replace('_', '-')}`);
        this.#metrics.setBreaker(to);
        // A media server that does not answer serves no stream either.
        if (to === 'open') this.#ready.clear();
      },
    });
    this.#metrics.setBreaker('closed');
  }

  get client(): MediaMtxClient {
    return this.#started().client;
  }

  get paths(): PathManager {
    if (!this.#paths) throw new Error('the media plane has not started');
    return this.#paths;
  }

  get ports(): MediaPorts {
    return this.#started().ports;
  }

  /** The in-process relay (embedded mode), for tests and the bench. */
  get relay(): Relay | null {
    return this.#backend instanceof EmbeddedBackend ? this.#backend.relay : null;
  }

  /** The managed media server process (managed mode). */
  get supervisor() {
    return this.#backend instanceof ManagedBackend ? this.#backend.supervisor : null;
  }

  /** The URL of the stream authorization hook MediaMTX posts to (managed and external modes). */
  get authHookUrl(): string | null {
    return this.#hook?.url ?? null;
  }

  async start(): Promise<MediaPorts> {
    const m = this.#config.mediamtx;
    this.#log.info(
      { mode: this.mode.mode, requested: this.mode.requested, binary: this.mode.binary },
      `media server mode ${this.mode.mode}: ${this.mode.reason}`,
    );
    if (this.mode.mode !== 'embedded') await this.#startHook();
    const context: BackendContext = {
      config: this.#config,
      log: this.#log,
      credentials: this.credentials,
      ready: this.#ready,
      hookUrl: this.#hook?.url ?? null,
      ...(this.#options.authorize && { authorize: this.#options.authorize }),
      ...(this.#options.onDrop && { onDrop: this.#options.onDrop }),
      restarted: () => {
        this.#metrics.restarts.inc({ kind: 'managed' });
        this.#monitor?.expectRestart();
      },
      answering: () => void this.#monitor?.checkNow(),
    };
    this.#backend =
      this.mode.mode === 'embedded'
        ? new EmbeddedBackend(context)
        : this.mode.mode === 'external'
          ? new ExternalBackend(context)
          : new ManagedBackend(context, this.mode.binary!);
    this.#running = await this.#backend.start();
    const paths = new PathManager({
      client: this.#running.client,
      log: this.#log.child({ component: 'paths' }),
    });
    this.#paths = paths;
    const recovery = new PathRecovery({
      paths,
      log: this.#log,
      metrics: this.#metrics,
    });
    for (const listener of this.#recoveredListeners) recovery.onRecovered(listener);
    this.#recovery = recovery;
    const probe = new ServerProbe(this.#running.client);
    const monitor = new HealthMonitor<Check>({
      // The paths the service is sure of, taken before the list is asked for.
      probe: async () => {
        const settled = paths.settledNames();
        const askedAt = performance.now();
        return { ...(await probe.check()), settled, askedAt };
      },
      breaker: this.breaker,
      log: this.#log.child({ component: 'mediamtx-monitor' }),
      intervalMs: m.health_check_interval_seconds * 1000,
      backoff: {
        initialMs: m.backoff_initial_seconds * 1000,
        maxMs: m.backoff_max_seconds * 1000,
        jitter: 0.2,
      },
    });
    this.#monitor = monitor;
    monitor.on('failed', () => this.#metrics.checkFailures.inc());
    monitor.on('recovered', (reason, expected) => {
      if (reason === 'restarted' && !expected) this.#metrics.restarts.inc({ kind: 'detected' });
      void recovery.recover(reason);
    });
    // Each answered check: the streams' readiness from its list, and the service's paths
    // it should have but has not (a MediaMTX that restarted between two checks and tells
    // no start time, or someone deleted them), which are then re-created.
    monitor.on('checked', (result) => {
      this.#metrics.up.set(monitor.reachable ? 1 : 0);
      if (!result) return;
      this.#ready.reconcile(result.paths, result.askedAt);
      recovery.checkList(result.settled, result.paths);
    });
    this.#options.health.register({
      name: 'mediamtx',
      critical: true,
      check: () =>
        mediaHealthReport({
          mode: this.mode,
          running: this.#running,
          paths: paths.names().length,
          hasInfo: probe.hasInfo,
          backend: this.#backend?.details() ?? {},
          status: monitor.status(),
        }),
    });
    await monitor.start();
    return this.#running.ports;
  }

  async stop(): Promise<void> {
    this.#monitor?.stop();
    await this.#recovery?.stop();
    await this.#backend?.stop();
    await this.#hook?.stop();
    this.#running?.client.close();
  }

  /** Checks the media server now (tests; the managed process answers again). */
  checkNow(): Promise<void> {
    return this.#monitor?.checkNow() ?? Promise.resolve();
  }

  // What cameras and capture ask (their StreamPaths and StreamSource).

  /** Creates (or leaves, or replaces) the path of a camera. */
  async ensureCameraPath(
    name: string,
    source: CameraPathSource,
    call?: CallOptions,
  ): Promise<EnsureOutcome> {
    const outcome = await this.paths.ensure(name, this.cameraPathConf(name, source), call);
    // A replaced path was closed, with whatever stream it had.
    if (outcome === 'replaced') this.#ready.set(name, false);
    return outcome;
  }

  /** Deletes a camera's path; false when the media server had none. */
  async removeCameraPath(name: string, call?: CallOptions): Promise<boolean> {
    this.#ready.forget(name);
    return this.paths.remove(name, call);
  }

  /** A path's live state, or null when the media server has no such path. */
  async pathState(name: string, call?: CallOptions): Promise<PathStatus | null> {
    const state = await this.client.getPath(name, call);
    this.#ready.set(name, state?.ready ?? false, state?.readyTime ?? null);
    return state;
  }

  /** Whether the stream is ready to read, as last known. */
  isReady(name: string): boolean {
    return this.#ready.isReady(name);
  }

  /** Called whenever a stream becomes ready or stops. */
  onReadiness(listener: (name: string, ready: boolean) => void): () => void {
    this.#ready.on('change', listener);
    return () => this.#ready.off('change', listener);
  }

  /** Called after paths were re-created following a media server restart or outage. */
  onRecovered(listener: RecoveryListener): () => void {
    this.#recoveredListeners.add(listener);
    const off = this.#recovery?.onRecovered(listener);
    return () => {
      this.#recoveredListeners.delete(listener);
      off?.();
    };
  }

  /** Whether the media server answers now (its last check, and the breaker). */
  reachable(): boolean {
    return this.#monitor?.reachable !== false && this.breaker.allows();
  }

  /** Waits until the path is ready, starting it on demand; rejects with the reason. */
  async waitReady(name: string, call?: CallOptions, timeoutMs?: number): Promise<PathStatus> {
    const m = this.#config.mediamtx;
    const state = await waitReady({
      client: this.client,
      rtspBase: this.rtspBase(),
      name,
      timeoutMs: timeoutMs ?? (m.on_demand_start_timeout_seconds + 2) * 1000,
      stderrFile: this.stderrFile(name),
      ...(call && { call }),
    });
    this.#ready.set(name, true, state.readyTime);
    return state;
  }

  /** The URL the service itself reads a stream from (see rtspBase). */
  readerUrl(name: string): string {
    return `${this.rtspBase()}/${name}`;
  }

  /**
   * rtsp://user:password@host:port where the service itself reads streams, with its own
   * reader credential (never shown to clients: `redact` in capture turns URLs into "the
   * stream", and log lines mask the password).
   */
  rtspBase(): string {
    const running = this.#started();
    return withCredential(
      `rtsp://${urlHost(running.rtspHost)}:${running.ports.rtsp}`,
      this.credentials.reader,
    );
  }

  /**
   * http://host:port where the service itself reaches the media plane's HLS or WebRTC
   * (WHEP) server, for the dashboard's proxy; null when it has none (WebRTC on the relay).
   */
  httpBase(kind: 'hls' | 'webrtc'): string | null {
    const running = this.#started();
    const port = kind === 'hls' ? running.ports.hls : running.ports.webrtc;
    return port === null ? null : `http://${urlHost(running.rtspHost)}:${port}`;
  }

  /** URLs for a client, on the host name it used to reach the service (or public_host). */
  streamUrls(path: string, client: ClientView): StreamUrls {
    return streamUrls(path, client, {
      ports: this.ports,
      publicHost: this.#config.server.public_host,
      listenHost: this.#config.mediamtx.listen_host,
      anonymous: this.#options.anonymousViewing?.() ?? false,
    });
  }

  /**
   * The path configuration for a camera: its ffmpeg command on demand (V4L2 and test
   * patterns), or a pulled `source` (network cameras).
   */
  cameraPathConf(name: string, source: CameraPathSource): PathConf {
    if (source.kind === 'url') return { source: source.url };
    const m = this.#config.mediamtx;
    const publishHost = this.#started().publishHost;
    return {
      source: 'publisher',
      runOnDemand: publishCommand({
        source,
        codec: m.codec,
        stderrFile: this.stderrFile(name),
        publisher: this.credentials.publisher,
        ...(publishHost !== null && { publishHost }),
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

  #started(): RunningMedia {
    if (!this.#running) throw new Error('the media plane has not started');
    return this.#running;
  }

  /** Starts the loopback hook MediaMTX asks before every stream action, when the service decides. */
  async #startHook(): Promise<void> {
    const authorize = this.#options.authorize;
    if (!authorize) return;
    const hook = new AuthHookServer({
      check: authorize,
      log: this.#log.child({ component: 'stream-auth-hook' }),
    });
    await hook.start(this.#config.mediamtx.auth_hook_port);
    this.#hook = hook;
    this.#log.info({ url: hook.url }, 'stream authorization hook listening');
  }
}
