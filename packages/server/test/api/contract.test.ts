/**
 * The API contract is a checked artifact: the running server registers exactly the
 * contracts, the SDK types and the API reference are generated from them, and the SDK's
 * error codes equal the server's table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '@camera-service/sdk';
import { ERROR_CODES, allContracts } from '../../src/index.js';
import { ROLES } from '../../src/rpc/index.js';
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
});
