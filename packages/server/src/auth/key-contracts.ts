/**
 * Contracts of the admin methods that manage API keys from the API (the dashboard's
 * admin page), on the same store as `camera-service keys`: in force at once.
 */
import { z } from 'zod';
import { ROLES, count, defineMethod, timestamp } from '../rpc/index.js';

const keyId = z
  .string({ error: 'expected a key id of 8 hex digits, as list_api_keys gives it' })
  .regex(/^[0-9a-f]{8}$/, { error: 'expected a key id of 8 hex digits, as list_api_keys gives it' })
  .describe('The key id, as list_api_keys gives it (the 8 hex digits after `csk_`).');

const keyInfo = z.object({
  id: z.string().describe('The key id: the 8 hex digits after `csk_` in the key.'),
  name: z.string().describe('Who or what the key is for.'),
  role: z.enum(ROLES).describe('What the key may do.'),
  created_at: timestamp('When the key was created.'),
  revoked_at: timestamp('When the key was revoked; null while it is active.').nullable(),
});

const EXAMPLE_KEY = {
  id: '3f9a1c07',
  name: 'lobby-display',
  role: 'viewer' as const,
  created_at: '2025-06-02T14:30:00.000Z',
  revoked_at: null,
};

export const listApiKeys = defineMethod({
  name: 'list_api_keys',
  summary: 'Lists the API keys, active and revoked, without their secrets.',
  access: 'admin',
  params: z.strictObject({}),
  result: z.object({
    keys: z.array(keyInfo).describe('Every key, oldest first.'),
    total: count('How many keys there are.'),
  }),
  errors: {},
  examples: [
    {
      params: {},
      result: {
        keys: [
          EXAMPLE_KEY,
          {
            id: 'a04be2d9',
            name: 'old-kiosk',
            role: 'operator',
            created_at: '2025-01-10T09:00:00.000Z',
            revoked_at: '2025-05-01T08:15:00.000Z',
          },
        ],
        total: 2,
      },
    },
  ],
});

export const createApiKey = defineMethod({
  name: 'create_api_key',
  summary: 'Creates an API key and returns it: the only time its secret is shown.',
  description:
    'The key works at once (authenticate, `X-API-Key`, streams); the service keeps only a keyed hash of it. Names are unique among active keys.',
  access: 'admin',
  params: z.strictObject({
    name: z
      .string({ error: 'expected a name of 1 to 64 characters' })
      .min(1, { error: 'expected a name of 1 to 64 characters' })
      .max(64, { error: 'expected a name of 1 to 64 characters' })
      .refine((name) => ![...name].some((ch) => ch.charCodeAt(0) < 0x20), {
        error: 'expected a name without control characters',
      })
      .describe('Who or what the key is for (unique among active keys).'),
    role: z
      .enum(ROLES, { error: 'expected viewer, operator or admin' })
      .describe('What it may do.'),
  }),
  result: keyInfo.omit({ revoked_at: true }).extend({
    key: z.string().describe('The key, `csk_<id>_<secret>`: store it now, it is not shown again.'),
  }),
  errors: {
    invalid_params: 'An active key has that name already, or the name or role is not valid.',
  },
  examples: [
    {
      params: { name: 'lobby-display', role: 'viewer' },
      result: {
        id: '3f9a1c07',
        name: 'lobby-display',
        role: 'viewer',
        created_at: '2025-06-02T14:30:00.000Z',
        key: 'csk_3f9a1c07_q3Zx0d9n2V7b1Kc8s5LmR4tY6uWfHjEaPoN0iGxBcDe',
      },
    },
  ],
});

export const revokeApiKey = defineMethod({
  name: 'revoke_api_key',
  summary: 'Revokes an API key: the next call of every connection using it is refused.',
  description:
    'Connections and dashboard sessions signed in with the key end at their next call (-32001); the key stays listed with its `revoked_at`.',
  access: 'admin',
  params: z.strictObject({ id: keyId }),
  result: z.object({
    id: z.string().describe('The revoked key id.'),
    revoked: z.literal(true).describe('Always true: an unknown id is an error.'),
  }),
  errors: {
    api_key_not_found: 'No active key has that id (unknown, or revoked already).',
  },
  examples: [{ params: { id: '3f9a1c07' }, result: { id: '3f9a1c07', revoked: true } }],
});

export const keyContracts = [listApiKeys, createApiKey, revokeApiKey] as const;
