/**
 * The Python SDK's generated module is a checked artifact: it equals what the contracts
 * render (run `npm run gen:api`), it has an async method for every server method, and
 * an exception class for every error code. Its behaviour against the real service is
 * tested by pytest (sdk-python/tests), which `npm test` runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, allContracts } from '../../src/index.js';
import { pascal, renderPythonSdk } from '../../scripts/python-sdk.js';

const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const generated = () => readFileSync(`${root}sdk-python/camera_service_sdk/_generated.py`, 'utf8');

describe('Python SDK', () => {
  it('the generated module is rendered from the contracts (run npm run gen:api)', () => {
    assert.equal(generated(), renderPythonSdk());
  });

  it('has an async method for every server method, listing its errors', () => {
    const text = generated();
    for (const c of allContracts) {
      assert.match(text, new RegExp(`\\n    async def ${c.name}\\(`), `${c.name} is missing`);
    }
    const methods = [...text.matchAll(/\n {4}async def ([a-z_]+)\(/g)].map((m) => m[1]);
    assert.deepEqual(
      methods.filter((m) => m !== 'call').sort(),
      allContracts.map((c) => c.name).sort(),
    );
    assert.equal(text.split('        Raises:\n').length - 1, allContracts.length);
  });

  it('has an exception class for every error code', () => {
    const text = generated();
    for (const [kind, code] of Object.entries(ERROR_CODES)) {
      assert.match(text, new RegExp(`class ${pascal(kind)}\\(RpcError\\):`));
      assert.match(text, new RegExp(`\\n {4}${code}: ${pascal(kind)},`));
    }
  });

  it('a method added to the contracts is missing from the committed module', () => {
    const [first] = allContracts;
    assert.ok(first);
    const extra = { ...first, name: 'added_method', summary: 'A method added later.' };
    const text = renderPythonSdk([...allContracts, extra]);
    assert.notEqual(text, generated());
    assert.match(text, /async def added_method\(/);
  });
});
