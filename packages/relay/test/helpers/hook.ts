/** A real HTTP authentication server, as MediaMTX's authHTTPAddress points at. */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthRequest } from '../../src/index.js';

export interface HookServer {
  url: string;
  /** Every body received, parsed, in order. */
  requests: AuthRequest[];
  /** Decides each answer's status (default: 401). */
  decide: (request: AuthRequest) => number;
  /** Resolves with the next request that `match` accepts (one already received counts). */
  next(match?: (request: AuthRequest) => boolean, timeoutMs?: number): Promise<AuthRequest>;
  close(): Promise<void>;
}

export async function startHookServer(
  decide: (request: AuthRequest) => number = () => 401,
): Promise<HookServer> {
  const requests: AuthRequest[] = [];
  const waiters: { match: (r: AuthRequest) => boolean; resolve: (r: AuthRequest) => void }[] = [];
  const hook: HookServer = {
    url: '',
    requests,
    decide,
    next(match = () => true, timeoutMs = 10_000) {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching hook request within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AuthRequest;
      requests.push(request);
      for (const waiter of [...waiters]) {
        if (!waiter.match(request)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(request);
      }
      res.writeHead(hook.decide(request)).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
  return hook;
}

/** Allows publishers and the given credential; refuses everything else. */
export function allowSecret(secret: string) {
  return (request: AuthRequest): number =>
    request.token === secret || request.password === secret ? 200 : 401;
}
