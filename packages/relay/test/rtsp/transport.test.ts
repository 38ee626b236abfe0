import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTransport, pickInterleaved } from '../../src/index.js';

describe('Transport header', () => {
  it("reads ffmpeg's UDP request, which the relay refuses", () => {
    const specs = parseTransport('RTP/AVP/UDP;unicast;client_port=15234-15235;mode=record');
    assert.deepEqual(specs, [
      {
        protocol: 'RTP/AVP/UDP',
        lowerTransport: 'UDP',
        unicast: true,
        interleaved: null,
        clientPort: [15234, 15235],
        mode: 'record',
      },
    ]);
    assert.equal(pickInterleaved(specs), undefined);
  });

  it("reads ffmpeg's TCP fallback with its interleaved channels", () => {
    const spec = pickInterleaved(parseTransport('RTP/AVP/TCP;unicast;interleaved=2-3;mode=record'));
    assert.deepEqual(spec?.interleaved, [2, 3]);
    assert.equal(spec?.mode, 'record');
  });

  it('picks the TCP spec out of a list, and reads a single channel as a pair', () => {
    const spec = pickInterleaved(
      parseTransport('RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;interleaved=4'),
    );
    assert.deepEqual(spec?.interleaved, [4, 5]);
    assert.equal(spec?.mode, null);
  });

  it('ignores channel numbers out of range', () => {
    assert.equal(parseTransport('RTP/AVP/TCP;interleaved=70000-70001')[0]?.interleaved, null);
  });
});
