import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logging/index.js';

export interface TlsFiles {
  cert: string | null;
  key: string | null;
}

/** A request handler that may be async; whatever it throws or rejects is contained. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

export interface ServerOptions {
  log: Logger;
  /** What the listener is, for log lines ("API server"). */
  name: string;
  /** TCP connections held at once (default: Node's, unbounded). */
  maxConnections?: number;
}

/** A client has this long to send a request's headers, and this long for the whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * An HTTP server, or HTTPS when a certificate and key are configured, that no request can
 * take down: its handler is guarded (see `guard`), slow or silent clients are cut after
 * the header and request deadlines, and malformed HTTP is answered 400 by Node itself.
 */
export function createHttpServer(
  tls: TlsFiles,
  handler: Handler,
  options: ServerOptions,
): http.Server {
  const listener = guard(handler, options.log, options.name);
  const settings = { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS };
  const server =
    tls.cert && tls.key
      ? https.createServer(
          { ...settings, cert: readFileSync(tls.cert), key: readFileSync(tls.key) },
          listener,
        )
      : http.createServer(settings, listener);
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    options.log.debug({ err: error.code ?? error.message }, 'malformed request refused');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.on('dropRequest', () => options.log.warn({ server: options.name }, 'request dropped'));
  return server;
}

/**
 * The guard every listener's handler runs inside: a throw or a rejection becomes a 500 for
 * that request only (or a cut connection once the answer has started), logged with its
 * stack, and never reaches the process-wide handler that would end the service.
 */
export function guard(handler: Handler, log: Logger, name: string): http.RequestListener {
  return (req, res) => {
    const fail = (error: unknown) => {
      log.error({ err: error, server: name, method: req.method }, 'request handling failed');
      if (!res.headersSent) {
        sendJson(res, 500, { error: 'The request failed inside the service; try again.' });
      } else {
        res.destroy();
      }
    };
    try {
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/** Answers an upgrade (or any raw socket) with a small JSON error and closes it. */
export function rejectSocket(
  socket: Duplex,
  status: number,
  statusText: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text}`,
  );
}

/**
 * A listener that could not bind: a sentence, and the code, port and address, from which
 * the daemon names the setting to change.
 */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly port: number,
    readonly address: string,
    readonly what: string,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

/** Listens and resolves with the bound address; port 0 picks a free port. */
export function listen(
  server: http.Server,
  port: number,
  host: string,
  what: string,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const hint =
        error.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use (another instance running?)`
          : error.code === 'EACCES'
            ? `no permission to listen on port ${port} (ports below 1024 need root)`
            : error.code === 'EADDRNOTAVAIL'
              ? `${host} is not an address of this machine`
              : (error.message ?? String(error));
      const next =
        error.code === 'EADDRNOTAVAIL'
          ? 'Choose one of its addresses in the configuration.'
          : 'Choose another port in the configuration (0 picks a free one).';
      reject(
        new ListenError(`Cannot start the ${what}: ${hint}. ${next}`, error.code, port, host, what),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Stops accepting, ends idle keep-alive sockets, and waits for the server to close. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Sends a small JSON response. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
