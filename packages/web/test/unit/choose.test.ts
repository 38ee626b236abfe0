/** The player's choice of paths and what it does after an attempt ends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextAttempt, parseForcedPath, playerOrder } from '../../src/player/choose.js';

const all = { serverWebrtc: true, browserWebrtc: true, browserMse: true, browserHls: true };

describe('playerOrder', () => {
  const cases: [string, Parameters<typeof playerOrder>[0], string[]][] = [
    ['WebRTC first when the server and the browser have it', all, ['webrtc', 'mse', 'hls']],
    [
      'MSE first on the embedded relay (no WebRTC)',
      { ...all, serverWebrtc: false },
      ['mse', 'hls'],
    ],
    [
      'MSE first in a browser without RTCPeerConnection',
      { ...all, browserWebrtc: false },
      ['mse', 'hls'],
    ],
    [
      'HLS alone without MediaSource (iPhone Safari)',
      { ...all, serverWebrtc: false, browserMse: false },
      ['hls'],
    ],
    [
      'nothing when the browser plays nothing',
      { serverWebrtc: false, browserWebrtc: false, browserMse: false, browserHls: false },
      [],
    ],
    ['only the forced path', { ...all, forced: 'hls' }, ['hls']],
    [
      'nothing when the forced path is unusable',
      { ...all, serverWebrtc: false, forced: 'webrtc' },
      [],
    ],
  ];
  for (const [name, support, expected] of cases) {
    it(name, () => assert.deepEqual(playerOrder(support), expected));
  }
});

describe('parseForcedPath', () => {
  it('takes the three path names and nothing else', () => {
    assert.equal(parseForcedPath('mse'), 'mse');
    assert.equal(parseForcedPath('hls'), 'hls');
    assert.equal(parseForcedPath('webrtc'), 'webrtc');
    assert.equal(parseForcedPath('flash'), null);
    assert.equal(parseForcedPath(null), null);
  });
});

describe('nextAttempt', () => {
  it('goes back to the best path soon after a path that played stops', () => {
    assert.deepEqual(nextAttempt({ index: 1, played: true, failedRounds: 3 }, 3), {
      index: 0,
      delayMs: 500,
      failedRounds: 0,
    });
  });
  it('falls back at once to the next path when one never played', () => {
    assert.deepEqual(nextAttempt({ index: 0, played: false, failedRounds: 0 }, 3), {
      index: 1,
      delayMs: 0,
      failedRounds: 0,
    });
  });
  it('starts a new round after a growing pause when every path failed', () => {
    const pauses = [0, 1, 2, 3, 4, 5, 6].map(
      (failedRounds) => nextAttempt({ index: 2, played: false, failedRounds }, 3).delayMs,
    );
    assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
});
