/**
 * Who may publish, read and use the API: the relay's side of MediaMTX's authentication
 * manager. Each listener hands in the credentials it found (RTSP Basic, HTTP Basic or
 * Bearer) and the request's path and query; this fills the token as MediaMTX does, asks
 * the hook, and tells the listener what to answer:
 *   allowed; `ask` (refused, and the request carried no credential at all: challenge it);
 *   `denied` (refused with a credential: the pause against brute force has been waited).
 * The relay's own HLS muxer reads with a per-relay token that is allowed before the hook,
 * as MediaMTX's muxer reads internally without asking it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthAction, AuthHook, AuthProtocol, AuthRequest } from './auth.js';
import { parseQuery } from './http-target.js';

export interface AccessCredentials {
  user: string;
  pass: string;
  /** A bearer token (HTTP only). */
  token: string;
}

const NONE: AccessCredentials = { user: '', pass: '', token: '' };

export type AccessOutcome = 'allowed' | 'ask' | 'denied';

export interface AccessCheck {
  action: AuthAction;
  /** No leading slash, no query. */
  path: string;
  /** As sent, without the `?`. */
  query: string;
  protocol: AuthProtocol;
  id: string | null;
  /** The peer's address as the socket gives it. */
  remote: string | undefined;
  credentials: AccessCredentials;
}

export interface AccessControlOptions {
  hook?: AuthHook;
  /** Pause after a refusal of a request that carried a credential (MediaMTX: 2 s). */
  failPauseMs?: number;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
}

/** MediaMTX's pause after a failed authentication that carried credentials. */
export const AUTH_FAIL_PAUSE_MS = 2000;

export class AccessControl {
  /** The token of the relay's own HLS muxer; it never leaves the process but in its URL. */
  readonly internalToken = randomBytes(24).toString('hex');
  readonly #options: AccessControlOptions;

  constructor(options: AccessControlOptions = {}) {
    this.#options = options;
  }

  /** Whether anything is checked at all (without a hook, everyone is allowed). */
  get enabled(): boolean {
    return this.#options.hook !== undefined;
  }

  async check(check: AccessCheck): Promise<AccessOutcome> {
    const hook = this.#options.hook;
    if (!hook) return 'allowed';
    const token = tokenOf(check);
    if (check.protocol === 'rtsp' && check.action === 'read' && this.#isInternal(token))
      return 'allowed';
    const request: AuthRequest = {
      ip: addressOf(check.remote),
      user: check.credentials.user,
      password: check.credentials.pass,
      token,
      action: check.action,
      path: check.path,
      protocol: check.protocol,
      id: check.id,
      query: check.query,
    };
    let allowed = false;
    try {
      allowed = (await hook(request)) === true;
    } catch (error) {
      this.#options.log?.(
        'warn',
        { action: check.action, path: check.path, error: (error as Error).message },
        'the authentication hook failed; the request is refused',
      );
    }
    if (allowed) return 'allowed';
    if (request.user === '' && request.password === '' && token === '') return 'ask';
    this.#options.log?.(
      'info',
      { action: check.action, path: check.path, protocol: check.protocol, remote: check.remote },
      'authentication failed',
    );
    await new Promise<void>((resolve) =>
      setTimeout(resolve, this.#options.failPauseMs ?? AUTH_FAIL_PAUSE_MS),
    );
    return 'denied';
  }

  #isInternal(token: string): boolean {
    const expected = Buffer.from(this.internalToken);
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * The token MediaMTX sends with `authMethod: http`: a bearer token, else the password,
 * else for RTSP and RTMP a single `token` (or legacy `jwt`) query parameter. For HLS and
 * WebRTC the query is not read (the hook gets it raw in `query`).
 */
function tokenOf(check: AccessCheck): string {
  if (check.credentials.token !== '') return check.credentials.token;
  if (check.credentials.pass !== '') return check.credentials.pass;
  if (check.protocol === 'rtsp' || check.protocol === 'rtmp') {
    const values = parseQuery(check.query);
    const token = values?.get('token');
    if (token?.length === 1) return token[0] as string;
    const jwt = values?.get('jwt');
    if (jwt?.length === 1) return jwt[0] as string;
  }
  return '';
}

/** An address as Go prints a net.IP: IPv4-mapped IPv6 addresses in dotted form. */
export function addressOf(remote: string | undefined): string {
  if (remote === undefined) return '';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remote);
  return mapped ? (mapped[1] as string) : remote;
}

/**
 * HTTP credentials as MediaMTX reads them: a `Bearer user:pass` or `Bearer token`
 * Authorization header wins; otherwise Basic credentials (from the first header).
 */
export function httpCredentials(authorization: readonly string[] | undefined): AccessCredentials {
  const values = authorization ?? [];
  for (const value of values) {
    if (!value.startsWith('Bearer ')) continue;
    const rest = value.slice('Bearer '.length);
    const parts = rest.split(':');
    if (parts.length === 2)
      return { user: parts[0] as string, pass: parts[1] as string, token: '' };
    return { ...NONE, token: rest };
  }
  const first = values[0];
  if (first === undefined || first.length < 6 || first.slice(0, 6).toLowerCase() !== 'basic ')
    return NONE;
  const decoded = strictBase64(first.slice(6));
  const colon = decoded?.indexOf(':') ?? -1;
  if (decoded === null || colon < 0) return NONE;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1), token: '' };
}

/**
 * RTSP credentials as MediaMTX reads them: the user of a Basic or Digest Authorization
 * header, and the password of a Basic one. A malformed header is no credential.
 */
export function rtspCredentials(authorization: string | undefined): AccessCredentials {
  if (authorization === undefined) return NONE;
  const space = authorization.indexOf(' ');
  const scheme = space < 0 ? authorization : authorization.slice(0, space);
  const rest = space < 0 ? '' : authorization.slice(space + 1);
  if (scheme === 'Basic') {
    const decoded = strictBase64(rest);
    const colon = decoded?.indexOf(':') ?? -1;
    if (decoded === null || colon < 0) return NONE;
    return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1), token: '' };
  }
  if (scheme === 'Digest') {
    const user = /(?:^|,)\s*username="([^"]*)"/.exec(rest)?.[1];
    return user === undefined ? NONE : { ...NONE, user };
  }
  return NONE;
}

/** Standard base64 with padding, as Go's StdEncoding accepts it; null otherwise. */
function strictBase64(text: string): string | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64').toString('utf8');
}
