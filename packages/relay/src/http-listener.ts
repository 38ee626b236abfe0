/**
 * An HTTP listener that no request can take down: the handler runs inside one guard that
 * turns any exception into a 500 for that request only; requests Node cannot parse get
 * 400 (431 for oversized headers); a request whose head and body do not arrive within
 * `readTimeoutMs` (MediaMTX's readTimeout) gets 408 and is closed, and reported; a
 * connection that takes nothing of its answer for `writeTimeoutMs` (MediaMTX's
 * writeTimeout) is closed, and reported; at most `maxConnections` are held at once.
 */
import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface ListenerOptions {
  readTimeoutMs: number;
  /** A connection that makes no progress (nothing read or written) for this long is closed. */
  writeTimeoutMs?: number;
  /** Connections held at once; more wait in the kernel's queue. */
  maxConnections?: number;
  /** A connection closed because its request did not arrive, or its answer did not leave, in time. */
  onTimeout?: (remote: string | undefined, reason: 'read_timeout' | 'write_timeout') => void;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
  name: string;
}

export function createListener(handler: Handler, options: ListenerOptions): http.Server {
  const server = http.createServer(
    {
      headersTimeout: options.readTimeoutMs,
      requestTimeout: options.readTimeoutMs,
      // Node checks the two timeouts on this interval (30 s by default).
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, options.readTimeoutMs / 4)),
    },
    (req, res) => {
      const fail = (error: unknown) => {
        options.log?.(
          'warn',
          { listener: options.name, url: req.url?.slice(0, 200), error: (error as Error)?.message },
          'request failed with an internal error',
        );
        if (!res.headersSent) res.writeHead(500, { connection: 'close' }).end();
        else res.destroy();
      };
      try {
        Promise.resolve(handler(req, res)).catch(fail);
      } catch (error) {
        fail(error);
      }
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const remote = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timedOut) options.onTimeout?.(remote, 'read_timeout');
    const message = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || message?.headersSent) {
      socket.destroy();
      return;
    }
    const status = timedOut ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    // Closed once the answer is out, whether or not the peer closes its side.
    (socket as Duplex & { destroySoon(): void }).destroySoon();
  });
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  if (options.writeTimeoutMs !== undefined) {
    // A client that stops reading an answer leaves its socket idle: nothing more can be
    // written to it. (Idle keep-alive sockets are closed sooner, by keepAliveTimeout.)
    server.setTimeout(options.writeTimeoutMs, (socket) => {
      options.onTimeout?.(socket.remoteAddress, 'write_timeout');
      socket.destroy();
    });
  }
  return server;
}
