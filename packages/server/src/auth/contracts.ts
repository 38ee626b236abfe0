import { z } from 'zod';
import { ROLES, defineMethod } from '../rpc/index.js';

export const authenticate = defineMethod({
  name: 'authenticate',
  summary: 'Binds a JWT or an API key to this connection; later calls act with its role.',
  access: 'public',
  params: z.strictObject({
    auth_token: z
      .string({ error: 'expected a JWT or an API key as a string' })
      .min(1, { error: 'expected a JWT or an API key as a string' }),
  }),
  result: z.object({
    authenticated: z.literal(true),
    role: z.enum(ROLES),
    permissions: z.array(z.enum(['view', 'control', 'admin'])).describe('what the role may do'),
    expires_at: z
      .string()
      .nullable()
      .describe('ISO 8601 expiry of the credential; null for API keys'),
    session_id: z.string().describe('identifies this authentication in the audit log'),
  }),
  errors: ['authentication_failed', 'rate_limited'],
});

export const authContracts = [authenticate] as const;
