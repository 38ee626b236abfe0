/**
 * Renders the Python SDK's generated module (sdk-python/camera_service_sdk/_generated.py)
 * from the method contracts: a TypedDict for every params, result and notification object
 * (shared objects named once: Camera, FileInfo, RetentionPolicy), an exception class per
 * error kind carrying its JSON-RPC code, and `GeneratedMethods`, whose async methods are
 * named as the JSON-RPC methods and list in their docstrings the errors each can raise.
 * `npm run gen:api` writes it; a test fails when it drifts from the contracts.
 */
import { ERROR_CODES, ERROR_MEANINGS, byCode, type ErrorKind } from '../src/errors/index.js';
import { callErrors, type MethodContract } from '../src/rpc/index.js';
import { allContracts } from '../src/index.js';
import { allNotifications, sharedTypes } from '../src/contracts.js';
import { jsonSchema, type Schema } from './schema-rows.js';
import type { NotificationContract, TypeContract } from './api-artifacts.js';

const HEADER = [
  "# Generated from the server's method contracts by `npm run gen:api`. Do not edit.",
  '"""Types, error classes and typed methods of the camera service API, one per contract."""',
  '',
  'from typing import Any, Dict, List, Literal, Mapping, NotRequired, Optional, TypedDict, Union, cast',
  '',
  'from .errors import RpcError',
].join('\n');

/** Python's reserved words: a TypedDict key among them needs the functional syntax. */
const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

/** The class names of the shared objects (the reference's titles). */
const SHARED_NAMES: Record<string, string> = {
  'The camera object': 'Camera',
  'The file object': 'FileInfo',
  'The retention policy': 'RetentionPolicy',
};

export function pascal(name: string): string {
  return name.replace(/(^|_)([a-z0-9])/g, (_m, _u: string, c: string) => c.toUpperCase());
}

const pyString = (text: string) => JSON.stringify(text);
const isIdentifier = (key: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !KEYWORDS.has(key);

/** Text for a docstring: no backslash escapes, no closing quotes. */
function docText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
}

/** Wraps text to lines of at most `width` characters, each starting with `indent`. */
function wrap(text: string, indent: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(`${indent}${line}`);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(`${indent}${line}`);
  return lines;
}

/** The identity of an object schema for naming: its shape without descriptions. */
function shapeKey(schema: Schema): string {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => k !== 'description')
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  return JSON.stringify(strip(schema));
}

/** Python type expressions for JSON schemas, declaring a TypedDict per object met. */
class TypeWriter {
  readonly blocks: string[] = [];
  readonly #named = new Map<string, string>();
  readonly #used = new Set<string>();

  constructor(shared: readonly TypeContract[]) {
    for (const t of shared) {
      const name = SHARED_NAMES[t.title] ?? pascal(t.title.replace(/^The /, '').replace(/ /g, '_'));
      this.typeOf(jsonSchema(t.schema, 'output'), name, t.summary);
    }
  }

  /** The type of `schema`; an object becomes a TypedDict named `name` (or its twin's name). */
  typeOf(schema: Schema, name: string, summary?: string): string {
    const options = Array.isArray(schema.anyOf) ? (schema.anyOf as Schema[]) : [];
    if (options.length > 0) {
      const types = options.map((o, i) =>
        o.type === 'null' ? 'None' : this.typeOf(o, options.length > 2 ? `${name}${i}` : name),
      );
      return union(types);
    }
    if (Array.isArray(schema.enum)) {
      return `Literal[${schema.enum.map((v) => JSON.stringify(v)).join(', ')}]`;
    }
    if (schema.const !== undefined) return `Literal[${pyLiteral(schema.const)}]`;
    if (Array.isArray(schema.type)) {
      return union(
        (schema.type as string[]).map((t) =>
          t === 'null' ? 'None' : this.typeOf({ ...schema, type: t }, name),
        ),
      );
    }
    switch (schema.type) {
      case 'string':
        return 'str';
      case 'integer':
        return 'int';
      case 'number':
        return 'float';
      case 'boolean':
        return 'bool';
      case 'null':
        return 'None';
      case 'array':
        return `List[${this.typeOf((schema.items ?? {}) as Schema, `${name}Item`)}]`;
      case 'object':
        if (schema.properties && Object.keys(schema.properties).length > 0) {
          return this.#typedDict(schema, name, summary);
        }
        if (typeof schema.additionalProperties === 'object') {
          const values = schema.additionalProperties as Schema;
          return `Dict[str, ${Object.keys(values).length === 0 ? 'Any' : this.typeOf(values, `${name}Value`)}]`;
        }
        return 'Dict[str, Any]';
      default:
        return 'Any';
    }
  }

  /**
   * Declares `name` for a method's params or result: the TypedDict itself, or an alias of
   * the type it is (a twin's TypedDict, a list, a literal); a TypedDict of no fields for
   * params of none.
   */
  declare(schema: Schema, name: string, summary: string): string {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    if (schema.type === 'object' && Object.keys(props).length === 0) {
      this.#used.add(name);
      this.blocks.push(`class ${name}(TypedDict):\n    """${docText(summary)} No params."""`);
      return name;
    }
    const type = this.typeOf(schema, name, summary);
    if (type !== name && !this.#used.has(name)) {
      this.#used.add(name);
      this.blocks.push(`#: ${docText(summary)}\n${name} = ${type}`);
    }
    return type;
  }

  #typedDict(schema: Schema, wanted: string, summary?: string): string {
    const key = shapeKey(schema);
    const known = this.#named.get(key);
    if (known !== undefined) return known;
    let name = wanted;
    for (let n = 2; this.#used.has(name); n += 1) name = `${wanted}${n}`;
    this.#used.add(name);
    this.#named.set(key, name);
    const props = schema.properties as Record<string, Schema>;
    const required = new Set((schema.required ?? []) as string[]);
    const fields = Object.entries(props).map(([field, s]) => {
      const type = this.typeOf(s, `${name}${pascal(field)}`);
      return {
        field,
        type: required.has(field) ? type : `NotRequired[${type}]`,
        doc: describe(s),
      };
    });
    const doc = summary ?? (typeof schema.description === 'string' ? schema.description : '');
    const lines: string[] = [];
    if (fields.every((f) => isIdentifier(f.field))) {
      lines.push(`class ${name}(TypedDict):`);
      if (doc) lines.push(`    """${docText(doc)}"""`, '');
      for (const f of fields) {
        if (f.doc) lines.push(...wrap(f.doc, '    #: '));
        lines.push(`    ${f.field}: ${f.type}`);
      }
    } else {
      lines.push(`${name} = TypedDict(`, `    ${pyString(name)},`, '    {');
      for (const f of fields) lines.push(`        ${pyString(f.field)}: ${f.type},`);
      lines.push('    },', ')');
    }
    this.blocks.push(lines.join('\n'));
    return name;
  }
}

function describe(s: Schema): string {
  const options = Array.isArray(s.anyOf) ? (s.anyOf as Schema[]) : [];
  const text = String(s.description ?? options.find((o) => o.description)?.description ?? '');
  return typeof s.unit === 'string' ? `${text} (${s.unit})`.trim() : text;
}

function pyLiteral(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null) return 'None';
  return JSON.stringify(value);
}

function union(types: string[]): string {
  const unique = [...new Set(types)];
  const rest = unique.filter((t) => t !== 'None');
  const inner = rest.length === 1 ? String(rest[0]) : `Union[${rest.join(', ')}]`;
  return unique.includes('None') ? `Optional[${inner}]` : inner;
}

/** Every error kind a method can raise, with when, as the API reference lists them. */
function methodErrors(contract: MethodContract): { kind: ErrorKind; when: string }[] {
  const rows = new Map<ErrorKind, string>();
  for (const [kind, when] of Object.entries(contract.errors) as [ErrorKind, string][]) {
    rows.set(kind, when);
  }
  for (const { kind, when } of callErrors(contract)) {
    const own = rows.get(kind);
    rows.set(kind, own === undefined ? when : `${when} Also: ${own}`);
  }
  return byCode([...rows.keys()]).map((kind) => ({ kind, when: rows.get(kind) ?? '' }));
}

function errorClasses(): string {
  const lines: string[] = [];
  for (const kind of byCode()) {
    lines.push(
      `class ${pascal(kind)}(RpcError):`,
      `    """${docText(ERROR_MEANINGS[kind])}"""`,
      '',
      `    kind = ${pyString(kind)}`,
      `    default_code = ${ERROR_CODES[kind]}`,
      '',
      '',
    );
  }
  const entries = byCode().map((kind) => `    ${ERROR_CODES[kind]}: ${pascal(kind)},`);
  lines.push(
    '#: The exception class for each JSON-RPC error code.',
    'ERROR_CLASSES: Dict[int, type[RpcError]] = {',
    ...entries,
    '}',
  );
  return lines.join('\n');
}

function methodBlock(contract: MethodContract, types: TypeWriter): string {
  const base = pascal(contract.name);
  const params = jsonSchema(contract.params, 'input');
  const props = (params.properties ?? {}) as Record<string, Schema>;
  const required = new Set((params.required ?? []) as string[]);
  types.declare(params, `${base}Params`, `The params of ${contract.name}.`);
  const result = types.declare(
    jsonSchema(contract.result, 'output'),
    `${base}Result`,
    `The result of ${contract.name}.`,
  );
  const fields = Object.entries(props);
  const names = fields.map(([n]) => n);
  const positional = names.filter((n) => required.has(n));
  const optional = names.filter((n) => !required.has(n));
  const typeOfParam = (n: string) => types.typeOf(props[n] ?? {}, `${base}Params${pascal(n)}`);
  const args = [
    'self',
    ...positional.map((n) => `${n}: ${typeOfParam(n)}`),
    ...(optional.length > 0 ? ['*'] : []),
    ...optional.map((n) => `${n}: Optional[${typeOfParam(n)}] = None`),
    'timeout: Optional[float] = None',
  ];
  if (!args.includes('*')) args.splice(args.length - 1, 0, '*');
  const doc: string[] = [...wrap(docText(contract.summary), '        ')];
  if (contract.description) doc.push('', ...wrap(docText(contract.description), '        '));
  doc.push(
    '',
    `        Role: ${contract.access === 'public' ? 'none (may be called before authenticating)' : `${contract.access} or above`}.`,
  );
  if (names.length > 0) {
    doc.push('', '        Args:');
    for (const [n, s] of fields) {
      const text = describe(s);
      const dflt = s.default !== undefined ? ` Default ${JSON.stringify(s.default)}.` : '';
      doc.push(...wrap(docText(`${n}: ${text}${dflt}`), '            ').map(indentContinuation));
    }
  }
  doc.push('', '        Raises:');
  for (const { kind, when } of methodErrors(contract)) {
    doc.push(
      ...wrap(docText(`${pascal(kind)} (${ERROR_CODES[kind]}): ${when}`), '            ').map(
        indentContinuation,
      ),
    );
  }
  const body: string[] = [];
  body.push(
    `        params: Dict[str, Any] = {${positional.map((n) => `${pyString(n)}: ${n}`).join(', ')}}`,
  );
  for (const n of optional) {
    body.push(`        if ${n} is not None:`, `            params[${pyString(n)}] = ${n}`);
  }
  body.push(
    `        return cast(${result}, await self.call(${pyString(contract.name)}, params, timeout=timeout))`,
  );
  const signature =
    args.join(', ').length > 80
      ? `    async def ${contract.name}(\n${args.map((a) => `        ${a},`).join('\n')}\n    ) -> ${result}:`
      : `    async def ${contract.name}(${args.join(', ')}) -> ${result}:`;
  return [
    signature,
    `        """${(doc[0] ?? '').trim()}`,
    ...doc.slice(1),
    '        """',
    ...body,
  ].join('\n');
}

/** Continuation lines of a wrapped Args/Raises entry are indented once more. */
function indentContinuation(line: string, index: number): string {
  return index === 0 ? line : `    ${line}`;
}

export function renderPythonSdk(
  contracts: readonly MethodContract[] = allContracts,
  notifications: readonly NotificationContract[] = allNotifications,
  shared: readonly TypeContract[] = sharedTypes,
): string {
  const types = new TypeWriter(shared);
  const methods = contracts.map((c) => methodBlock(c, types));
  const notes = notifications.map((n) => {
    const type = types.typeOf(
      jsonSchema(n.params, 'output'),
      `${pascal(n.name)}Notification`,
      n.summary,
    );
    return { name: n.name, type };
  });
  const out: string[] = [HEADER, ''];
  for (const block of types.blocks) out.push('', block, '');
  out.push(
    '',
    errorClasses(),
    '',
    '',
    "#: Every JSON-RPC method of the API, in the contracts' order.",
    `METHODS: tuple[str, ...] = (\n${contracts.map((c) => `    ${pyString(c.name)},`).join('\n')}\n)`,
    '',
    '#: The role each method needs ("public": none).',
    `METHOD_ROLES: Dict[str, str] = {\n${contracts.map((c) => `    ${pyString(c.name)}: ${pyString(c.access)},`).join('\n')}\n}`,
    '',
    '#: Every server notification, with the type of its params.',
    `NOTIFICATIONS: Dict[str, Any] = {\n${notes.map((n) => `    ${pyString(n.name)}: ${n.type},`).join('\n')}\n}`,
    '',
    '',
    'class GeneratedMethods:',
    '    """A typed async method for every API method; `Client` supplies `call`."""',
    '',
    '    async def call(',
    '        self, method: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None',
    '    ) -> Any:',
    '        raise NotImplementedError',
    '',
    methods.join('\n\n'),
  );
  return `${out.join('\n')}\n`;
}
