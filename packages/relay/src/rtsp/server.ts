/**
 * The RTSP listener: one RtspConnection per TCP connection, at most `maxConnections` of
 * them (a connection past the cap is closed at once). Every connection the relay closes
 * for a bound (cap, read or write timeout, slow reader) is reported to `onDrop`.
 */
import net, { type AddressInfo } from 'node:net';
import type { AccessControl } from '../access.js';
import { RtspConnection, type ConnectionOptions, type PathDirectory } from './connection.js';

export interface DropEvent {
  listener: 'rtsp' | 'hls';
  reason: string;
  remote?: string;
  path?: string;
}

export interface RtspServerOptions {
  host: string;
  port: number;
  paths: PathDirectory;
  /** Unsent bytes a reader may accumulate before it is dropped (default 2 MiB). */
  maxReaderBufferBytes?: number;
  /** Connections held at once (default 256). */
  maxConnections?: number;
  /** MediaMTX's readTimeout (default 10 s). */
  readTimeoutMs?: number;
  /** MediaMTX's writeTimeout (default 10 s). */
  writeTimeoutMs?: number;
  /** Absent: everyone may publish and read. */
  access?: AccessControl;
  onDrop?: (event: DropEvent) => void;
  log?: ConnectionOptions['log'];
}

export const RTSP_DEFAULTS = {
  maxReaderBufferBytes: 2 * 1024 * 1024,
  maxConnections: 256,
  readTimeoutMs: 10_000,
  writeTimeoutMs: 10_000,
};

export class RtspServer {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #options: RtspServerOptions;
  /** Connections closed at the cap since the last log line about it, and when that was. */
  #limitDrops = 0;
  #limitLoggedAt = 0;

  constructor(options: RtspServerOptions) {
    this.#options = options;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  get connections(): number {
    return this.#sockets.size;
  }

  #accept(socket: net.Socket): void {
    const options = this.#options;
    const remote = socket.remoteAddress;
    socket.on('error', () => undefined);
    if (this.#sockets.size >= (options.maxConnections ?? RTSP_DEFAULTS.maxConnections)) {
      socket.destroy();
      this.#dropped('connection_limit', remote);
      return;
    }
    try {
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      new RtspConnection(socket, {
        paths: options.paths,
        maxReaderBufferBytes: options.maxReaderBufferBytes ?? RTSP_DEFAULTS.maxReaderBufferBytes,
        readTimeoutMs: options.readTimeoutMs ?? RTSP_DEFAULTS.readTimeoutMs,
        writeTimeoutMs: options.writeTimeoutMs ?? RTSP_DEFAULTS.writeTimeoutMs,
        remote,
        ...(options.access && { access: options.access }),
        log: options.log,
        onDrop: (reason, path) => this.#dropped(reason, remote, path),
        onClose: () => this.#sockets.delete(socket),
      });
    } catch (error) {
      // Whatever went wrong ends this connection, not the relay.
      this.#sockets.delete(socket);
      socket.destroy();
      options.log?.('warn', { remote, error: (error as Error)?.message }, 'RTSP connection failed');
    }
  }

  #dropped(reason: string, remote: string | undefined, path?: string): void {
    if (reason === 'connection_limit') {
      // A flood of connections must not become a flood of log lines: one a second at
      // most, with how many were closed since the last one.
      this.#limitDrops += 1;
      const now = Date.now();
      if (now - this.#limitLoggedAt >= 1000) {
        this.#options.log?.(
          'warn',
          {
            reason,
            remote,
            max: this.#options.maxConnections ?? RTSP_DEFAULTS.maxConnections,
            closed: this.#limitDrops,
          },
          'closing new RTSP connections: the connection limit is reached',
        );
        this.#limitLoggedAt = now;
        this.#limitDrops = 0;
      }
    }
    try {
      this.#options.onDrop?.({
        listener: 'rtsp',
        reason,
        ...(remote !== undefined && { remote }),
        ...(path !== undefined && { path }),
      });
    } catch {
      // A failing observer must not take the listener down.
    }
  }

  async start(): Promise<AddressInfo> {
    this.#server.listen(this.#options.port, this.#options.host);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('listening', resolve);
      this.#server.once('error', reject);
    });
    return this.#server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}
