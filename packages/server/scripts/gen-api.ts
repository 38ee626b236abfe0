/** Writes (or with --check, verifies) the SDK types and methods, the API reference and the MediaMTX API types. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderApiReference, renderSdkMethods, renderSdkTypes } from './api-artifacts.js';
import { MEDIAMTX_OPENAPI, renderMediaMtxTypes } from './mediamtx-types.js';
import { renderPythonSdk } from './python-sdk.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const targets = [
  { path: `${root}packages/sdk/src/generated/api.ts`, render: () => renderSdkTypes() },
  {
    path: `${root}packages/sdk/src/generated/methods.ts`,
    render: async () => renderSdkMethods(),
  },
  { path: `${root}docs/api-reference.md`, render: async () => renderApiReference() },
  { path: `${root}sdk-python/camera_service_sdk/_generated.py`, render: () => renderPythonSdk() },
  {
    path: `${root}packages/server/src/media/mediamtx-api.gen.ts`,
    render: () => renderMediaMtxTypes(),
  },
];

const check = process.argv.includes('--check');
let stale = 0;
for (const target of targets) {
  const text = await target.render();
  if (text === null) {
    console.warn(`${MEDIAMTX_OPENAPI} is absent: ${target.path} left as it is`);
    continue;
  }
  let current = '';
  try {
    current = readFileSync(target.path, 'utf8');
  } catch {
    // missing: written below
  }
  if (current === text) continue;
  if (check) {
    console.error(`${target.path} is out of date: run npm run gen:api`);
    stale += 1;
  } else {
    writeFileSync(target.path, text);
    console.log(`wrote ${target.path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
