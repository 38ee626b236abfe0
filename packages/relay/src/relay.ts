/**
 * The embedded media server in one object: RTSP relay, configured paths and the control
 * API, started and stopped in-process (the camera service's embedded mode).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiHandler } from './api.js';
import { HlsServer } from './hls.js';
import { PATH_DEFAULTS, PathManager, type PathConf } from './paths.js';
import { RtspServer } from './rtsp/server.js';

export interface RelayOptions {
  /** Address for RTSP and the API (default 127.0.0.1). */
  host?: string;
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
}

export const RELAY_VERSION = 'camera-relay 0.1.0';

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
    this.paths = new PathManager({
      rtspPort: () => this.#ports.rtsp,
      allowUnconfigured: options.allowUnconfigured ?? false,
      ...(options.restartDelayMs !== undefined && { restartDelayMs: options.restartDelayMs }),
      ...(options.killGraceMs !== undefined && { killGraceMs: options.killGraceMs }),
    });
    this.#rtsp = new RtspServer({
      host: options.host ?? '127.0.0.1',
      port: options.rtspPort,
      paths: this.paths,
      ...(options.maxReaderBufferBytes !== undefined && {
        maxReaderBufferBytes: options.maxReaderBufferBytes,
      }),
    });
    const hlsWanted = options.hlsPort !== null && options.hlsPort !== undefined;
    this.hls = hlsWanted
      ? new HlsServer({
          rtspUrl: (path) => `rtsp://127.0.0.1:${this.#ports.rtsp}/${path}`,
          hasPath: (path) => this.paths.state(path) !== undefined,
          ...(options.hlsCloseAfterMs !== undefined && { closeAfterMs: options.hlsCloseAfterMs }),
        })
      : null;
    this.#hlsServer = this.hls ? http.createServer(this.hls.handler()) : null;
    this.#api = http.createServer(
      apiHandler({
        paths: this.paths,
        version: RELAY_VERSION,
        startedAt: new Date(),
        ports: () => this.#ports,
      }),
    );
  }

  async start(): Promise<{ rtspPort: number; apiPort: number; hlsPort: number | null }> {
    for (const path of this.#options.paths ?? [])
      await this.paths.set({ ...PATH_DEFAULTS, ...path });
    this.#ports.rtsp = (await this.#rtsp.start()).port;
    this.#api.listen(this.#options.apiPort, this.#options.host ?? '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      this.#api.once('listening', resolve);
      this.#api.once('error', reject);
    });
    this.#ports.api = (this.#api.address() as AddressInfo).port;
    if (this.#hlsServer) {
      this.#hlsServer.listen(this.#options.hlsPort ?? 0, this.#options.host ?? '127.0.0.1');
      await once(this.#hlsServer, 'listening');
      this.#ports.hls = (this.#hlsServer.address() as AddressInfo).port;
    }
    return {
      rtspPort: this.#ports.rtsp,
      apiPort: this.#ports.api,
      hlsPort: this.#hlsServer ? this.#ports.hls : null,
    };
  }

  async stop(): Promise<void> {
    await this.hls?.close();
    if (this.#hlsServer) {
      const hlsServer = this.#hlsServer;
      await new Promise<void>((resolve) => {
        hlsServer.close(() => resolve());
        hlsServer.closeAllConnections();
      });
    }
    await this.paths.close();
    await this.#rtsp.stop();
    await new Promise<void>((resolve) => {
      this.#api.close(() => resolve());
      this.#api.closeAllConnections();
    });
  }
}
