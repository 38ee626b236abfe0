/**
 * The cameras: discovery events in, camera state and media paths out.
 *
 *   node added   → probe (v4l2-ctl) → not a capture node? ignored → choose the capture
 *                  mode → create the media path → CONNECTED, `update`
 *   node removed → (recording stopped by the capture module's hook) → delete the path →
 *                  DISCONNECTED, `update`
 *   probe failed → ERROR with the reason, `update`
 *
 * Declared cameras (`cameras:` in the configuration: test patterns, network cameras) are
 * CONNECTED from the start. Events for one node are handled one after the other, so an
 * unplug never overtakes the plug before it. Known cameras stay listed after a
 * disconnect (get_camera_status answers -1001 for them rather than -1000).
 */
import { EventEmitter } from 'node:events';
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { Config, DeclaredCamera } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import {
  StreamCommandError,
  type CallOptions,
  type CameraPathSource,
  type ClientView,
} from '../media/index.js';
import { chooseCaptureMode, type CaptureMode } from './capture-mode.js';
import type { CameraObject } from './contracts.js';
import { DeviceDiscovery, type WatchFactory } from './discovery.js';
import { probeDevice, type ProbeResult } from './probe.js';
import type { StreamPaths } from './stream-paths.js';
import { summarizeCapabilities, type CameraCapabilities } from './probe-parse.js';

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
    const base = {
      device: declared.id,
      path: declared.id,
      name: declared.name ?? declared.id,
      stableId: null,
      driver: null,
      bus: null,
      error: null,
      pathCreated: false,
      since: Date.now(),
    };
    let camera: CameraRecord;
    let source: CameraPathSource;
    if ('test_pattern' in declared) {
      const { size, fps, clock } = declared.test_pattern;
      const [width, height] = size.split('x').map(Number) as [number, number];
      camera = {
        ...base,
        kind: 'test_pattern',
        status: 'CONNECTED',
        mode: { width, height, fps, format: null },
        capabilities: { formats: ['H264'], resolutions: [size], frame_rates: [fps] },
      };
      source = { kind: 'test_pattern', size, fps, clock };
    } else {
      camera = {
        ...base,
        kind: 'url',
        status: 'CONNECTED',
        mode: null,
        capabilities: { formats: [], resolutions: [], frame_rates: [] },
      };
      source = { kind: 'url', url: declared.url };
    }
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
    const c = this.#config.camera;
    const existing = this.#cameras.get(node);
    const stableId = await this.#stableId(node);
    const sysfsName = await this.#sysfsName(node);
    const base = {
      device: node,
      kind: 'v4l2' as const,
      path: `camera${nodeNumber(node)}`,
      stableId,
      pathCreated: false,
      since: Date.now(),
    };
    if (connected >= c.max_cameras) {
      this.#set({
        ...base,
        status: 'ERROR',
        name: sysfsName ?? basename(node),
        mode: null,
        capabilities: { formats: [], resolutions: [], frame_rates: [] },
        driver: null,
        bus: null,
        error: `The camera limit (camera.max_cameras = ${c.max_cameras}) is reached: unplug another camera or raise the limit.`,
      });
      return;
    }
    let probed: ProbeResult;
    try {
      probed = await probeDevice(node, {
        command: c.probe_command,
        timeoutMs: c.probe_timeout_seconds * 1000,
        log: this.#log,
      });
    } catch (error) {
      // A node unplugged while it was being probed fails its probe too: that is an unplug,
      // not a camera in error (discovery reports the removal once its debounce has passed).
      if (this.#stopped || !(await nodeExists(node))) {
        this.#log.debug(
          { node, err: (error as Error).message },
          'the node went away while it was probed: ignored',
        );
        return;
      }
      this.#set({
        ...base,
        status: 'ERROR',
        name: sysfsName ?? existing?.name ?? basename(node),
        mode: null,
        capabilities: { formats: [], resolutions: [], frame_rates: [] },
        driver: null,
        bus: null,
        error: `Could not probe ${node}: ${(error as Error).message}`,
      });
      return;
    }
    if (this.#stopped) return;
    const { info, formats } = probed;
    if (!info.capture || info.metadataOnly) {
      // The second node of a UVC camera, a codec, an output: not a camera.
      this.#log.debug(
        { node, driver: info.driver, card: info.card },
        'not a capture node: ignored',
      );
      return;
    }
    const override = c.overrides.find((o) => o.device === node || o.device === stableId);
    const [tw, th] = c.default_size.split('x').map(Number) as [number, number];
    const choice = chooseCaptureMode(formats, {
      target: { width: tw, height: th, fps: c.default_fps },
      ...(override && {
        override: {
          ...(override.format !== undefined && { format: override.format }),
          ...(override.size !== undefined && {
            width: Number(override.size.split('x')[0]),
            height: Number(override.size.split('x')[1]),
          }),
          ...(override.fps !== undefined && { fps: override.fps }),
        },
      }),
    });
    const identity = {
      ...base,
      name: info.card || sysfsName || basename(node),
      capabilities: summarizeCapabilities(formats),
      driver: info.driver || null,
      bus: info.busInfo || null,
    };
    if (!choice.ok) {
      this.#set({ ...identity, status: 'ERROR', mode: null, error: choice.reason });
      return;
    }
    const mode: CaptureMode = choice.mode;
    const camera: CameraRecord = {
      ...identity,
      status: 'CONNECTED',
      mode: { width: mode.width, height: mode.height, fps: mode.fps, format: mode.fourcc },
      error: null,
    };
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
        stable_id: stableId,
      },
      'camera connected',
    );
    this.emit('update', camera);
  }

  async #unplugged(node: string): Promise<void> {
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

  /** The /dev/v4l/by-id link pointing at this node, if any. */
  async #stableId(node: string): Promise<string | null> {
    const dir = join(this.#config.camera.device_dir, 'v4l', 'by-id');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return null;
    }
    for (const name of names.sort()) {
      const link = join(dir, name);
      try {
        const target = resolve(dir, await readlink(link));
        if (target === resolve(node)) return link;
      } catch {
        // not a link
      }
    }
    return null;
  }

  /** /sys/class/video4linux/videoN/name: the kernel's name for the node, without probing. */
  async #sysfsName(node: string): Promise<string | null> {
    try {
      const text = await readFile(
        join(this.#config.camera.sysfs_dir, basename(node), 'name'),
        'utf8',
      );
      return text.trim() || null;
    } catch {
      return null;
    }
  }
}

/** Whether the device node is still there (a character device, or a file in tests). */
async function nodeExists(node: string): Promise<boolean> {
  try {
    await stat(node);
    return true;
  } catch {
    return false;
  }
}

function nodeNumber(device: string): number {
  const match = /video(\d+)$/.exec(device);
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}

function kindOrder(camera: CameraRecord): number {
  return camera.kind === 'v4l2' ? 1 : 0;
}
