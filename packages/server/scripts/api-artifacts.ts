/**
 * Renders the API's checked artifacts from the method contracts: the SDK's TypeScript
 * types (packages/sdk/src/generated/api.ts), its typed methods
 * (packages/sdk/src/generated/methods.ts) and the API reference
 * (docs/api-reference.md). `npm run gen:api` writes them; a test fails when the
 * committed files drift from the contracts.
 */
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import type { z } from 'zod';
import { allContracts } from '../src/index.js';
import { allNotifications as serverNotifications, sharedTypes } from '../src/contracts.js';
import { answerableErrors, type MethodContract } from '../src/rpc/index.js';
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

/** The SDK's name of a method: camelCase (take_snapshot → takeSnapshot). */
export function sdkMethodName(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * The SDK's typed methods: one per contract, camelCase, calling `call` with the method's
 * params and result types, documented with its role and the error kinds it can raise;
 * and METHOD_ERRORS, those kinds as data. The client class extends GeneratedMethods.
 */
export function renderSdkMethods(contracts: readonly MethodContract[] = allContracts): string {
  const lines: string[] = [
    HEADER,
    '/**',
    " * The API's methods as typed calls. CameraServiceClient extends this class; `call`",
    ' * (implemented by the client) sends the JSON-RPC request.',
    ' */',
    "import type { ErrorKind } from '../errors.js';",
    "import { Emitter } from '../emitter.js';",
    "import type * as Api from './api.js';",
    '',
    '/** Options of one call. */',
    'export interface CallOptions {',
    "  /** This call's timeout (default: the client's requestTimeoutMs). */",
    '  timeoutMs?: number;',
    '}',
    '',
    '/** Every error kind each method can raise (RpcError.kind), from its contract. */',
    'export const METHOD_ERRORS = {',
  ];
  for (const c of contracts) {
    const kinds = [...answerableErrors(c)].sort().map((k) => `'${k}'`);
    lines.push(`  ${c.name}: [${kinds.join(', ')}],`);
  }
  lines.push(
    '} as const satisfies Record<Api.MethodName, readonly ErrorKind[]>;',
    '',
    "/** The error kinds a method can raise, as a type: `MethodErrorKind<'take_snapshot'>`. */",
    'export type MethodErrorKind<M extends Api.MethodName> = (typeof METHOD_ERRORS)[M][number];',
    '',
    '/** Every method, by its SDK name. */',
    'export const SDK_METHODS = {',
    ...contracts.map((c) => `  ${c.name}: '${sdkMethodName(c.name)}',`),
    '} as const satisfies Record<Api.MethodName, string>;',
    '',
    'export abstract class GeneratedMethods<',
    '  Events extends Record<string, unknown[]>,',
    '> extends Emitter<Events> {',
    '  /** Calls a method by its API name; the typed methods below call it. */',
    '  abstract call<M extends Api.MethodName>(',
    '    method: M,',
    "    params?: Api.Methods[M]['params'],",
    '    options?: CallOptions,',
    "  ): Promise<Api.Methods[M]['result']>;",
  );
  for (const c of contracts) {
    const type = pascal(c.name);
    const kinds = [...answerableErrors(c)].sort().join(', ');
    const noParams = Object.keys(c.params.shape).length === 0;
    const optional = c.params.safeParse({}).success;
    lines.push(
      '',
      '  /**',
      `   * ${c.summary} Role: ${c.access}. \`${c.name}\`.`,
      `   * @throws RpcError of kind ${kinds}; ConnectionError; TimeoutError.`,
      '   */',
    );
    const ret = `Promise<Api.${type}Result>`;
    if (noParams) {
      lines.push(
        `  ${sdkMethodName(c.name)}(options?: CallOptions): ${ret} {`,
        `    return this.call('${c.name}', {}, options);`,
        '  }',
      );
    } else {
      const param = optional ? `params: Api.${type}Params = {}` : `params: Api.${type}Params`;
      lines.push(
        `  ${sdkMethodName(c.name)}(${param}, options?: CallOptions): ${ret} {`,
        `    return this.call('${c.name}', params, options);`,
        '  }',
      );
    }
  }
  lines.push('}', '');
  return lines.join('\n');
}

export function renderApiReference(
  contracts: readonly MethodContract[] = allContracts,
  notifications: readonly NotificationContract[] = allNotifications,
  types: readonly TypeContract[] = sharedTypes,
): string {
  return renderReference(contracts, notifications, types);
}
