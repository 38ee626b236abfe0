/**
 * The API contract is a checked artifact: the running server registers exactly the
 * contracts, the SDK types and the API reference are generated from them, and the SDK's
 * error codes equal the server's table. The reference says what a person needs: per
 * method its role, params, result, errors and an example; every error's meaning.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '@camera-service/sdk';
import { ERROR_CODES, allContracts } from '../../src/index.js';
import { ERROR_MEANINGS, byCode } from '../../src/errors/index.js';
import { ROLES } from '../../src/rpc/index.js';
import { jsonSchema, type Schema } from '../../scripts/schema-rows.js';
import { renderApiReference, renderSdkTypes } from '../../scripts/api-artifacts.js';
import { MEDIAMTX_OPENAPI, renderMediaMtxTypes } from '../../scripts/mediamtx-types.js';
import { startApp } from '../helpers/app.js';

const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

describe('API contract', () => {
  it('the running server registers exactly the listed contracts', async () => {
    const t = await startApp();
    try {
      const registered = t.app.methods
        .contracts()
        .map((c) => c.name)
        .sort();
      assert.deepEqual(registered, allContracts.map((c) => c.name).sort());
    } finally {
      await t.stop();
    }
  });

  it('every method declares its access, once', () => {
    const names = allContracts.map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
    for (const c of allContracts) {
      assert.ok([...ROLES, 'public'].includes(c.access), `${c.name} has access ${c.access}`);
      assert.match(c.name, /^[a-z]+(_[a-z]+)*$/);
      assert.ok(c.summary.endsWith('.'), `${c.name} needs a one-sentence summary`);
    }
  });

  it('the SDK types are generated from the contracts (run npm run gen:api)', async () => {
    assert.equal(read('packages/sdk/src/generated/api.ts'), await renderSdkTypes());
  });

  it('the API reference is generated from the contracts (run npm run gen:api)', () => {
    assert.equal(read('docs/api-reference.md'), renderApiReference());
  });

  it('the MediaMTX client types are generated from openapi.yaml (run npm run gen:api)', async (t) => {
    const text = await renderMediaMtxTypes();
    if (text === null) {
      t.skip(`${MEDIAMTX_OPENAPI} is absent: the MediaMTX types cannot be checked`);
      return;
    }
    assert.equal(read('packages/server/src/media/mediamtx-api.gen.ts'), text);
  });

  it("the SDK's error codes equal the server's table", () => {
    assert.deepEqual({ ...ErrorCodes }, { ...ERROR_CODES });
    const codes = Object.values(ERROR_CODES);
    assert.equal(new Set(codes).size, codes.length, 'codes are unique');
  });

  it('every error has a meaning, and the service codes are its own (-1007 is not_recording)', () => {
    for (const kind of byCode()) {
      assert.match(ERROR_MEANINGS[kind], /^[A-Z`].*\.$/, `${kind} has a sentence`);
      const code = ERROR_CODES[kind];
      assert.ok(
        (code <= -1000 && code > -1100) || (code <= -32000 && code >= -32768),
        `${kind}: ${code}`,
      );
    }
    assert.equal(ERROR_CODES.not_recording, -1007);
    assert.deepEqual(
      byCode()
        .map((k) => ERROR_CODES[k])
        .slice(0, 3),
      [-1000, -1001, -1003],
      'the service codes first, in order',
    );
  });

  it('every method says when it answers each error it declares', () => {
    for (const c of allContracts) {
      for (const [kind, when] of Object.entries(c.errors)) {
        assert.ok(kind in ERROR_CODES, `${c.name}: ${kind}`);
        assert.match(when, /^[A-Za-z`].*\.$/, `${c.name}: ${kind} needs a sentence`);
      }
    }
  });

  it('no integer a method takes or returns can be negative', () => {
    const negative: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
      if (typeof node !== 'object' || node === null) return;
      const s = node as Schema;
      if (s.type === 'integer' && !(typeof s.minimum === 'number' && s.minimum >= 0)) {
        negative.push(where);
      }
      for (const [key, value] of Object.entries(s)) walk(value, `${where}.${key}`);
    };
    for (const c of allContracts) {
      walk(jsonSchema(c.params, 'input'), `${c.name} params`);
      walk(jsonSchema(c.result, 'output'), `${c.name} result`);
    }
    assert.deepEqual(negative, []);
  });

  it('the reference gives every method its role, params, result, errors and an example', () => {
    const text = read('docs/api-reference.md');
    for (const c of allContracts) {
      const start = text.indexOf(`\n## ${c.name}\n`);
      assert.ok(start >= 0, c.name);
      const section = text.slice(start + 1, text.indexOf('\n## ', start + 1));
      for (const part of ['Role: ', '**Params**', '**Result**', '**Errors**', '**Example**']) {
        assert.ok(section.includes(part), `${c.name} has ${part}`);
      }
      for (const kind of Object.keys(c.errors)) {
        assert.ok(
          section.includes(`| ${ERROR_CODES[kind as keyof typeof ERROR_CODES]} | ${kind} |`),
          `${c.name}: ${kind}`,
        );
      }
      assert.doesNotMatch(section, /9007199254740991/, `${c.name}: no safe-integer bounds`);
    }
    assert.match(text, /\n## Error codes\n[^]*\| code \| error \| meaning \| returned by \|/);
    assert.match(text, /\n## Migrating from the Python and Go implementations\n/);
  });
});
