import type { Principal, Role } from '../../src/rpc/index.js';

/** A principal as authentication would bind it, for tests below the auth layer. */
export function principalFor(role: Role, extra: Partial<Principal> = {}): Principal {
  return {
    role,
    subject: `test-${role}`,
    credential: 'jwt',
    expiresAt: null,
    sessionId: 'test-session',
    ...extra,
  };
}
