import { z } from 'zod';
import { ROLES, defineMethod, timestamp } from '../rpc/index.js';

export const authenticate = defineMethod({
  name: 'authenticate',
  summary: 'Binds a JWT or an API key to this connection; later calls act with its role.',
  description:
    'The connection keeps the role until the credential expires (a JWT) or is revoked (an API key); the next call after that answers -32001. Authenticating again replaces the role; a refused credential leaves the connection unauthenticated. Instead of authenticating, any call may carry `auth_token` in its params.',
  access: 'public',
  params: z.strictObject({
    auth_token: z
      .string({ error: 'expected a JWT or an API key as a string' })
      .min(1, { error: 'expected a JWT or an API key as a string' })
      .describe(
        'A JWT signed with the service secret (`camera-service token`), or an API key (`camera-service keys create`).',
      ),
  }),
  aliases: { token: 'auth_token' },
  result: z.object({
    authenticated: z.literal(true).describe('Always true: a refused credential is an error.'),
    role: z.enum(ROLES).describe("The credential's role: what this connection may call."),
    permissions: z
      .array(z.enum(['view', 'control', 'admin']))
      .describe('What the role may do: view (viewer), control cameras (operator), admin.'),
    expires_at: timestamp(
      'When the credential expires: the JWT `exp`; null for API keys.',
    ).nullable(),
    session_id: z.string().describe('Identifies this authentication in the audit log.'),
  }),
  errors: {
    authentication_failed:
      'The token is not a valid JWT of this service or an active API key, or it expired (`data.reason` says which).',
    rate_limited:
      'This address failed to authenticate too often lately; a valid credential is still accepted.',
  },
  examples: [
    {
      params: { auth_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoib3BlcmF0b3IifQ.sig' },
      result: {
        authenticated: true,
        role: 'operator',
        permissions: ['view', 'control'],
        expires_at: '2025-06-02T14:30:00.000Z',
        session_id: '6b7a12fd-b5e0-4ef8-968f-80f69b52c027',
      },
    },
  ],
});

export const authContracts = [authenticate] as const;
