/**
 * Sign-in for the dashboard (POST/GET/DELETE /session), and the one authorisation rule of
 * the browser-facing HTTP routes (/files, /streams): a Bearer or X-API-Key credential as
 * before, else the session cookie, else (streams only, for players that cannot send
 * headers) `?token=`.
 *
 * CSRF: the cookie is SameSite=Strict, and besides a request that carries it and changes
 * state (POST, DELETE, a WebSocket upgrade) must come with an Origin equal to the
 * service's own (scheme and Host, or a trusted proxy's forwarded ones): a page of another
 * site can make the browser send neither. A sign-in with a foreign Origin is refused too
 * (login CSRF), and it must be JSON, which a plain HTML form cannot send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  SESSION_COOKIE,
  authFailure,
  authorizeRequest,
  credentialOf,
  hashOf,
  sessionCookie,
  type Authenticator,
  type HttpAuthResult,
  type WebSessions,
} from '../auth/index.js';
import type { Logger } from '../logging/index.js';
import { roleSatisfies, type Principal, type Role } from '../rpc/index.js';
import { sendJson, targetPath, targetQuery, type ClientResolver } from '../transport/index.js';

export interface DashboardAuth {
  sessions: WebSessions;
  authenticator: Authenticator;
  clients: ClientResolver;
  audit: Logger;
}

/** Bytes of a sign-in body at most: a JWT or an API key in JSON. */
const MAX_BODY = 16 * 1024;
const BODY_TIMEOUT_MS = 10_000;

/** Whether the request's Origin is the service's own. */
export function sameOrigin(req: IncomingMessage, clients: ClientResolver): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  const own = clients.ownOrigin(req);
  return own !== null && origin.toLowerCase() === own;
}

/** The session a request's cookie names, when it is live: its principal and hash. */
export function cookieSession(
  req: IncomingMessage,
  sessions: WebSessions,
): { principal: Principal; hash: string } | null {
  const id = sessionCookie(req.headers.cookie);
  if (id === undefined) return null;
  const principal = sessions.get(id);
  return principal ? { principal, hash: hashOf(id) } : null;
}

/**
 * Authorises a browser-facing request for `required`: header credentials first, then the
 * cookie, then (with `queryToken`) `?token=`. A state-changing request authorised by the
 * cookie must pass the Origin check.
 */
export async function authorizeDashboard(
  req: IncomingMessage,
  required: Role,
  auth: DashboardAuth,
  options: { queryToken?: boolean; originChecked?: boolean } = {},
): Promise<HttpAuthResult> {
  const remote = auth.clients.address(req);
  if (credentialOf(req) !== undefined) {
    return authorizeRequest(req, required, auth.authenticator, remote);
  }
  const target = `${req.method ?? 'GET'} ${targetPath(req.url) ?? '(not a path)'}`;
  let principal: Principal | null = null;
  if (sessionCookie(req.headers.cookie) !== undefined) {
    const method = req.method ?? 'GET';
    if (
      method !== 'GET' &&
      method !== 'HEAD' &&
      !options.originChecked &&
      !sameOrigin(req, auth.clients)
    ) {
      return {
        ok: false,
        status: 403,
        message:
          "Refused: a request signed in by the session cookie must come from the service's own pages (its Origin header did not match).",
        headers: {},
      };
    }
    principal = cookieSession(req, auth.sessions)?.principal ?? null;
    if (principal === null) {
      return {
        ok: false,
        status: 401,
        message: 'The dashboard session has ended (signed out, expired or revoked): sign in again.',
        headers: {},
      };
    }
  } else if (options.queryToken) {
    const token = new URLSearchParams(targetQuery(req.url)).get('token');
    if (token) {
      try {
        principal = await auth.authenticator.authenticate(token, remote, target);
      } catch (error) {
        return authFailure(error);
      }
    }
  }
  if (principal === null) {
    return {
      ok: false,
      status: 401,
      message: options.queryToken
        ? 'Authentication required: sign in to the dashboard, send Authorization: Bearer <token>, or add ?token=<token>.'
        : 'Authentication required: sign in to the dashboard, or send Authorization: Bearer <token> or X-API-Key: <key>.',
      headers: { 'www-authenticate': 'Bearer realm="camera-service"' },
    };
  }
  if (!roleSatisfies(principal.role, required)) {
    auth.authenticator.denied(principal, remote, target, required);
    return {
      ok: false,
      status: 403,
      message: `Permission denied: ${target} needs the ${required} role; this session has the ${principal.role} role.`,
      headers: {},
    };
  }
  return { ok: true, principal };
}

export function isSessionRequest(req: IncomingMessage): boolean {
  return targetPath(req.url) === '/session';
}

function view(principal: Principal) {
  return {
    role: principal.role,
    expires_at: principal.expiresAt === null ? null : new Date(principal.expiresAt).toISOString(),
  };
}

function cookieHeader(value: string, secure: boolean, maxAge: number | null): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'HttpOnly',
    'SameSite=Strict',
    'Path=/',
    ...(maxAge !== null ? [`Max-Age=${maxAge}`] : []),
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The /session routes. */
export function sessionHandler(
  auth: DashboardAuth,
  now: () => number,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const client = auth.clients.resolve(req);
    const remote = client.address;
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      const session = cookieSession(req, auth.sessions);
      if (!session) {
        sendJson(res, 401, { error: 'Not signed in: POST /session with {"token": "..."}.' });
        return;
      }
      sendJson(res, 200, view(session.principal));
      return;
    }
    if (method !== 'POST' && method !== 'DELETE') {
      sendJson(
        res,
        405,
        { error: 'Use POST /session to sign in, GET to see the session, DELETE to sign out.' },
        { allow: 'GET, HEAD, POST, DELETE' },
      );
      return;
    }
    // State changes: a foreign page may not sign a browser in or out.
    if (req.headers.origin !== undefined || sessionCookie(req.headers.cookie) !== undefined) {
      if (!sameOrigin(req, auth.clients)) {
        auth.audit.warn(
          { event: 'session_refused', remote, origin: req.headers.origin ?? null },
          'audit: dashboard session change refused: foreign or missing Origin',
        );
        sendJson(res, 403, {
          error:
            "Refused: sign-in and sign-out are accepted from the service's own pages only (the Origin header did not match).",
        });
        return;
      }
    }
    if (method === 'DELETE') {
      const id = sessionCookie(req.headers.cookie);
      const principal = id === undefined ? null : auth.sessions.end(id);
      if (principal) {
        auth.audit.info(
          { event: 'session_end', remote, subject: principal.subject, reason: 'signed_out' },
          'audit: dashboard signed out',
        );
      }
      res.writeHead(204, {
        'set-cookie': cookieHeader('', client.secure, 0),
        'cache-control': 'no-store',
      });
      res.end();
      return;
    }
    const contentType = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(contentType)) {
      sendJson(res, 415, {
        error: 'Send the sign-in as JSON: Content-Type: application/json, {"token": "..."}.',
      });
      return;
    }
    let token: unknown;
    try {
      const body = await readBody(req);
      token = (JSON.parse(body) as { token?: unknown } | null)?.token;
    } catch (error) {
      sendJson(res, 400, {
        error:
          error instanceof BodyTooLarge
            ? `The sign-in body is larger than ${MAX_BODY} bytes.`
            : 'The sign-in body is not JSON of the form {"token": "<JWT or API key>"}.',
      });
      return;
    }
    if (typeof token !== 'string' || token.length === 0) {
      sendJson(res, 400, { error: 'Give the credential as {"token": "<JWT or API key>"}.' });
      return;
    }
    let created;
    try {
      created = await auth.sessions.create(token, remote);
    } catch (error) {
      const result = authFailure(error);
      if (!result.ok) sendJson(res, result.status, { error: result.message }, result.headers);
      return;
    }
    const { principal } = created;
    auth.audit.info(
      {
        event: 'session_start',
        remote,
        subject: principal.subject,
        role: principal.role,
        credential: principal.credential,
        auth_session: principal.sessionId,
      },
      'audit: dashboard signed in',
    );
    const maxAge =
      principal.expiresAt === null
        ? null
        : Math.max(0, Math.floor((principal.expiresAt - now()) / 1000));
    sendJson(res, 200, view(principal), {
      'set-cookie': cookieHeader(created.id, client.secure, maxAge),
    });
  };
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      reject(new Error('timeout'));
      req.destroy();
    }, BODY_TIMEOUT_MS);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        clearTimeout(timer);
        reject(new BodyTooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
