/**
 * docs/api-reference.md from the method contracts: per method its summary, role, params,
 * result fields, errors and an example; the notifications, the shared object types, the
 * error codes by code with their meaning, and what migrating clients may send.
 */
import { ERROR_CODES, ERROR_MEANINGS, byCode, type ErrorKind } from '../src/errors/index.js';
import { callErrors, type MethodContract } from '../src/rpc/index.js';
import {
  extendedType,
  fieldRows,
  jsonSchema,
  sharedTypeOf,
  typeText,
  type Row,
  type Schema,
  type SharedType,
} from './schema-rows.js';
import type { NotificationContract, TypeContract } from './api-artifacts.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${text}\``;
const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
const anchorOf = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

/** JSON on one line, spaced: `{"a": 1, "b": [2, 3]}`. */
function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** JSON as a person reads it: what fits on a line stays on one. */
function pretty(value: unknown, indent = ''): string {
  const flat = oneLine(value);
  if (typeof value !== 'object' || value === null || indent.length + flat.length <= 72) {
    return flat;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => `${inner}${pretty(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).map(
    ([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`,
  );
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

function json(value: unknown): string[] {
  return ['```json', pretty(value), '```'];
}

function typeCell(row: Row): string {
  if (!row.link) return cell(row.type);
  const link = `[${row.link.title.replace(/^The /, '')}](#${row.link.anchor})`;
  const array = row.type.endsWith('[]') ? '[]' : '';
  return `${link}${array}${row.type.endsWith(' | null') ? ' \\| null' : ''}`;
}

function paramsTable(contract: MethodContract, shared: readonly SharedType[]): string[] {
  const rows = fieldRows(jsonSchema(contract.params, 'input'), { shared, withDefault: true });
  if (rows.length === 0) return ['**Params**: none.', ''];
  return [
    '**Params**',
    '',
    '| param | type | required | unit / limits | description |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${code(r.name)} | ${typeCell(r)} | ${r.required ? 'yes' : 'no'} | ${cell(r.limits)} | ${cell(r.description)} |`,
    ),
    '',
    ...aliasLines(contract),
  ];
}

function aliasLines(contract: MethodContract): string[] {
  const aliases = Object.entries(contract.aliases ?? {});
  if (aliases.length === 0) return [];
  const names = aliases.map(([alias, name]) => `\`${alias}\` for \`${name}\``).join(', ');
  return [`Also taken under another name (see [Migrating](#${MIGRATING})): ${names}.`, ''];
}

function fieldsTable(rows: Row[]): string[] {
  return [
    '| field | type | unit / limits | description |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${code(r.name)}${r.required ? '' : ' (optional)'} | ${typeCell(r)} | ${cell(r.limits)} | ${cell(r.description)} |`,
    ),
    '',
  ];
}

/** A result or notification: its fields, linking the shared types it is or extends. */
function resultLines(schema: Schema, shared: readonly SharedType[], what: string): string[] {
  const link = (t: SharedType) => `[${t.title.replace(/^The /, 'the ')}](#${t.anchor})`;
  const whole = sharedTypeOf(schema, shared);
  if (whole) return [`${what}: ${link(whole)}.`, ''];
  if (schema.type === 'object' && schema.properties) {
    const base = extendedType(schema, shared);
    if (base) {
      const skip = new Set(Object.keys((base.schema.properties ?? {}) as object));
      const rows = fieldRows(schema, { shared, withDefault: false, skip });
      return [`${what}: ${link(base)}, and:`, '', ...fieldsTable(rows)];
    }
    return [what, '', ...fieldsTable(fieldRows(schema, { shared, withDefault: false }))];
  }
  if (schema.type === 'array' && typeof schema.items === 'object') {
    const items = schema.items as Schema;
    const note = schema.description ? ` ${String(schema.description)}` : '';
    return [
      `${what}: an array of objects.${note} Each:`,
      '',
      ...fieldsTable(fieldRows(items, { shared, withDefault: false })),
    ];
  }
  const note = schema.description ? ` ${String(schema.description)}` : '';
  return [`${what}: ${code(typeText(schema))}.${note}`, ''];
}

function errorsTable(contract: MethodContract): string[] {
  const common = callErrors(contract).filter((e) => e.kind !== 'internal_error');
  const own = (Object.entries(contract.errors) as [ErrorKind, string][])
    .filter(([kind]) => !common.some((e) => e.kind === kind))
    .map(([kind, when]) => ({ kind, when }));
  // A reason of the method's own for an error of every call comes after the general one.
  const general = common.map(({ kind, when }) => {
    const also = contract.errors[kind];
    return { kind, when: also === undefined ? when : `${when} Also: ${lowerFirst(also)}` };
  });
  const rows = [...own, ...general];
  const order = byCode(rows.map((r) => r.kind));
  rows.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  return [
    '| code | error | when |',
    '|---|---|---|',
    ...rows.map((e) => `| ${ERROR_CODES[e.kind]} | ${e.kind} | ${cell(e.when)} |`),
    '',
  ];
}

function exampleLines(contract: MethodContract): string[] {
  const out: string[] = [];
  contract.examples.forEach((example, i) => {
    const params = example.params as Record<string, unknown>;
    const request = {
      jsonrpc: '2.0',
      id: i + 1,
      method: contract.name,
      ...(Object.keys(params).length > 0 && { params }),
    };
    out.push(
      `**Example${example.title ? `: ${example.title}` : ''}**`,
      '',
      ...json(request),
      '',
      ...json({ jsonrpc: '2.0', id: i + 1, result: example.result }),
      '',
    );
  });
  return out;
}

function roleLine(contract: MethodContract): string {
  switch (contract.access) {
    case 'public':
      return 'Role: none: it may be called before authenticating.';
    case 'viewer':
      return 'Role: **viewer** or above.';
    case 'operator':
      return 'Role: **operator** or admin.';
    default:
      return 'Role: **admin**.';
  }
}

function methodSection(contract: MethodContract, shared: readonly SharedType[]): string[] {
  return [
    `## ${contract.name}`,
    '',
    contract.summary,
    '',
    ...(contract.description ? [contract.description, ''] : []),
    roleLine(contract),
    '',
    ...paramsTable(contract, shared),
    ...resultLines(jsonSchema(contract.result, 'output'), shared, '**Result**'),
    '**Errors**',
    '',
    ...errorsTable(contract),
    ...exampleLines(contract),
  ];
}

const INTRO = [
  'JSON-RPC 2.0 over a WebSocket at `ws://HOST:8002/ws` (`wss://` with TLS): requests,',
  'notifications, batches, params by name (`{"device": "/dev/video0"}`) or by position in the',
  "order of a method's params table. Roles nest: admin ⊃ operator ⊃ viewer.",
  '',
  'Authenticate once per connection with [authenticate](#authenticate), or put `auth_token`',
  'in the params of any call. Units: times are ISO 8601 in UTC (`2025-06-01T14:30:00.000Z`),',
  'sizes are bytes and durations seconds unless a field says otherwise. Every error names',
  'what to do in its message; its `data` says more (see [Error codes](#error-codes)). Any call',
  'may also answer -32603 (an unexpected failure, with a correlation id for the log).',
  '',
];

function errorCodes(contracts: readonly MethodContract[]): string[] {
  const everyCall = new Set<ErrorKind>(['invalid_params', 'rate_limited', 'internal_error']);
  const protocol = new Set<ErrorKind>(['parse_error', 'invalid_request', 'method_not_found']);
  const returnedBy = (kind: ErrorKind): string => {
    if (protocol.has(kind)) return 'any message';
    if (everyCall.has(kind)) return 'any call';
    if (kind === 'authentication_failed') return 'any call';
    if (kind === 'permission_denied') return 'any operator or admin method';
    return contracts
      .filter((c) => c.errors[kind] !== undefined)
      .map((c) => `[${c.name}](#${c.name})`)
      .join(', ');
  };
  return [
    '## Error codes',
    '',
    "By code: the service's own, then authentication's, then JSON-RPC's. An error is",
    '`{code, message, data?}`: the message is a sentence saying what to do; `data` carries the',
    'fields the meaning names.',
    '',
    '| code | error | meaning | returned by |',
    '|---|---|---|---|',
    ...byCode().map(
      (kind) =>
        `| ${ERROR_CODES[kind]} | ${kind} | ${cell(ERROR_MEANINGS[kind])} | ${returnedBy(kind)} |`,
    ),
    '',
  ];
}

const MIGRATION_TITLE = 'Migrating from the Python and Go implementations';
const MIGRATING = anchorOf(MIGRATION_TITLE);

function migration(contracts: readonly MethodContract[]): string[] {
  const aliases = contracts.flatMap((c) =>
    Object.entries(c.aliases ?? {}).map(
      ([alias, name]) => `| \`${c.name} {"${alias}": …}\` | \`${c.name} {"${name}": …}\` |`,
    ),
  );
  const byDevice = contracts
    .filter((c) => Object.hasOwn(c.params.shape, 'device'))
    .map((c) => `[${c.name}](#${c.name})`)
    .join(', ');
  return [
    `## ${MIGRATION_TITLE}`,
    '',
    'The service accepts what clients of the earlier implementations send, where that costs',
    'little and cannot be mistaken for something else:',
    '',
    '| a client sends | the service takes it as |',
    '|---|---|',
    ...aliases,
    `| a camera's stream name as \`device\` (\`"camera0"\`), in ${byDevice} | the camera whose \`stream_path\` it is (\`/dev/video0\`); results name it by its device |`,
    '| a JWT whose subject is in `user_id`, with no `sub` | its subject; `role` and `exp` are required as for any JWT, signed HS256 with the service secret |',
    '',
    'What differs:',
    '',
    '- A recording already in progress is -1006 (`data.session_id` names it); -1002 is not used.',
    '- stop_recording on a camera that is not recording answers -1007 (not_recording); earlier',
    '  versions of this service answered -1001.',
    '- take_snapshot writes JPEG only: `format` is jpg or jpeg and names the extension.',
    '- Durations: give one of `duration`, `duration_seconds`, `duration_minutes`,',
    '  `duration_hours`, at most a week in all; two of them are refused with -32602.',
    '',
  ];
}

export function renderReference(
  contracts: readonly MethodContract[],
  notifications: readonly NotificationContract[],
  types: readonly TypeContract[],
): string {
  const shared: SharedType[] = types.map((t) => ({
    title: t.title,
    anchor: anchorOf(t.title),
    schema: jsonSchema(t.schema, 'output'),
  }));
  const out: string[] = [
    '# API reference',
    '',
    "<!-- Generated from the server's method contracts by `npm run gen:api`. Do not edit. -->",
    '',
    ...INTRO,
    '| method | role | summary |',
    '|---|---|---|',
    ...contracts.map((c) => `| [${c.name}](#${c.name}) | ${c.access} | ${cell(c.summary)} |`),
    '',
  ];
  for (const c of contracts) out.push(...methodSection(c, shared));
  out.push('## Notifications', '', 'Sent to authenticated connections only.', '');
  for (const n of notifications) {
    out.push(`### ${n.name}`, '', n.summary, '');
    out.push(...resultLines(jsonSchema(n.params, 'output'), shared, '**Params**'));
    if (n.example !== undefined) {
      out.push(
        '**Example**',
        '',
        ...json({ jsonrpc: '2.0', method: n.name, params: n.example }),
        '',
      );
    }
  }
  out.push('## Types', '');
  for (const t of shared) {
    const source = types.find((x) => x.title === t.title) as TypeContract;
    out.push(`### ${t.title}`, '', source.summary, '');
    out.push(...fieldsTable(fieldRows(t.schema, { shared: [], withDefault: false })));
  }
  out.push(...errorCodes(contracts), ...migration(contracts));
  return `${out.join('\n').trimEnd()}\n`;
}
