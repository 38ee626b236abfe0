/**
 * Signing in and out: the credential (a JWT or an API key) goes once, in a POST body, to
 * /session; the service answers with an HttpOnly session cookie that the page's socket,
 * players, images and downloads carry by themselves. The credential is never kept by the
 * page nor put in a URL.
 */
export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  role: Role;
  expires_at: string | null;
}

async function sentence(response: Response, fallback: string): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // Not JSON.
  }
  return fallback;
}

/** The current session, or null when there is none (never signed in, ended, expired). */
export async function currentSession(): Promise<Session | null> {
  const response = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`The service answered ${response.status} for /session.`);
  return (await response.json()) as Session;
}

/** Signs in; rejects with the service's sentence (bad credential, too many attempts). */
export async function signIn(token: string): Promise<Session> {
  const response = await fetch('/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) {
    throw new Error(
      await sentence(
        response,
        response.status === 429
          ? 'Too many attempts: wait a minute, then try again.'
          : `Sign-in failed (${response.status}).`,
      ),
    );
  }
  return (await response.json()) as Session;
}

export async function signOut(): Promise<void> {
  await fetch('/session', { method: 'DELETE', credentials: 'same-origin' });
}

/** What a role may do, as the server's access rules say (the server refuses anyway). */
export function can(role: Role, what: 'control' | 'admin'): boolean {
  return what === 'admin' ? role === 'admin' : role === 'operator' || role === 'admin';
}
