import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsFiles {
  cert: string | null;
  key: string | null;
}

/** An HTTP server, or HTTPS when a certificate and key are configured. */
export function createHttpServer(tls: TlsFiles, handler: http.RequestListener): http.Server {
  if (tls.cert && tls.key) {
    return https.createServer(
      { cert: readFileSync(tls.cert), key: readFileSync(tls.key) },
      handler,
    );
  }
  return http.createServer(handler);
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
          ? `port ${port} on ${host} is already in use`
          : error.code === 'EACCES'
            ? `no permission to listen on port ${port} (ports below 1024 need root)`
            : error.code === 'EADDRNOTAVAIL'
              ? `${host} is not an address of this machine`
              : (error.message ?? String(error));
      reject(
        new Error(
          `Cannot start the ${what}: ${hint}. Choose another port in the configuration (0 picks a free one).`,
        ),
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
