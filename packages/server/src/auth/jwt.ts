/**
 * HS256 JSON Web Tokens with claims sub, role and exp (jose). Tokens of the earlier Python
 * and Go implementations carry the subject in `user_id`: accepted when there is no `sub`.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { isRole, type Role } from '../rpc/index.js';
import { AuthFailure } from './errors.js';

export interface VerifiedToken {
  subject: string;
  role: Role;
  /** Epoch ms. */
  expiresAt: number;
}

export interface MintOptions {
  role: Role;
  subject: string;
  ttlSeconds: number;
}

export class JwtService {
  readonly #key: KeyObject;
  readonly #now: () => number;

  constructor(secret: string, options: { now?: () => number } = {}) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.#now = options.now ?? Date.now;
  }

  mint(options: MintOptions): Promise<string> {
    const issuedAt = Math.floor(this.#now() / 1000);
    return new SignJWT({ role: options.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(options.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + Math.max(1, Math.round(options.ttlSeconds)))
      .sign(this.#key);
  }

  /** Verifies signature, algorithm (HS256 only: `none` and others are refused) and claims. */
  async verify(token: string): Promise<VerifiedToken> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        currentDate: new Date(this.#now()),
      }));
    } catch (error) {
      throw new AuthFailure(error instanceof errors.JWTExpired ? 'token_expired' : 'invalid_token');
    }
    const subject = payload.sub ?? payload.user_id;
    if (!isRole(payload.role) || typeof subject !== 'string' || typeof payload.exp !== 'number') {
      throw new AuthFailure('invalid_token');
    }
    return { subject, role: payload.role, expiresAt: payload.exp * 1000 };
  }
}

/** Parses a lifetime such as 90, 90s, 30m, 1h, 7d into seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a lifetime; use e.g. 3600, 30m, 1h or 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds < 1) throw new Error(`"${text}" is shorter than one second`);
  return seconds;
}
