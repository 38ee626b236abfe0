/**
 * RTSP client authentication (RFC 2617 as cameras use it): Basic, and Digest with MD5
 * (no qop, or qop=auth). Pure.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** Parses `Digest realm="x", nonce="y", qop="auth"` (or Basic) into its parameters. */
export function parseChallenge(header: string): { scheme: string; params: Map<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params = new Map<string, string>();
  const rest = space < 0 ? '' : header.slice(space + 1);
  for (const match of rest.matchAll(/([A-Za-z-]+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    params.set((match[1] as string).toLowerCase(), match[2] ?? match[3] ?? '');
  }
  return { scheme, params };
}

/** The Authorization header answering `challenges` (Digest preferred), or null if none fits. */
export function authorization(
  challenges: string[],
  credentials: Credentials,
  method: string,
  uri: string,
  nc = 1,
  cnonce = randomBytes(8).toString('hex'),
): string | null {
  const parsed = challenges.map(parseChallenge);
  const digest = parsed.find((c) => c.scheme === 'digest');
  if (digest) {
    const realm = digest.params.get('realm') ?? '';
    const nonce = digest.params.get('nonce') ?? '';
    const qop = digest.params
      .get('qop')
      ?.split(',')
      .map((q) => q.trim())
      .includes('auth')
      ? 'auth'
      : null;
    const ha1 = md5(`${credentials.username}:${realm}:${credentials.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const count = nc.toString(16).padStart(8, '0');
    const response = qop
      ? md5(`${ha1}:${nonce}:${count}:${cnonce}:${qop}:${ha2}`)
      : md5(`${ha1}:${nonce}:${ha2}`);
    const parts = [
      `username="${credentials.username}"`,
      `realm="${realm}"`,
      `nonce="${nonce}"`,
      `uri="${uri}"`,
      `response="${response}"`,
    ];
    const opaque = digest.params.get('opaque');
    if (opaque !== undefined) parts.push(`opaque="${opaque}"`);
    if (qop) parts.push(`qop=${qop}`, `nc=${count}`, `cnonce="${cnonce}"`);
    return `Digest ${parts.join(', ')}`;
  }
  if (parsed.some((c) => c.scheme === 'basic')) {
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }
  return null;
}
