/**
 * The WebSocket handshake of /streams/<path>/mse: the caller is authorised as for any
 * stream (header credential, session cookie with the service's own Origin, or `?token=`),
 * and the connection is then closed with 4401 (no valid credential) or 4404 (no camera at
 * that path), or handed to MseStreams. A cookie with a foreign Origin is refused at the
 * handshake (403), as on /ws.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { hashOf, sessionCookie } from '../auth/index.js';
import { rejectSocket } from '../transport/index.js';
import type { MseStreams } from './mse.js';
import { authorizeDashboard, sameOrigin, type DashboardAuth } from './session-http.js';
import { streamTarget } from './streams.js';

export function mseUpgrade(deps: {
  auth: DashboardAuth;
  mse: MseStreams;
  hasPath: (path: string) => boolean;
}): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024,
    perMessageDeflate: false,
    clientTracking: false,
  });
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const target = streamTarget(req.url);
    if (!target || target.rest !== 'mse') {
      rejectSocket(socket, 404, 'Not Found', {
        error: 'The live WebSocket is at /streams/<path>/mse.',
      });
      return;
    }
    const cookie = sessionCookie(req.headers.cookie);
    if (
      cookie !== undefined &&
      req.headers.authorization === undefined &&
      !sameOrigin(req, deps.auth.clients)
    ) {
      rejectSocket(socket, 403, 'Forbidden', {
        error:
          "Refused: a live stream opened with the session cookie must come from the service's own pages.",
      });
      return;
    }
    void authorizeDashboard(req, 'viewer', deps.auth, {
      queryToken: true,
      originChecked: true,
    }).then(
      (result) => {
        wss.handleUpgrade(req, socket, head, (ws) => {
          if (!result.ok) return void ws.close(4401, result.message.slice(0, 120));
          if (!deps.hasPath(target.path)) {
            return void ws.close(4404, 'no camera streams at this path');
          }
          const principal = result.principal;
          const hash =
            cookie !== undefined && req.headers.authorization === undefined ? hashOf(cookie) : null;
          deps.mse.watch(target.path, {
            socket: ws,
            allowed: () => {
              if (hash !== null && !deps.auth.sessions.isLive(hash)) return false;
              try {
                deps.auth.authenticator.check(principal);
                return true;
              } catch {
                return false;
              }
            },
          });
        });
      },
      () => socket.destroy(),
    );
  };
}
