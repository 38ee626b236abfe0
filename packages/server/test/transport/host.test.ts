import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostOf } from '../../src/transport/index.js';

describe('hostOf (the host a client used, for URLs given back to it)', () => {
  const cases: [string | undefined, string | null][] = [
    ['box.local:8002', 'box.local'],
    ['box.local', 'box.local'],
    ['192.168.1.20:8002', '192.168.1.20'],
    ['[fe80::1]:8002', 'fe80::1'],
    ['[::1]', '::1'],
    [undefined, null],
    ['', null],
    ['evil.com/path', null],
    ['a b', null],
    ['host:port', null],
    ['"><script>', null],
    ['user@host:80', null],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(hostOf(header), expected);
    });
  }
});
