/**
 * Renders the API's checked artifacts from the method contracts: the SDK's TypeScript
 * types (packages/sdk/src/generated/api.ts) and the API reference
 * (docs/api-reference.md). `npm run gen:api` writes them; a test fails when the
 * committed files drift from the contracts.
 */
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { z } from 'zod';
import { ERROR_CODES, allContracts, type ErrorKind } from '../src/index.js';
import { allNotifications as serverNotifications } from '../src/contracts.js';
import type { MethodContract } from '../src/rpc/index.js';

export interface NotificationContract {
  name: string;
  summary: string;
  params: z.ZodType;
}

/** Server-to-client notifications, declared by their modules (src/contracts.ts). */
export const allNotifications: readonly NotificationContract[] = serverNotifications;

const HEADER = "// Generated from the server's method contracts by `npm run gen:api`. Do not edit.";

function pascal(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JSONSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json as JSONSchema;
}

async function typeFor(schema: z.ZodType, name: string, io: 'input' | 'output'): Promise<string> {
  const source = await compile(jsonSchema(schema, io), name, {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    format: true,
    style: { singleQuote: true, printWidth: 100 },
  });
  return source.trim();
}

export async function renderSdkTypes(
  contracts: readonly MethodContract[] = allContracts,
  notifications: readonly NotificationContract[] = allNotifications,
): Promise<string> {
  const blocks: string[] = [HEADER];
  for (const c of contracts) {
    const params = await typeFor(c.params, `${pascal(c.name)}Params`, 'input');
    blocks.push(`/** ${c.summary} (role: ${c.access}) */\n${params}`);
    blocks.push(await typeFor(c.result, `${pascal(c.name)}Result`, 'output'));
  }
  for (const n of notifications) {
    const params = await typeFor(n.params, `${pascal(n.name)}Notification`, 'output');
    blocks.push(`/** ${n.summary} */\n${params}`);
  }
  const methods = contracts
    .map(
      (c) => `  ${c.name}: { params: ${pascal(c.name)}Params; result: ${pascal(c.name)}Result };`,
    )
    .join('\n');
  const notes = notifications.map((n) => `  ${n.name}: ${pascal(n.name)}Notification;`).join('\n');
  blocks.push(
    `/** Every method: its params and result. */\nexport interface Methods {\n${methods}\n}`,
  );
  blocks.push(
    `/** Every server notification: its params. */\nexport interface Notifications {\n${notes}\n}`,
  );
  blocks.push(
    'export type MethodName = keyof Methods;\nexport type NotificationName = keyof Notifications;',
  );
  return `${blocks.join('\n\n')}\n`;
}

function describeType(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) {
    return (schema.anyOf as Record<string, unknown>[]).map(describeType).join(' \\| ');
  }
  if (schema.type === 'array')
    return `${describeType((schema.items ?? {}) as Record<string, unknown>)}[]`;
  return typeof schema.type === 'string' ? schema.type : 'any';
}

function constraints(schema: Record<string, unknown>): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`>= ${String(schema.minimum)}`);
  if (schema.maximum !== undefined) parts.push(`<= ${String(schema.maximum)}`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(', ');
}

export function renderApiReference(
  contracts: readonly MethodContract[] = allContracts,
  notifications: readonly NotificationContract[] = allNotifications,
): string {
  const out: string[] = [
    '# API reference',
    '',
    "<!-- Generated from the server's method contracts by `npm run gen:api`. Do not edit. -->",
    '',
    'JSON-RPC 2.0 over a WebSocket at `ws://HOST:8002/ws` (`wss://` with TLS). Requests, notifications,',
    'batches, by-name and by-position params. Roles nest: admin ⊃ operator ⊃ viewer.',
    '',
    '| method | role | summary |',
    '|---|---|---|',
    ...contracts.map((c) => `| [${c.name}](#${c.name}) | ${c.access} | ${c.summary} |`),
    '',
  ];
  for (const c of contracts) {
    out.push(`## ${c.name}`, '', c.summary, '', `Minimum role: **${c.access}**.`, '');
    const params = jsonSchema(c.params, 'input') as {
      properties?: Record<string, Record<string, unknown>>;
      required?: string[];
    };
    const entries = Object.entries(params.properties ?? {});
    if (entries.length === 0) {
      out.push('Params: none.', '');
    } else {
      out.push('| param | type | required | notes |', '|---|---|---|---|');
      for (const [name, schema] of entries) {
        const notes = [schema.description, constraints(schema)].filter(Boolean).join('; ');
        out.push(
          `| ${name} | ${describeType(schema)} | ${params.required?.includes(name) ? 'yes' : 'no'} | ${notes} |`,
        );
      }
      out.push('');
    }
    out.push(
      'Result:',
      '',
      '```json',
      JSON.stringify(jsonSchema(c.result, 'output'), null, 2),
      '```',
      '',
    );
    if (c.errors.length > 0) {
      out.push(`Errors: ${c.errors.map((k) => `${ERROR_CODES[k]} (${k})`).join(', ')}.`, '');
    }
  }
  out.push('## Notifications', '');
  if (notifications.length === 0) out.push('None yet.', '');
  for (const n of notifications) {
    out.push(
      `### ${n.name}`,
      '',
      n.summary,
      '',
      '```json',
      JSON.stringify(jsonSchema(n.params, 'output'), null, 2),
      '```',
      '',
    );
  }
  out.push('## Error codes', '', '| code | kind |', '|---|---|');
  for (const [kind, code] of Object.entries(ERROR_CODES) as [ErrorKind, number][]) {
    out.push(`| ${code} | ${kind} |`);
  }
  out.push('');
  return out.join('\n');
}
