/** Readiness as events: one per change, from direct observations and from path lists. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PathStatus } from '../../src/media/client.js';
import { ReadyState } from '../../src/media/ready-state.js';

function path(name: string, ready: boolean): PathStatus {
  return {
    name,
    ready,
    readyTime: ready ? '2026-01-01T00:00:00Z' : null,
    source: null,
    readers: [],
    bytesReceived: 0,
    bytesSent: 0,
    tracks: [],
  };
}

function watched() {
  const state = new ReadyState();
  const events: Array<[string, boolean]> = [];
  state.on('change', (name, ready) => events.push([name, ready]));
  return { state, events };
}

describe('ReadyState', () => {
  it('tells each change once, and not what it already knew', () => {
    const { state, events } = watched();
    state.set('a', true, '2026-01-01T00:00:00Z');
    state.set('a', true);
    state.set('a', false);
    state.set('a', false);
    assert.deepEqual(events, [
      ['a', true],
      ['a', false],
    ]);
    state.set('a', true, '2026-01-01T00:00:01Z');
    assert.equal(state.readyTime('a'), '2026-01-01T00:00:01Z');
  });

  it("follows the media server's list: a ready path missing from it is ready no more", () => {
    const { state, events } = watched();
    const asked = performance.now();
    state.reconcile([path('a', true), path('b', false)], asked);
    assert.equal(state.isReady('a'), true);
    state.reconcile([path('b', true)], performance.now());
    assert.deepEqual(events, [
      ['a', true],
      ['b', true],
      ['a', false],
    ]);
  });

  it('keeps what the service saw after the list was asked for', () => {
    const { state, events } = watched();
    const asked = performance.now();
    state.set('a', true); // waitReady resolved while the list was on its way
    state.reconcile([path('a', false)], asked);
    assert.equal(state.isReady('a'), true);
    assert.deepEqual(events, [['a', true]]);
  });

  it('forgets a deleted path without an event, and clears everything when the server is away', () => {
    const { state, events } = watched();
    state.set('a', true);
    state.set('b', true);
    state.forget('a');
    assert.equal(state.isReady('a'), false);
    state.clear();
    assert.deepEqual(events, [
      ['a', true],
      ['b', true],
      ['b', false],
    ]);
  });
});
