/**
 * Browser sessions for the dashboard: a sign-in (POST /session) turns a JWT or API key
 * into a random session id that the browser keeps in an HttpOnly cookie, so that the
 * credential itself never sits in page script, URLs or history, while <img>, <video>,
 * the MSE WebSocket and downloads are still authorised. The id is 256 random bits and the
 * store keeps only its SHA-256 (a leaked memory dump or log shows no usable cookie).
 *
 * A session holds the Principal the credential gave, and ends when that credential does:
 * at the JWT's expiry, when its API key is revoked (Authenticator.check, on every use),
 * or at sign-out. At most `max` sessions live at once; a new one evicts the oldest.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../rpc/index.js';
import type { Authenticator } from './authenticator.js';
import { AuthFailure } from './errors.js';

export const SESSION_COOKIE = 'camera_session';

interface Entry {
  principal: Principal;
  createdAt: number;
}

export interface WebSessionsOptions {
  authenticator: Authenticator;
  now: () => number;
  /** Sessions kept at once; the oldest goes first (default 1000). */
  max?: number;
}

export class WebSessions {
  readonly #authenticator: Authenticator;
  readonly #now: () => number;
  readonly #max: number;
  /** By the id's hash, oldest first (a Map keeps insertion order). */
  readonly #entries = new Map<string, Entry>();
  readonly #endListeners = new Set<(hash: string) => void>();

  constructor(options: WebSessionsOptions) {
    this.#authenticator = options.authenticator;
    this.#now = options.now;
    this.#max = Math.max(1, options.max ?? 1000);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Verifies the credential (through the authenticator: audited, and throttled per
   * address) and starts a session; throws AuthFailure or RateLimited as authenticate does.
   */
  async create(
    token: string,
    remote: string,
  ): Promise<{ id: string; hash: string; principal: Principal }> {
    const principal = await this.#authenticator.authenticate(token, remote, 'POST /session');
    this.#sweep();
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#end(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const hash = hashOf(id);
    this.#entries.set(hash, { principal, createdAt: this.#now() });
    return { id, hash, principal };
  }

  /** The principal of a live session, or null (unknown, expired, revoked: ended now). */
  get(id: string): Principal | null {
    const hash = hashOf(id);
    const entry = this.#entries.get(hash);
    if (!entry) return null;
    try {
      this.#authenticator.check(entry.principal);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      this.#end(hash);
      return null;
    }
    return entry.principal;
  }

  /** Whether the session with this hash is still live (connections opened with it ask). */
  isLive(hash: string): boolean {
    const entry = this.#entries.get(hash);
    if (!entry) return false;
    try {
      this.#authenticator.check(entry.principal);
      return true;
    } catch {
      this.#end(hash);
      return false;
    }
  }

  /** Ends a session (sign-out); returns the principal it had, or null. */
  end(id: string): Principal | null {
    const hash = hashOf(id);
    const entry = this.#entries.get(hash);
    if (!entry) return null;
    this.#end(hash);
    return entry.principal;
  }

  /** Called with the session's hash whenever one ends, whatever the reason. */
  onEnd(listener: (hash: string) => void): () => void {
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  #end(hash: string): void {
    if (!this.#entries.delete(hash)) return;
    for (const listener of this.#endListeners) listener(hash);
  }

  /** Ends the sessions whose credential no longer holds. */
  #sweep(): void {
    for (const hash of [...this.#entries.keys()]) this.isLive(hash);
  }
}

export function hashOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The session id in a Cookie header, if any. */
export function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}
