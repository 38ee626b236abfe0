/**
 * Who may read and publish the camera streams. The media server asks this for every
 * action, with MediaMTX's HTTP authentication request (`authMethod: http`; the embedded
 * relay asks the same way, in-process):
 *
 *   publish         only the service's own ffmpeg: its per-run publisher credential, from
 *                   this machine. Nobody else can replace a camera's picture.
 *   read, playback  a credential of the viewer role or above (JWT or API key) given as the
 *                   RTSP password, a bearer token, or `?token=` / `?jwt=`; or the service's
 *                   own reader credential (snapshots, recordings); or anyone, when
 *                   `auth.anonymous_viewing` is on.
 *   api             only the service, with its per-run API credential.
 *   anything else   nobody (metrics and pprof are off).
 *
 * A request without any credential is answered "ask for one" (401) and is not a failure:
 * players first try without, then with the credential from their URL. Failures count
 * toward the address's login throttle like any other, and a valid credential always
 * gets in. Verified credentials are cached briefly, so a player fetching an HLS segment
 * a second costs a map lookup, while expiry and revocation still hold on every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '../logging/index.js';
import { roleSatisfies, type Principal } from '../rpc/index.js';
import type { Authenticator } from './authenticator.js';
import { AuthFailure, RateLimited } from './errors.js';

/** MediaMTX's authentication request, as it POSTs it to authHTTPAddress. */
export interface StreamAuthRequest {
  ip: string;
  user: string;
  password: string;
  token: string;
  action: string;
  path: string;
  protocol: string;
  id: string | null;
  query: string;
}

export interface Credential {
  user: string;
  password: string;
}

/** The service's own credentials for its media server, made anew at each start. */
export interface InternalStreamCredentials {
  publisher: Credential;
  reader: Credential;
  api: Credential;
}

export type StreamDecision =
  { allow: true; who: string } | { allow: false; status: 401 | 403 | 429; reason: string };

export interface StreamAccessOptions {
  authenticator: Authenticator;
  credentials: InternalStreamCredentials;
  /** auth.anonymous_viewing, read at each request (it is live). */
  anonymousViewing: () => boolean;
  /** Addresses the service's own processes connect from (loopback, the listen address). */
  localAddresses?: () => readonly string[];
  audit: Logger;
  now: () => number;
  /** How long a verified credential is trusted without verifying it again (default 30 s). */
  cacheMs?: number;
}

const CACHE_ENTRIES = 1024;
const LOOPBACK = ['127.0.0.1', '::1'];

export class StreamAccess {
  readonly #options: StreamAccessOptions;
  readonly #cache = new Map<string, { principal: Principal; at: number }>();

  constructor(options: StreamAccessOptions) {
    this.#options = options;
  }

  async check(request: StreamAuthRequest): Promise<StreamDecision> {
    const { credentials } = this.#options;
    switch (request.action) {
      case 'api':
        return matches(request, credentials.api)
          ? { allow: true, who: 'camera-service' }
          : this.#deny(request, 401, 'the control API is for the service only');
      case 'publish':
        if (matches(request, credentials.publisher) && this.#isLocal(request.ip)) {
          return { allow: true, who: 'camera-service' };
        }
        return this.#deny(request, 401, 'only the service publishes camera streams');
      case 'read':
      case 'playback':
        return this.#read(request);
      default:
        return this.#deny(request, 403, `the ${request.action} action is not offered`);
    }
  }

  async #read(request: StreamAuthRequest): Promise<StreamDecision> {
    const { credentials } = this.#options;
    if (matches(request, credentials.reader) && this.#isLocal(request.ip)) {
      return { allow: true, who: 'camera-service' };
    }
    if (this.#options.anonymousViewing()) return { allow: true, who: 'anonymous' };
    const token = credentialIn(request);
    if (token === null) {
      return { allow: false, status: 401, reason: 'a viewer credential is required' };
    }
    let principal: Principal;
    try {
      principal = await this.#verify(token, request);
    } catch (error) {
      if (error instanceof RateLimited) return this.#deny(request, 429, error.message);
      if (error instanceof AuthFailure) return this.#deny(request, 401, error.message);
      throw error;
    }
    if (!roleSatisfies(principal.role, 'viewer')) {
      return this.#deny(request, 403, `the ${principal.role} role may not watch streams`);
    }
    return { allow: true, who: principal.subject };
  }

  /** The principal for a token: from the cache while fresh and still valid, else verified. */
  async #verify(token: string, request: StreamAuthRequest): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.#options.now();
    const cached = this.#cache.get(key);
    if (cached && now - cached.at < (this.#options.cacheMs ?? 30_000)) {
      try {
        this.#options.authenticator.check(cached.principal);
        return cached.principal;
      } catch (error) {
        this.#cache.delete(key);
        throw error;
      }
    }
    const principal = await this.#options.authenticator.authenticate(
      token,
      request.ip,
      `${request.protocol || 'stream'} ${request.action} ${request.path}`,
    );
    this.#cache.delete(key);
    this.#cache.set(key, { principal, at: now });
    if (this.#cache.size > CACHE_ENTRIES) {
      this.#cache.delete(this.#cache.keys().next().value as string);
    }
    return principal;
  }

  #isLocal(ip: string): boolean {
    const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    if (isIP(address) === 0) return false;
    return LOOPBACK.includes(address) || (this.#options.localAddresses?.() ?? []).includes(address);
  }

  #deny(request: StreamAuthRequest, status: 401 | 403 | 429, reason: string): StreamDecision {
    this.#options.audit.warn(
      {
        event: 'stream_denied',
        remote: request.ip,
        action: request.action,
        path: request.path,
        protocol: request.protocol,
        user: request.user || undefined,
        reason,
      },
      'audit: stream access denied',
    );
    return { allow: false, status, reason };
  }
}

/** Whether the request carries exactly this user and password (in constant time). */
function matches(request: StreamAuthRequest, credential: Credential): boolean {
  if (request.user !== credential.user) return false;
  const given = Buffer.from(request.password);
  const expected = Buffer.from(credential.password);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The viewer's credential, where players can put one: MediaMTX's `token` (a bearer token,
 * or for RTSP the `token` query parameter), the password of Basic credentials (RTSP
 * `rtsp://any:<token>@host/path`), or `?token=` / `?jwt=` in the query (HLS, WebRTC).
 */
export function credentialIn(request: StreamAuthRequest): string | null {
  if (request.token) return request.token;
  if (request.password) return request.password;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(request.query);
  } catch {
    return null;
  }
  return params.get('token') || params.get('jwt') || null;
}
