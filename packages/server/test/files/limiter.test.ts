/** The limiter alone: order, refusal, internal callers that wait, limits read live. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Limiter } from '../../src/files/index.js';
import { ServiceError } from '../../src/errors/index.js';

/** A task that runs until its release() is called. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { release, task: () => done };
}

describe('Limiter', () => {
  it('runs at most `concurrent`, then starts the waiting ones in arrival order', async () => {
    const limits = { concurrent: 2, queued: 10 };
    const limiter = new Limiter({ limits: () => limits, busy: 'doing other things' });
    const gates = Array.from({ length: 5 }, gate);
    const order: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.run(() => {
        order.push(i);
        return g.task();
      }),
    );
    assert.deepEqual([limiter.running, limiter.waiting, order], [2, 3, [0, 1]]);
    gates[1]?.release();
    await runs[1];
    assert.deepEqual(order, [0, 1, 2]);
    // Raised live: the next turn that frees lets as many start as now allowed.
    limits.concurrent = 4;
    gates[0]?.release();
    await runs[0];
    assert.deepEqual([order, limiter.running, limiter.waiting], [[0, 1, 2, 3, 4], 3, 0]);
    for (const g of gates) g.release();
    await Promise.all(runs);
    assert.equal(limiter.running, 0);
  });

  it('refuses beyond the line with -32002 and a wait, and lets internal callers wait anyway', async () => {
    const limiter = new Limiter({
      limits: () => ({ concurrent: 1, queued: 1 }),
      busy: 'reading other files',
    });
    const first = gate();
    const second = gate();
    const running = limiter.run(first.task);
    const waiting = limiter.run(second.task);
    await assert.rejects(
      limiter.run(async () => 'never'),
      (error: unknown) => {
        assert.ok(error instanceof ServiceError);
        assert.equal(error.code, -32002);
        assert.equal(
          error.message,
          'The server is busy reading other files (1 running, 1 waiting): try again in a moment.',
        );
        assert.deepEqual(error.data, { retry_after_ms: 2000, retry_after: 2 });
        return true;
      },
    );
    const internal = limiter.run(async () => 'measured', { wait: true });
    assert.equal(limiter.waiting, 2);
    first.release();
    second.release();
    assert.equal(await internal, 'measured');
    await Promise.all([running, waiting]);
  });

  it('frees the turn of a task that fails', async () => {
    const limiter = new Limiter({ limits: () => ({ concurrent: 1, queued: 0 }), busy: 'x' });
    await assert.rejects(
      limiter.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await limiter.run(async () => 7), 7);
  });
});
