import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSegment, targetPath, targetQuery } from '../../src/transport/index.js';
import { prng } from '../helpers/prng.js';

describe('request targets (RFC 9112 section 3.2), read without throwing', () => {
  const cases: [string | undefined, string | null][] = [
    ['/ws', '/ws'],
    ['/ws?token=a', '/ws'],
    ['/files/x.mp4#frag', '/files/x.mp4'],
    ['//a:b', '//a:b'],
    ['//[', '//['],
    ['//x:99999/ws', '//x:99999/ws'],
    ['/%zz', '/%zz'],
    ['http://box:8002/ws?x', '/ws'],
    ['HTTPS://box/health/live', '/health/live'],
    ['http://[::1/ws', null],
    ['*', null],
    ['ws', null],
    ['', null],
    [undefined, null],
  ];
  for (const [target, expected] of cases) {
    it(`${JSON.stringify(target)} has the path ${JSON.stringify(expected)}`, () => {
      assert.equal(targetPath(target), expected);
    });
  }

  it('reads the query and decodes segments once, null for broken encodings', () => {
    assert.equal(targetQuery('/a?token=x&y=1#f'), 'token=x&y=1');
    assert.equal(targetQuery('/a'), '');
    assert.equal(decodeSegment('a%20b'), 'a b');
    assert.equal(decodeSegment('%zz'), null);
    assert.equal(decodeSegment('%c0%ae'), null);
  });

  it('never throws, whatever the target', () => {
    const random = prng(7);
    for (let i = 0; i < 5000; i += 1) {
      const length = Math.floor(random() * 20);
      let target = random() < 0.5 ? '/' : random() < 0.5 ? 'http://' : '';
      for (let j = 0; j < length; j += 1) target += String.fromCharCode(Math.floor(random() * 128));
      targetPath(target);
      targetQuery(target);
      decodeSegment(target);
    }
  });
});
