/**
 * Authentication for HTTP entry points (file downloads, /metrics when protected):
 * `Authorization: Bearer <jwt or key>` or `X-API-Key: <key>`. 401 without valid
 * credentials, 403 for a role below what the route needs, 429 while an address is
 * throttled.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { roleSatisfies, type Principal, type Role } from '../rpc/index.js';
import { sendJson, targetPath } from '../transport/index.js';
import type { Authenticator } from './authenticator.js';
import { AuthFailure, RateLimited } from './errors.js';

export type HttpAuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403 | 429; message: string; headers: Record<string, string> };

const CHALLENGE = { 'www-authenticate': 'Bearer realm="camera-service"' };

/**
 * The HTTP answer to a credential the authenticator refused: 401 with a Bearer challenge,
 * or 429 with Retry-After while the login throttle holds. Anything else is rethrown.
 */
export function authFailure(error: unknown): HttpAuthResult & { ok: false } {
  if (error instanceof AuthFailure)
    return { ok: false, status: 401, message: error.message, headers: CHALLENGE };
  if (error instanceof RateLimited) {
    const data = error.data as { retry_after: number };
    return {
      ok: false,
      status: 429,
      message: error.message,
      headers: { 'retry-after': String(data.retry_after) },
    };
  }
  throw error;
}

export function credentialOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

/**
 * @param remote the client's address (through trusted proxies), for the failure throttle
 *   and the audit log; default: the socket's.
 */
export async function authorizeRequest(
  req: IncomingMessage,
  required: Role,
  authenticator: Authenticator,
  remote: string = req.socket.remoteAddress ?? 'unknown',
): Promise<HttpAuthResult> {
  const token = credentialOf(req);
  const target = `${req.method ?? 'GET'} ${targetPath(req.url) ?? '(not a path)'}`;
  if (token === undefined) {
    return {
      ok: false,
      status: 401,
      message: 'Authentication required: send Authorization: Bearer <token> or X-API-Key: <key>.',
      headers: CHALLENGE,
    };
  }
  let principal: Principal;
  try {
    principal = await authenticator.authenticate(token, remote, target);
  } catch (error) {
    return authFailure(error);
  }
  if (!roleSatisfies(principal.role, required)) {
    authenticator.denied(principal, remote, target, required);
    return {
      ok: false,
      status: 403,
      message: `Permission denied: ${target} needs the ${required} role; these credentials have the ${principal.role} role.`,
      headers: {},
    };
  }
  return { ok: true, principal };
}

/** Answers the request when it is not authorised; returns whether it may proceed. */
export async function guardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  required: Role,
  authenticator: Authenticator,
  remote?: string,
): Promise<boolean> {
  const result = await authorizeRequest(req, required, authenticator, remote);
  if (result.ok) return true;
  sendJson(res, result.status, { error: result.message }, result.headers);
  return false;
}
