/** docs/configuration.md documents every key of the schema, and marks exactly the live ones. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LIVE_KEYS, defaultConfig } from '../../src/config/index.js';

const doc = readFileSync(
  fileURLToPath(new URL('../../../../../docs/configuration.md', import.meta.url)),
  'utf8',
);

function leaves(value: unknown, prefix = ''): string[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

const rows = new Map(
  [...doc.matchAll(/^\|\s*`([a-z_.[\]]+)`\s*\|(.*)$/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]),
);

it('documents every configuration key', () => {
  const keys = leaves(defaultConfig()).filter((k) => k !== 'cameras');
  const missing = keys.filter((k) => !rows.has(k));
  assert.deepEqual(missing, [], 'add these keys to docs/configuration.md');
});

it('marks exactly the live keys as live', () => {
  const keys = leaves(defaultConfig()).filter((k) => k !== 'cameras');
  const isLive = (k: string) => LIVE_KEYS.some((l) => k === l || k.startsWith(`${l}.`));
  for (const key of keys) {
    assert.equal(/\|\s*live\s*\|/.test(rows.get(key) ?? ''), isLive(key), `${key}: live marking`);
  }
});
