/** The RTSP listener: one RtspConnection per TCP connection. */
import net, { type AddressInfo } from 'node:net';
import { RtspConnection, type ConnectionOptions, type PathDirectory } from './connection.js';

export interface RtspServerOptions {
  host: string;
  port: number;
  paths: PathDirectory;
  /** Unsent bytes a reader may accumulate before it is dropped (default 2 MiB). */
  maxReaderBufferBytes?: number;
  log?: ConnectionOptions['log'];
}

export class RtspServer {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #options: RtspServerOptions;

  constructor(options: RtspServerOptions) {
    this.#options = options;
    this.#server = net.createServer((socket) => {
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      new RtspConnection(socket, {
        paths: options.paths,
        maxReaderBufferBytes: options.maxReaderBufferBytes ?? 2 * 1024 * 1024,
        log: options.log,
        onClose: () => this.#sockets.delete(socket),
      });
    });
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
