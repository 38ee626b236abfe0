import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, type BreakerState } from '../../src/media/breaker.js';
import { backoffDelay } from '../../src/media/monitor.js';

function breaker() {
  let now = 0;
  const moves: string[] = [];
  const b = new CircuitBreaker({
    failureThreshold: 3,
    successThreshold: 2,
    openMs: 1000,
    now: () => now,
    onChange: (from: BreakerState, to: BreakerState) => moves.push(`${from}>${to}`),
  });
  return { b, moves, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, not before, and a success resets the count', () => {
    const { b, moves } = breaker();
    b.recordFailure();
    b.recordFailure();
    b.recordSuccess();
    b.recordFailure();
    b.recordFailure();
    assert.equal(b.state, 'closed');
    b.recordFailure();
    assert.equal(b.state, 'open');
    assert.equal(b.allows(), false);
    assert.deepEqual(moves, ['closed>open']);
  });

  it('lets a trial through after the open time, and closes after M successes', () => {
    const { b, moves, advance } = breaker();
    for (let i = 0; i < 3; i += 1) b.recordFailure();
    assert.equal(b.retryAt, 1000);
    advance(999);
    assert.equal(b.allows(), false);
    advance(1);
    assert.equal(b.state, 'half_open');
    assert.equal(b.allows(), true);
    b.recordSuccess();
    assert.equal(b.state, 'half_open');
    b.recordSuccess();
    assert.equal(b.state, 'closed');
    assert.deepEqual(moves, ['closed>open', 'open>half_open', 'half_open>closed']);
  });

  it('reopens on a failure while half-open, for another full open time', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i += 1) b.recordFailure();
    advance(1000);
    b.recordSuccess();
    b.recordFailure();
    assert.equal(b.state, 'open');
    assert.equal(b.retryAt, 2000);
    advance(1000);
    assert.equal(b.state, 'half_open');
    b.recordSuccess();
    assert.equal(b.state, 'half_open', 'successes before the reopening do not count');
  });
});

describe('backoffDelay', () => {
  const options = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };
  it('doubles from the initial delay up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, options, 0.5)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
  });
  it('spreads each delay by the jitter, both ways', () => {
    assert.equal(backoffDelay(3, options, 0), 1600);
    assert.equal(backoffDelay(3, options, 1), 2400);
    assert.equal(backoffDelay(10, options, 1), 36000);
  });
});
