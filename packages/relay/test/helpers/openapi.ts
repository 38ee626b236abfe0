/**
 * Validates responses against MediaMTX's openapi.yaml, read from ../shared at test time.
 * OpenAPI 3.0 schemas become JSON Schema for ajv: `nullable` turns into a null
 * alternative, `$ref`s point into `definitions`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import YAML from 'yaml';

export const OPENAPI_PATH = fileURLToPath(
  new URL('../../../../../../shared/reference/mediamtx/openapi.yaml', import.meta.url),
);

type Node = Record<string, unknown>;

function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (typeof node !== 'object' || node === null) return node;
  const source = node as Node;
  const out: Node = {};
  for (const [key, value] of Object.entries(source)) {
    if (['nullable', 'deprecated', 'example', 'format', 'description'].includes(key)) continue;
    out[key] =
      key === '$ref'
        ? String(value).replace('#/components/schemas/', 'mtx#/definitions/')
        : convert(value);
  }
  return source.nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

export interface ContractValidator {
  /** Throws when `body` is not what openapi.yaml declares for this endpoint, method and status. */
  check(template: string, method: string, status: number, body: unknown): void;
}

export function loadContract(): ContractValidator | null {
  if (!existsSync(OPENAPI_PATH)) return null;
  const doc = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
    components: { schemas: Node };
    paths: Record<
      string,
      Record<string, { responses: Record<string, { content?: Record<string, { schema: Node }> }> }>
    >;
  };
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'mtx', definitions: convert(doc.components.schemas) });
  return {
    check(template, method, status, body) {
      const response = doc.paths[template]?.[method.toLowerCase()]?.responses[String(status)];
      if (!response)
        throw new Error(`openapi.yaml declares no ${status} for ${method} ${template}`);
      const schema = response.content?.['application/json']?.schema;
      if (!schema)
        throw new Error(
          `openapi.yaml declares no JSON body for ${status} of ${method} ${template}`,
        );
      const validate = ajv.compile(convert(schema) as Node);
      if (!validate(body)) {
        throw new Error(
          `${method} ${template} ${status} breaks the contract: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
        );
      }
    },
  };
}
