/**
 * JSON Schema (as zod writes it) in the words of the API reference: a field's type, its
 * unit and limits, and the rows of a params or result table, nested fields flattened to
 * dotted names (`streams.rtsp`, `files[].filename`, `components.<name>.status`).
 */
import { z } from 'zod';

export type Schema = Record<string, unknown>;

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Schema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;
  delete json.$schema;
  return json;
}

/** Bounds zod gives every integer: no limit a reader needs to know. */
const SAFE = Number.MAX_SAFE_INTEGER;

const branches = (s: Schema): Schema[] => (Array.isArray(s.anyOf) ? (s.anyOf as Schema[]) : []);
const isNull = (s: Schema) => s.type === 'null';

/** The schema without its null branch, and whether it had one. */
export function unwrapNullable(s: Schema): { inner: Schema; nullable: boolean } {
  const options = branches(s);
  if (options.length === 2 && options.some(isNull)) {
    const inner = options.find((o) => !isNull(o)) as Schema;
    return { inner: { ...inner, ...pick(s, ['description', 'unit', 'default']) }, nullable: true };
  }
  if (Array.isArray(s.type) && s.type.includes('null')) {
    const rest = (s.type as string[]).filter((t) => t !== 'null');
    return { inner: { ...s, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  return { inner: s, nullable: false };
}

function pick(s: Schema, keys: string[]): Schema {
  return Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
}

/** `string`, `integer`, `"a" | "b"`, `object[]`, `string | null`. */
export function typeText(schema: Schema): string {
  const { inner, nullable } = unwrapNullable(schema);
  const text = baseType(inner);
  return nullable ? `${text} | null` : text;
}

function baseType(s: Schema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (branches(s).length > 0) return branches(s).map(typeText).join(' | ');
  if (s.type === 'array') {
    const item = typeText((s.items ?? {}) as Schema);
    return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
  }
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return typeof s.type === 'string' ? s.type : 'any';
}

function bound(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) !== SAFE;
}

/** "seconds; > 0, ≤ 604800; default 100": the unit, the limits and the default. */
export function limitsText(schema: Schema, withDefault: boolean): string {
  const { inner: s } = unwrapNullable(schema);
  const parts: string[] = [];
  if (typeof s.unit === 'string') parts.push(s.unit);
  const low = bound(s.minimum)
    ? `≥ ${s.minimum}`
    : bound(s.exclusiveMinimum)
      ? `> ${s.exclusiveMinimum}`
      : '';
  const high = bound(s.maximum)
    ? `≤ ${s.maximum}`
    : bound(s.exclusiveMaximum)
      ? `< ${s.exclusiveMaximum}`
      : '';
  if (low && high && low.startsWith('≥') && high.startsWith('≤')) {
    parts.push(`${String(s.minimum)} to ${String(s.maximum)}`);
  } else {
    const range = [low, high].filter(Boolean).join(', ');
    if (range) parts.push(range);
  }
  if (typeof s.minLength === 'number' || typeof s.maxLength === 'number') {
    const min = (s.minLength as number | undefined) ?? 0;
    parts.push(
      typeof s.maxLength === 'number'
        ? `${min} to ${s.maxLength} characters`
        : `at least ${min} character${min === 1 ? '' : 's'}`,
    );
  }
  if (withDefault && s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join('; ');
}

export interface Row {
  name: string;
  type: string;
  required: boolean;
  limits: string;
  description: string;
  /** A shared type this field is (its anchor in the reference), when it is one. */
  link?: { title: string; anchor: string };
}

/** An object type the reference describes once, and links to. */
export interface SharedType {
  title: string;
  anchor: string;
  schema: Schema;
}

function same(a: Schema, b: Schema): boolean {
  const strip = ({ description: _d, ...rest }: Schema) => JSON.stringify(rest);
  return strip(a) === strip(b);
}

export function sharedTypeOf(s: Schema, shared: readonly SharedType[]): SharedType | undefined {
  return shared.find((t) => same(s, t.schema));
}

/** A shared type every property of which `s` has unchanged: `s` extends it. */
export function extendedType(s: Schema, shared: readonly SharedType[]): SharedType | undefined {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  return shared.find((t) => {
    const own = (t.schema.properties ?? {}) as Record<string, Schema>;
    return Object.entries(own).every(([k, v]) => props[k] !== undefined && same(props[k], v));
  });
}

const description = (s: Schema) =>
  String(s.description ?? unwrapNullable(s).inner.description ?? '');

/**
 * The rows of an object's fields, nested ones flattened; a field that is a shared type is
 * one row linking to it. `skip` leaves out fields a shared type already describes.
 */
export function fieldRows(
  schema: Schema,
  options: { shared: readonly SharedType[]; withDefault: boolean; skip?: ReadonlySet<string> },
  prefix = '',
): Row[] {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const rows: Row[] = [];
  for (const [key, field] of Object.entries(props)) {
    if (prefix === '' && options.skip?.has(key)) continue;
    const name = `${prefix}${key}`;
    const row: Row = {
      name,
      type: typeText(field),
      required: required.has(key),
      limits: limitsText(field, options.withDefault),
      description: description(field),
    };
    rows.push(row);
    rows.push(...nestedRows(field, name, row, options));
  }
  return rows;
}

function nestedRows(
  field: Schema,
  name: string,
  row: Row,
  options: { shared: readonly SharedType[]; withDefault: boolean },
): Row[] {
  const { inner } = unwrapNullable(field);
  const link = (s: Schema) => {
    const shared = sharedTypeOf(s, options.shared);
    if (shared) row.link = { title: shared.title, anchor: shared.anchor };
    return shared;
  };
  if (inner.type === 'object' && inner.properties) {
    return link(inner) ? [] : fieldRows(inner, options, `${name}.`);
  }
  if (inner.type === 'array' && typeof inner.items === 'object') {
    const items = inner.items as Schema;
    if (items.type === 'object' && items.properties) {
      return link(items) ? [] : fieldRows(items, options, `${name}[].`);
    }
  }
  if (inner.type === 'object' && typeof inner.additionalProperties === 'object') {
    const values = inner.additionalProperties as Schema;
    if (values.type === 'object' && values.properties) {
      return link(values) ? [] : fieldRows(values, options, `${name}.<name>.`);
    }
  }
  return [];
}
