/**
 * Renders the API's checked artifacts from the method contracts: the SDK's TypeScript
 * types (packages/sdk/src/generated/api.ts) and the API reference
 * (docs/api-reference.md). `npm run gen:api` writes them; a test fails when the
 * committed files drift from the contracts.
 */
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import type { z } from 'zod';
import { allContracts } from '../src/index.js';
import { allNotifications as serverNotifications, sharedTypes } from '../src/contracts.js';
import type { MethodContract } from '../src/rpc/index.js';
import { renderReference } from './api-reference.js';
import { jsonSchema as toJsonSchema, type Schema } from './schema-rows.js';

export interface NotificationContract {
  name: string;
  summary: string;
  params: z.ZodType;
  /** Its params in an example, for the reference. */
  example?: unknown;
}

/** An object type the reference describes once and links to wherever it appears. */
export interface TypeContract {
  title: string;
  summary: string;
  schema: z.ZodType;
}

/** Server-to-client notifications, declared by their modules (src/contracts.ts). */
export const allNotifications: readonly NotificationContract[] = serverNotifications;

const HEADER = "// Generated from the server's method contracts by `npm run gen:api`. Do not edit.";

function pascal(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
}

/** The schema for json-schema-to-typescript: a field's unit joins its description. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JSONSchema {
  const withUnits = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(withUnits);
    if (typeof node !== 'object' || node === null) return node;
    const out: Schema = {};
    for (const [key, value] of Object.entries(node)) out[key] = withUnits(value);
    if (typeof out.unit === 'string') {
      out.description = `${String(out.description ?? '')} (${out.unit})`.trim();
      delete out.unit;
    }
    return out;
  };
  return withUnits(toJsonSchema(schema, io)) as JSONSchema;
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

export function renderApiReference(
  contracts: readonly MethodContract[] = allContracts,
  notifications: readonly NotificationContract[] = allNotifications,
  types: readonly TypeContract[] = sharedTypes,
): string {
  return renderReference(contracts, notifications, types);
}
