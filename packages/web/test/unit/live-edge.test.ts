/** Keeping the live edge: when to seek, where to, and what buffer to drop. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HLS_EDGE, LOW_LATENCY_EDGE, liveEdgeAction } from '../../src/player/live-edge.js';

describe('liveEdgeAction', () => {
  it('does nothing without a buffer', () => {
    assert.deepEqual(liveEdgeAction(0, [], LOW_LATENCY_EDGE), { seekTo: null, removeBefore: null });
  });
  it('leaves a player close to the edge alone', () => {
    assert.deepEqual(liveEdgeAction(10.6, [[5, 11]], LOW_LATENCY_EDGE), {
      seekTo: null,
      removeBefore: null,
    });
  });
  it('jumps to just before the end when more than half a second behind', () => {
    assert.equal(liveEdgeAction(10, [[5, 11]], LOW_LATENCY_EDGE).seekTo, 10.85);
  });
  it('seeks into the buffer when the play position is outside it (a stream that starts late)', () => {
    assert.equal(liveEdgeAction(0, [[1234.5, 1234.6]], LOW_LATENCY_EDGE).seekTo, 1234.5);
  });
  it('drops buffer older than what it keeps, once there is enough to drop', () => {
    assert.equal(liveEdgeAction(29.9, [[18, 30]], LOW_LATENCY_EDGE).removeBefore, null);
    assert.equal(liveEdgeAction(40, [[20, 40.2]], LOW_LATENCY_EDGE).removeBefore, 30);
  });
  it('lets HLS lag by seconds before jumping', () => {
    assert.equal(liveEdgeAction(20, [[10, 23]], HLS_EDGE).seekTo, null);
    assert.equal(liveEdgeAction(20, [[10, 25]], HLS_EDGE).seekTo, 23.5);
  });
});
