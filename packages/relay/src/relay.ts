/**
 * The embedded media server in one object: RTSP relay, configured paths and the control
 * API, started and stopped in-process (the camera service's embedded mode).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessControl } from './access.js';
import { apiHandler } from './api.js';
import type { AuthHook } from './auth.js';
import { HlsServer } from './hls.js';
import { createListener } from './http-listener.js';
import {
  DEFAULT_MEDIAMTX_VERSION,
  VERSION_RULES,
  type MediamtxVersion,
} from './mediamtx-version.js';
import { PATH_DEFAULTS, PathManager, type PathConf } from './paths.js';
import { RTSP_DEFAULTS, RtspServer, type DropEvent } from './rtsp/server.js';

export type RelayLog = (
  level: 'info' | 'warn',
  fields: Record<string, unknown>,
  message: string,
) => void;

export interface RelayOptions {
  /** Address for RTSP and HLS (default 127.0.0.1). */
  host?: string;
  /** Address for the control API (default: `host`); the camera service keeps it on loopback. */
  apiHost?: string;
  /** 0 picks a free port. */
  rtspPort: number;
  apiPort: number;
  /** HLS for browsers; null turns it off. */
  hlsPort?: number | null;
  /** Stop an HLS muxer nobody has used for this long (default 60 s, as MediaMTX). */
  hlsCloseAfterMs?: number;
  paths?: (Partial<PathConf> & { name: string })[];
  /** Accept publishers on unconfigured paths, like MediaMTX's `all_others`. */
  allowUnconfigured?: boolean;
  maxReaderBufferBytes?: number;
  restartDelayMs?: number;
  killGraceMs?: number;
  /**
   * Asked before every RTSP publish and read, every HLS request and every API request,
   * with the request MediaMTX's `authMethod: http` sends (see auth.ts). Absent: everyone
   * may do everything, as MediaMTX's default configuration allows.
   */
  auth?: AuthHook;
  /** Pause before refusing a request that carried credentials (default 2000 ms, as MediaMTX). */
  authFailPauseMs?: number;
  /** RTSP connections held at once (default 256); a new one past it is closed at once. */
  maxConnections?: number;
  /** MediaMTX's readTimeout (default 10 s): a connection that is not a playing reader must send something within it. */
  readTimeoutMs?: number;
  /** MediaMTX's writeTimeout (default 10 s): a connection whose output makes no progress for it is closed. */
  writeTimeoutMs?: number;
  /** A connection the relay closed for a bound, with the reason (for metrics). */
  onDrop?: (event: DropEvent) => void;
  log?: RelayLog;
  /**
   * The MediaMTX version whose behaviour the service meets (default '1.18': v1.18.2 and
   * later): the API's endpoints, fields and bodies, and how commands are expanded.
   */
  mediamtxVersion?: MediamtxVersion;
  /**
   * Replay the packets since the last keyframe to a new reader (default true). MediaMTX
   * keeps none: with false, a new reader gets packets from the moment it plays, and a path
   * is ready when its publisher starts sending, as with MediaMTX.
   */
  gopCache?: boolean;
}

export const RELAY_VERSION = 'camera-relay 0.1.0';

/** What /v3/info reports: the release imitated, with the relay as build metadata (semver). */
export function infoVersion(version: MediamtxVersion = DEFAULT_MEDIAMTX_VERSION): string {
  return `${VERSION_RULES[version].release}+${RELAY_VERSION.replace(' ', '.')}`;
}

export class Relay {
  readonly paths: PathManager;
  readonly #rtsp: RtspServer;
  readonly #api: http.Server;
  readonly hls: HlsServer | null;
  readonly #hlsServer: http.Server | null;
  readonly #options: RelayOptions;
  #ports = { rtsp: 0, api: 0, hls: 0 };

  constructor(options: RelayOptions) {
    this.#options = options;
    const log = options.log;
    const readTimeoutMs = options.readTimeoutMs ?? RTSP_DEFAULTS.readTimeoutMs;
    const access = new AccessControl({
      ...(options.auth && { hook: options.auth }),
      ...(options.authFailPauseMs !== undefined && { failPauseMs: options.authFailPauseMs }),
      ...(log && { log }),
    });
    const onDrop = (event: DropEvent) => {
      try {
        options.onDrop?.(event);
      } catch {
        // A failing observer must not take a listener down.
      }
    };
    this.paths = new PathManager({
      rtspPort: () => this.#ports.rtsp,
      allowUnconfigured: options.allowUnconfigured ?? false,
      ...(options.restartDelayMs !== undefined && { restartDelayMs: options.restartDelayMs }),
      ...(options.killGraceMs !== undefined && { killGraceMs: options.killGraceMs }),
      mediamtxVersion: options.mediamtxVersion ?? DEFAULT_MEDIAMTX_VERSION,
      gopCache: options.gopCache ?? true,
    });
    if (log) {
      // As MediaMTX logs them: what a command that does not publish did is visible.
      this.paths.on('commandStarted', (path, pid) =>
        log('info', { path, child_pid: pid }, 'runOnDemand command started'),
      );
      this.paths.on('commandExited', (path, exit) => {
        if (exit.stopped) return void log('info', { path }, 'runOnDemand command stopped');
        const how = exit.error ?? (exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`);
        log(
          'warn',
          {
            path,
            code: exit.code,
            signal: exit.signal,
            ...(exit.error && { error: exit.error }),
            ...(exit.stderrTail && { stderr: exit.stderrTail }),
          },
          `runOnDemand command exited: ${how}`,
        );
      });
    }
    this.#rtsp = new RtspServer({
      host: options.host ?? '127.0.0.1',
      port: options.rtspPort,
      paths: this.paths,
      ...(options.maxReaderBufferBytes !== undefined && {
        maxReaderBufferBytes: options.maxReaderBufferBytes,
      }),
      ...(options.maxConnections !== undefined && { maxConnections: options.maxConnections }),
      readTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs ?? RTSP_DEFAULTS.writeTimeoutMs,
      access,
      onDrop,
      ...(log && { log }),
    });
    const hlsWanted = options.hlsPort !== null && options.hlsPort !== undefined;
    this.hls = hlsWanted
      ? new HlsServer({
          // The muxer reads as the relay itself: its token is allowed without asking the hook.
          rtspUrl: (path) =>
            `rtsp://127.0.0.1:${this.#ports.rtsp}/${path}` +
            (access.enabled ? `?token=${access.internalToken}` : ''),
          hasPath: (path) => this.paths.state(path) !== undefined,
          access,
          ...(options.hlsCloseAfterMs !== undefined && { closeAfterMs: options.hlsCloseAfterMs }),
        })
      : null;
    this.#hlsServer = this.hls
      ? createListener(this.hls.handler(), {
          name: 'hls',
          readTimeoutMs,
          writeTimeoutMs: options.writeTimeoutMs ?? RTSP_DEFAULTS.writeTimeoutMs,
          maxConnections: options.maxConnections ?? RTSP_DEFAULTS.maxConnections,
          onTimeout: (remote, reason) =>
            onDrop({ listener: 'hls', reason, ...(remote && { remote }) }),
          ...(log && { log }),
        })
      : null;
    this.#api = createListener(
      apiHandler({
        paths: this.paths,
        version: infoVersion(options.mediamtxVersion),
        startedAt: new Date(),
        ports: () => this.#ports,
        access,
        rules: VERSION_RULES[options.mediamtxVersion ?? DEFAULT_MEDIAMTX_VERSION],
      }),
      { name: 'api', readTimeoutMs, ...(log && { log }) },
    );
  }

  async start(): Promise<{ rtspPort: number; apiPort: number; hlsPort: number | null }> {
    for (const path of this.#options.paths ?? [])
      await this.paths.set({ ...PATH_DEFAULTS, ...path });
    this.#ports.rtsp = (await this.#rtsp.start()).port;
    try {
      const host = this.#options.host ?? '127.0.0.1';
      this.#ports.api = await listenOn(
        this.#api,
        this.#options.apiPort,
        this.#options.apiHost ?? host,
      );
      if (this.#hlsServer) {
        this.#ports.hls = await listenOn(this.#hlsServer, this.#options.hlsPort ?? 0, host);
      }
    } catch (error) {
      // Whatever did start is stopped: a failed start leaves no port taken.
      await this.stop();
      throw error;
    }
    return {
      rtspPort: this.#ports.rtsp,
      apiPort: this.#ports.api,
      hlsPort: this.#hlsServer ? this.#ports.hls : null,
    };
  }

  async stop(): Promise<void> {
    const close = (server: http.Server) =>
      new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      });
    await this.hls?.close();
    if (this.#hlsServer) await close(this.#hlsServer);
    await this.paths.close();
    await this.#rtsp.stop();
    await close(this.#api);
  }
}

/** Listens, and resolves with the port bound, or rejects (e.g. EADDRINUSE). */
function listenOn(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
