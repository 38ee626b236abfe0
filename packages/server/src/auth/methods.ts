import type { MethodRegistry, Role } from '../rpc/index.js';
import type { Authenticator } from './authenticator.js';
import { authenticate } from './contracts.js';

/** What each role may do: viewers watch, operators also control cameras, admins also manage. */
export const PERMISSIONS: Record<Role, ('view' | 'control' | 'admin')[]> = {
  viewer: ['view'],
  operator: ['view', 'control'],
  admin: ['view', 'control', 'admin'],
};

export function registerAuthMethods(methods: MethodRegistry, authenticator: Authenticator): void {
  methods.register(authenticate, async ({ auth_token }, ctx) => {
    let principal;
    try {
      principal = await authenticator.authenticate(
        auth_token,
        ctx.session.remoteAddress,
        'authenticate',
      );
    } catch (error) {
      // A failed authenticate leaves the connection unauthenticated, not with its old role.
      ctx.session.principal = null;
      throw error;
    }
    ctx.session.principal = principal;
    return {
      authenticated: true as const,
      role: principal.role,
      permissions: PERMISSIONS[principal.role],
      expires_at: principal.expiresAt === null ? null : new Date(principal.expiresAt).toISOString(),
      session_id: principal.sessionId,
    };
  });
}
