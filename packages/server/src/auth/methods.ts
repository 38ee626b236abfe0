import { InvalidParams, ServiceError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { MethodRegistry, Role } from '../rpc/index.js';
import type { ApiKeyStore } from './api-keys.js';
import type { Authenticator } from './authenticator.js';
import { authenticate } from './contracts.js';
import { createApiKey, listApiKeys, revokeApiKey } from './key-contracts.js';

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

/** The admin methods on API keys: the store `camera-service keys` edits, in force at once. */
export function registerKeyMethods(
  methods: MethodRegistry,
  keys: ApiKeyStore,
  audit: Logger,
): void {
  methods.register(listApiKeys, () => {
    keys.load();
    const list = keys.list();
    return { keys: list, total: list.length };
  });
  methods.register(createApiKey, ({ name, role }, ctx) => {
    let created;
    try {
      created = keys.create({ name, role });
    } catch (error) {
      if (error instanceof Error && /^An active key named/.test(error.message)) {
        throw new InvalidParams(`Invalid params: "name" ${error.message}`, {
          param: 'name',
          reason: 'an active key has this name',
        });
      }
      throw error;
    }
    audit.info(
      {
        event: 'api_key_created',
        remote: ctx.session.remoteAddress,
        by: ctx.session.principal?.subject,
        key_id: created.info.id,
        name,
        role,
      },
      'audit: API key created',
    );
    const { revoked_at: _revoked, ...info } = created.info;
    return { ...info, key: created.key };
  });
  methods.register(revokeApiKey, ({ id }, ctx) => {
    const active = keys.list().some((k) => k.id === id && k.revoked_at === null);
    const revoked = active ? keys.revoke(id) : null;
    if (!revoked) {
      throw new ServiceError(
        'api_key_not_found',
        `No active API key has the id ${id}; list_api_keys lists the keys.`,
        { id },
      );
    }
    audit.info(
      {
        event: 'api_key_revoked',
        remote: ctx.session.remoteAddress,
        by: ctx.session.principal?.subject,
        key_id: id,
      },
      'audit: API key revoked',
    );
    return { id, revoked: true as const };
  });
}
