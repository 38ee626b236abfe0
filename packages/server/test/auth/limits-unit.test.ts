import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureThrottle, TokenBucket } from '../../src/auth/index.js';

describe('token bucket', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const bucket = new TokenBucket(10, 3, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [0, 0, 0]);
    assert.equal(bucket.take(0), 100, 'one token every 100 ms at 10/s');
    assert.equal(bucket.take(40), 60);
    assert.equal(bucket.take(100), 0);
  });

  it('refills up to the burst and no further', () => {
    const bucket = new TokenBucket(10, 2, 0);
    bucket.take(0);
    bucket.take(0);
    assert.deepEqual(
      [bucket.take(60_000), bucket.take(60_000), bucket.take(60_000) > 0],
      [0, 0, true],
    );
  });

  it('takes new settings without refilling', () => {
    const bucket = new TokenBucket(100, 100, 0);
    for (let i = 0; i < 100; i += 1) bucket.take(0);
    bucket.configure(1, 1, 0);
    assert.equal(bucket.take(0), 1000);
  });
});

describe('failure throttle', () => {
  it('blocks an address after the limit within the window, until the oldest failure ages out', () => {
    const throttle = new FailureThrottle({ limit: 3, windowMs: 1000 });
    for (const t of [0, 100, 200]) {
      assert.equal(throttle.blockedFor('a', t), 0);
      throttle.recordFailure('a', t);
    }
    assert.equal(throttle.blockedFor('a', 300), 700);
    assert.equal(throttle.blockedFor('b', 300), 0, 'other addresses are not affected');
    assert.equal(throttle.blockedFor('a', 1000), 0);
  });

  it('keeps a bounded number of addresses', () => {
    const throttle = new FailureThrottle({ limit: 1, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 1000; i += 1) throttle.recordFailure(`10.0.${i >> 8}.${i & 255}`, 0);
    assert.equal(throttle.blockedFor('10.0.0.0', 1), 0, 'the oldest were forgotten');
    assert.ok(throttle.blockedFor('10.0.3.231', 1) > 0, 'the newest are kept');
  });
});
