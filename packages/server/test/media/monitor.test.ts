/**
 * The health monitor's schedule, on a clock the test moves: the backoff between failed
 * checks, the breaker opening, and the checks during a long outage. The media server is a
 * client that fails or answers on cue (what it answers is tested against the relay in
 * client.test.ts and plane.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../../src/media/breaker.js';
import { HealthMonitor, backoffDelay } from '../../src/media/monitor.js';
import { testLogger } from '../helpers/media.js';

function setup() {
  let now = 1_000_000;
  let up = false;
  let started = '2026-01-01T00:00:00Z';
  let tellsStart = true;
  const probe = async () => {
    if (!up) throw new Error('connect ECONNREFUSED 127.0.0.1:9997');
    // MediaMTX before v1.16 tells neither its version nor its start time.
    return tellsStart ? { version: 'v1.20.0', started } : { version: null, started: null };
  };
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    successThreshold: 2,
    openMs: 300_000,
    now: () => now,
  });
  const monitor = new HealthMonitor({
    probe,
    breaker,
    log: testLogger().log,
    intervalMs: 5_000_000,
    // No jitter here (random 0.5 is the middle of the range): exact delays. Long ones, so
    // that the monitor's real timers never fire while the test drives it.
    backoff: { initialMs: 100_000, maxMs: 1_000_000, jitter: 0.5 },
    random: () => 0.5,
    now: () => now,
  });
  /** Milliseconds from now to the next check the monitor scheduled. */
  const nextIn = () => Date.parse(monitor.status().next_check ?? '') - now;
  return {
    monitor,
    breaker,
    nextIn,
    advance: (ms: number) => (now += ms),
    setUp: (value: boolean) => (up = value),
    restart: () => (started = '2026-01-01T01:00:00Z'),
    olderVersion: () => (tellsStart = false),
  };
}

describe('HealthMonitor', () => {
  it('backs off exponentially, opens the breaker, and checks a long outage at the backoff limit', async () => {
    const { monitor, breaker, nextIn, advance } = setup();
    await monitor.start();
    const delays = [nextIn()];
    for (let i = 0; i < 6; i += 1) {
      advance(nextIn());
      await monitor.checkNow();
      delays.push(nextIn());
    }
    monitor.stop();
    // 3 failures open the breaker (threshold); each later trial fails and doubles the wait.
    assert.deepEqual(
      delays,
      [100, 200, 400, 800, 1000, 1000, 1000].map((s) => s * 1000),
    );
    assert.equal(breaker.state === 'open' || breaker.state === 'half_open', true);
  });

  it('while the breaker is open, waits for the longer of its open time and the backoff', async () => {
    const { monitor, nextIn } = setup();
    await monitor.start(); // 1 failure
    await monitor.checkNow(); // 2
    await monitor.checkNow(); // 3: open for 300 s; backoff(3) is 400 s
    await monitor.checkNow(); // refused by the open breaker: waits the longer of the two
    assert.equal(nextIn(), 400_000);
    monitor.stop();
  });

  it('tells when the media server answers again, and when it restarted in between', async () => {
    const { monitor, advance, nextIn, setUp, restart } = setup();
    const reasons: string[] = [];
    monitor.on('recovered', (reason) => reasons.push(reason));
    await monitor.start();
    setUp(true);
    advance(nextIn());
    await monitor.checkNow();
    assert.deepEqual(reasons, ['reachable_again']);
    assert.equal(nextIn(), 5_000_000, 'back to the normal interval');
    restart();
    await monitor.checkNow();
    assert.deepEqual(reasons, ['reachable_again', 'restarted']);
    assert.equal(monitor.status().restarts_seen, 1);
    monitor.stop();
  });

  it('takes a restart it was told of, from a media server that tells no start time', async () => {
    const { monitor, setUp, olderVersion } = setup();
    const seen: Array<[string, boolean]> = [];
    monitor.on('recovered', (reason, expected) => seen.push([reason, expected]));
    setUp(true);
    olderVersion();
    await monitor.start();
    await monitor.checkNow();
    assert.deepEqual(seen, [], 'no start time: no restart found out');
    monitor.expectRestart();
    await monitor.checkNow();
    assert.deepEqual(seen, [['restarted', true]]);
    await monitor.checkNow();
    assert.equal(seen.length, 1, 'only the next check counts it');
    assert.equal(monitor.status().version, null);
    assert.equal(monitor.status().restarts_seen, 1);
    monitor.stop();
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the maximum, within the jitter', () => {
    const options = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, options, 0.5)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
    assert.equal(backoffDelay(1, options, 0), 400);
    assert.equal(backoffDelay(1, options, 1), 600);
  });
});
