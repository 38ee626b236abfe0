/**
 * The cameras: discovery events in, camera state and media paths out.
 *
 *   node added   → probe (v4l2-ctl) → not a capture node? ignored → choose the capture
 *                  mode → create the media path → CONNECTED, `update`
 *   node removed → (recording stopped by the capture module's hook) → delete the path →
 *                  DISCONNECTED, `update`
 *   probe failed → ERROR with the reason (and the current format, when the output gave
 *                  it), `update`
 *   node changed → (udev setting its mode or links) a probe waiting to try again tries at
 *                  once; a camera in ERROR is probed again; a missing stable id is looked
 *                  for again
 *
 * Declared cameras (`cameras:` in the configuration: test patterns, network cameras) are
 * CONNECTED from the start. Events for one node are handled one after the other, so an
 * unplug never overtakes the plug before it. Known cameras stay listed after a
 * disconnect (get_camera_status answers -1001 for them rather than -1000).
 */
import { EventEmitter } from 'node:events';
import { Gauge, type Registry } from 'prom-client';
import type { Config, DeclaredCamera } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import {
  StreamCommandError,
  type CallOptions,
  type CameraPathSource,
  type ClientView,
} from '../media/index.js';
import type { CameraObject } from './contracts.js';
import { declaredCamera } from './declared.js';
import { DeviceDiscovery, type WatchFactory } from './discovery.js';
import { NodeChanges } from './node-changes.js';
import { stableIdOf } from './node-identity.js';
import type { CameraCapabilities } from './probe-parse.js';
import type { StreamPaths } from './stream-paths.js';
import { overrideFor } from './v4l2-mode.js';
import { nodeNumber, probeV4l2Camera } from './v4l2-probe.js';

export type CameraStatus = 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
export type CameraKind = 'v4l2' | 'test_pattern' | 'url';

/** What the service knows of one camera. */
export interface CameraRecord {
  device: string;
  kind: CameraKind;
  status: CameraStatus;
  name: string;
  /** The media server path. */
  path: string;
  /** Whether the media path exists (created and not yet deleted). */
  pathCreated: boolean;
  mode: { width: number; height: number; fps: number; format: string | null } | null;
  capabilities: CameraCapabilities;
  stableId: string | null;
  driver: string | null;
  bus: string | null;
  error: string | null;
  /** When the record last changed status (epoch ms). */
  since: number;
}

export interface RecordingState {
  active: boolean;
  session_id: string | null;
  filename: string | null;
  elapsed_seconds: number | null;
}

/**
 * udev adds a node's by-id link a moment after the node. When the camera was connected
 * before it, the link is looked for again this long after the plug.
 */
const STABLE_ID_GRACE_MS = 1000;

const NOT_RECORDING: RecordingState = {
  active: false,
  session_id: null,
  filename: null,
  elapsed_seconds: null,
};

export interface CameraServiceOptions {
  config: Config;
  log: Logger;
  /** The camera paths on the media server (the media plane). */
  media: StreamPaths;
  /** Injectable watcher (tests drop events to exercise the polling fallback). */
  watch?: WatchFactory;
  /** Prometheus registry for camera_service_cameras{status}. */
  registry?: Registry;
}

export interface CameraServiceEvents {
  update: [CameraRecord];
}

/** Hooks other modules (capture) give the camera service. */
export interface CameraHooks {
  /** The live recording state of a camera, for the camera object. */
  recording?: (device: string) => RecordingState;
  /** Called before a camera's path is deleted on unplug: stop its recording. */
  beforeDisconnect?: (device: string) => Promise<void>;
}

export class CameraService extends EventEmitter<CameraServiceEvents> {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #media: StreamPaths;
  readonly #discovery: DeviceDiscovery;
  readonly #cameras = new Map<string, CameraRecord>();
  readonly #queues = new Map<string, Promise<void>>();
  /** V4L2 nodes whose plug is being handled (probe, path) and not yet recorded. */
  readonly #plugging = new Set<string>();
  readonly #changes = new NodeChanges();
  /** Nodes connected without a stable id yet: the look again after STABLE_ID_GRACE_MS. */
  readonly #stableIdChecks = new Map<string, NodeJS.Timeout>();
  #hooks: CameraHooks = {};
  #stopped = false;
  #started = false;
  #offRecovered: (() => void) | undefined;
  #offReadiness: (() => void) | undefined;

  constructor(options: CameraServiceOptions) {
    super();
    this.#config = options.config;
    this.#log = options.log;
    this.#media = options.media;
    const c = options.config.camera;
    this.#discovery = new DeviceDiscovery({
      deviceDir: c.device_dir,
      pollIntervalMs: c.poll_interval * 1000,
      debounceMs: c.debounce_ms,
      log: options.log.child({ component: 'discovery' }),
      ...(options.watch && { watch: options.watch }),
      // Polling only: a watcher that never reports anything.
      ...(!c.hotplug_events && { watch: () => ({ close: () => undefined }) }),
    });
    if (options.registry) {
      const cameras = () => this.#cameras;
      new Gauge({
        name: 'camera_service_cameras',
        help: 'Known cameras by status.',
        labelNames: ['status'],
        registers: [options.registry],
        collect() {
          const counts = { CONNECTED: 0, DISCONNECTED: 0, ERROR: 0 };
          for (const camera of cameras().values()) counts[camera.status] += 1;
          for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
        },
      });
    }
    this.#discovery.on('added', (node) => this.#enqueue(node, () => this.#plugged(node)));
    this.#discovery.on('removed', (node) => this.#enqueue(node, () => this.#unplugged(node)));
    this.#discovery.on('changed', (node) => this.#changed(node));
  }

  setHooks(hooks: CameraHooks): void {
    this.#hooks = hooks;
  }

  async start(): Promise<void> {
    for (const declared of this.#config.cameras ?? []) await this.#declare(declared);
    this.#offRecovered = this.#media.onRecovered((names) => {
      for (const camera of this.#cameras.values()) {
        if (camera.status === 'CONNECTED' && names.includes(camera.path))
          this.emit('update', camera);
      }
    });
    // A stream that starts or stops changes the camera object (stream_ready).
    this.#offReadiness = this.#media.onReadiness((path, ready) => {
      const camera = [...this.#cameras.values()].find((c) => c.path === path);
      if (!camera || camera.status !== 'CONNECTED' || !camera.pathCreated) return;
      this.#log.info(
        { device: camera.device, path, ready },
        ready ? 'stream ready' : 'stream stopped',
      );
      this.emit('update', camera);
    });
    await this.#discovery.start();
    this.#started = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#offRecovered?.();
    this.#offReadiness?.();
    this.#discovery.stop();
    for (const timer of this.#stableIdChecks.values()) clearTimeout(timer);
    this.#stableIdChecks.clear();
    await Promise.all([...this.#queues.values()]);
  }

  /** Every known camera: declared first, then V4L2 nodes by number. */
  list(): CameraRecord[] {
    return [...this.#cameras.values()].sort(
      (a, b) => kindOrder(a) - kindOrder(b) || nodeNumber(a.device) - nodeNumber(b.device),
    );
  }

  /** The camera monitor's health: unhealthy until discovery runs. */
  healthReport() {
    const list = [...this.#cameras.values()];
    const details = {
      device_dir: this.#config.camera.device_dir,
      total: list.length,
      connected: list.filter((c) => c.status === 'CONNECTED').length,
      disconnected: list.filter((c) => c.status === 'DISCONNECTED').length,
      error: list.filter((c) => c.status === 'ERROR').length,
      nodes: this.#discovery.nodes(),
    };
    if (!this.#started || this.#stopped) {
      return {
        status: 'unhealthy' as const,
        message: 'camera discovery is not running',
        details,
      };
    }
    const failing = list.filter((c) => c.status === 'ERROR');
    if (failing.length > 0) {
      return {
        status: 'degraded' as const,
        message: failing.map((c) => `${c.device}: ${c.error ?? 'in error'}`).join('; '),
        details,
      };
    }
    return { status: 'healthy' as const, details };
  }

  get(device: string): CameraRecord | undefined {
    return this.#cameras.get(device);
  }

  /** Waits until every discovery event so far has been handled (tests, the bench). */
  async settled(): Promise<void> {
    await Promise.all([...this.#queues.values()]);
  }

  /** The camera object a client sees: stream URLs on the host it connected with. */
  toObject(camera: CameraRecord, client: ClientView): CameraObject {
    const streaming = camera.status === 'CONNECTED' && camera.pathCreated;
    const urls = streaming ? this.#media.streamUrls(camera.path, client) : null;
    return {
      device: camera.device,
      status: camera.status,
      name: camera.name,
      resolution: camera.mode ? `${camera.mode.width}x${camera.mode.height}` : '',
      fps: camera.mode?.fps ?? 0,
      streams: {
        rtsp: urls?.rtsp ?? null,
        webrtc: urls?.webrtc ?? null,
        hls: urls?.hls ?? null,
        credential: urls ? urls.credential : null,
        token_urls: urls?.token_urls ?? null,
      },
      capabilities: camera.capabilities,
      recording: this.#hooks.recording?.(camera.device) ?? NOT_RECORDING,
      kind: camera.kind,
      stream_path: camera.path,
      stable_id: camera.stableId,
      driver: camera.driver,
      bus: camera.bus,
      capture_format: camera.mode?.format ?? null,
      error: camera.error,
      stream_ready: streaming && this.#media.isReady(camera.path),
    };
  }

  /** The stream's figures from the media server. */
  async metrics(
    camera: CameraRecord,
    call?: CallOptions,
  ): Promise<{ bytes_sent: number; readers: number; uptime: number; ready: boolean }> {
    if (!camera.pathCreated) return { bytes_sent: 0, readers: 0, uptime: 0, ready: false };
    const state = await this.#media.pathState(camera.path, call);
    if (!state) return { bytes_sent: 0, readers: 0, uptime: 0, ready: false };
    const since = state.ready && state.readyTime ? Date.parse(state.readyTime) : NaN;
    return {
      bytes_sent: state.bytesSent,
      readers: state.readers.length,
      uptime: Number.isNaN(since) ? 0 : Math.max(0, Math.round((Date.now() - since) / 100) / 10),
      ready: state.ready,
    };
  }

  #enqueue(node: string, task: () => Promise<void>): void {
    const previous = this.#queues.get(node) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      this.#log.error({ node, err: (error as Error).message }, 'camera event handling failed');
    });
    this.#queues.set(node, next);
    void next.then(() => {
      if (this.#queues.get(node) === next) this.#queues.delete(node);
    });
  }

  async #declare(declared: DeclaredCamera): Promise<void> {
    const { camera, source } = declaredCamera(declared);
    this.#cameras.set(camera.device, camera);
    await this.#createPath(camera, source);
    this.#log.info(
      { device: camera.device, kind: camera.kind, path: camera.path },
      'declared camera added',
    );
    this.emit('update', camera);
  }

  async #plugged(node: string): Promise<void> {
    if (this.#stopped) return;
    // Plugs of different nodes run side by side: a node being probed holds its place
    // under the camera limit, so that cameras plugged at once cannot all pass the check.
    const connected =
      [...this.#cameras.values()].filter(
        (cam) => cam.kind === 'v4l2' && cam.status !== 'DISCONNECTED' && cam.device !== node,
      ).length + [...this.#plugging].filter((other) => other !== node).length;
    this.#plugging.add(node);
    try {
      await this.#probeAndConnect(node, connected);
    } finally {
      this.#plugging.delete(node);
    }
  }

  async #probeAndConnect(node: string, connected: number): Promise<void> {
    const probe = await probeV4l2Camera(node, {
      camera: this.#config.camera,
      log: this.#log,
      connected,
      previousName: this.#cameras.get(node)?.name ?? null,
      // udev giving the service access to the node ends the pause before the next attempt.
      retryWait: this.#changes.retryWait(node),
      stopped: () => this.#stopped,
    });
    if (this.#stopped || probe.kind === 'ignored') return;
    if (probe.lookAgainForStableId) this.#lookAgainForStableId(node);
    if (probe.kind === 'error') {
      this.#set(probe.camera);
      return;
    }
    const { camera, mode } = probe;
    this.#cameras.set(node, camera);
    await this.#createPath(camera, {
      kind: 'v4l2',
      device: node,
      inputFormat: mode.inputFormat,
      size: `${mode.width}x${mode.height}`,
      fps: mode.fps,
      framerate: mode.framerate,
    });
    this.#log.info(
      {
        device: node,
        name: camera.name,
        path: camera.path,
        mode: camera.mode,
        stable_id: camera.stableId,
      },
      'camera connected',
    );
    this.emit('update', camera);
  }

  /**
   * Discovery saw a node that is there change: udev set its mode or group (a probe waiting
   * to try again tries now), or added its links. A camera in ERROR is probed again (udev may
   * only now have given the service access); one without a stable id looks for it again.
   */
  #changed(node: string): void {
    if (this.#stopped) return;
    this.#changes.note(node);
    const camera = this.#cameras.get(node);
    if (!camera || this.#plugging.has(node) || camera.status === 'DISCONNECTED') return;
    if (camera.status === 'ERROR') {
      this.#log.info({ device: node }, 'the node of a camera in error changed: probing it again');
      this.#enqueue(node, () => this.#plugged(node));
    } else if (camera.stableId === null) {
      this.#enqueue(node, () => this.#findStableId(node));
    }
  }

  #lookAgainForStableId(node: string): void {
    clearTimeout(this.#stableIdChecks.get(node));
    const timer = setTimeout(() => {
      this.#stableIdChecks.delete(node);
      this.#enqueue(node, () => this.#findStableId(node));
    }, STABLE_ID_GRACE_MS);
    timer.unref();
    this.#stableIdChecks.set(node, timer);
  }

  /**
   * The by-id link of a camera connected without one, once udev has made it: the camera is
   * updated, or, when an override names that link, plugged again to stream as it says
   * (unless it records: then the override applies at its next plug).
   */
  async #findStableId(node: string): Promise<void> {
    const camera = this.#cameras.get(node);
    if (this.#stopped || !camera || camera.status === 'DISCONNECTED' || camera.stableId !== null) {
      return;
    }
    const stableId = await stableIdOf(this.#config.camera.device_dir, node);
    if (stableId === null || this.#cameras.get(node) !== camera) return;
    const recording = this.#hooks.recording?.(node).active ?? false;
    if (
      overrideFor(this.#config.camera, node, stableId) &&
      !overrideFor(this.#config.camera, node, null)
    ) {
      if (!recording) {
        this.#log.info(
          { device: node, stable_id: stableId },
          'the stable id of the camera appeared after it was connected, and an override names it: connecting it again',
        );
        await this.#plugged(node);
        return;
      }
      this.#log.warn(
        { device: node, stable_id: stableId },
        'the stable id of the camera appeared while it records: its override applies from its next plug',
      );
    }
    camera.stableId = stableId;
    this.#log.info({ device: node, stable_id: stableId }, 'camera stable id found');
    this.emit('update', camera);
  }

  async #unplugged(node: string): Promise<void> {
    this.#changes.forget(node);
    clearTimeout(this.#stableIdChecks.get(node));
    this.#stableIdChecks.delete(node);
    const camera = this.#cameras.get(node);
    if (!camera || camera.status === 'DISCONNECTED') return;
    try {
      await this.#hooks.beforeDisconnect?.(node);
    } catch (error) {
      this.#log.error(
        { device: node, err: (error as Error).message },
        'stopping the recording failed',
      );
    }
    if (camera.pathCreated) {
      try {
        await this.#media.removeCameraPath(camera.path);
      } catch (error) {
        this.#log.warn(
          { device: node, path: camera.path, err: (error as Error).message },
          'could not delete the camera path; it is removed when the media server is back',
        );
      }
    }
    const gone: CameraRecord = {
      ...camera,
      status: 'DISCONNECTED',
      pathCreated: false,
      since: Date.now(),
    };
    this.#cameras.set(node, gone);
    this.#forgetOldest();
    this.#log.info({ device: node, path: camera.path }, 'camera disconnected');
    this.emit('update', gone);
  }

  /**
   * Disconnected cameras stay listed (a client may ask about them), but not without end:
   * beyond max_cameras of them, the longest gone is forgotten.
   */
  #forgetOldest(): void {
    const gone = [...this.#cameras.values()]
      .filter((c) => c.status === 'DISCONNECTED')
      .sort((a, b) => a.since - b.since);
    const excess = gone.length - this.#config.camera.max_cameras;
    for (const camera of gone.slice(0, Math.max(0, excess))) this.#cameras.delete(camera.device);
  }

  /** Records a camera that is not streaming (ERROR) and tells the clients. */
  #set(camera: CameraRecord): void {
    this.#cameras.set(camera.device, camera);
    this.#log.warn({ device: camera.device, error: camera.error }, 'camera in error');
    this.emit('update', camera);
  }

  async #createPath(camera: CameraRecord, source: CameraPathSource): Promise<void> {
    if (!this.#config.camera.auto_start_streams) return;
    // Remembered by the path manager even when the media server is away: it is created
    // when the media server comes back.
    camera.pathCreated = true;
    try {
      await this.#media.ensureCameraPath(camera.path, source);
    } catch (error) {
      if (error instanceof StreamCommandError) {
        // Nothing to retry: the camera cannot be streamed as it is named.
        camera.pathCreated = false;
        camera.status = 'ERROR';
        camera.error = error.message;
        return;
      }
      this.#log.warn(
        { device: camera.device, path: camera.path, err: (error as Error).message },
        'could not create the camera path now; it is created when the media server answers',
      );
    }
  }
}

function kindOrder(camera: CameraRecord): number {
  return camera.kind === 'v4l2' ? 1 : 0;
}
