import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEnvelope, encodeNotification } from '../../src/rpc/index.js';

describe('JSON-RPC envelope', () => {
  it('accepts a request with each kind of valid id', () => {
    for (const id of [1, 0, -5, 1.5, 'abc', '', null]) {
      const check = checkEnvelope({ jsonrpc: '2.0', id, method: 'm' });
      assert.ok(check.ok);
      assert.equal(check.notification, false);
      assert.equal(check.request.id, id);
    }
  });

  it('treats a message without id as a notification', () => {
    const check = checkEnvelope({ jsonrpc: '2.0', method: 'm', params: [1] });
    assert.ok(check.ok && check.notification);
  });

  it('keeps the id in the failure when it was valid', () => {
    assert.deepEqual(checkEnvelope({ jsonrpc: '2.0', id: 9 }), {
      ok: false,
      id: 9,
      reason: '"method" must be a non-empty string',
    });
  });

  it('rejects non-finite numeric ids', () => {
    const check = checkEnvelope({ jsonrpc: '2.0', id: Number.POSITIVE_INFINITY, method: 'm' });
    assert.equal(check.ok, false);
  });

  it('encodes a notification without an id', () => {
    assert.deepEqual(JSON.parse(encodeNotification('camera_status_update', { device: 'x' })), {
      jsonrpc: '2.0',
      method: 'camera_status_update',
      params: { device: 'x' },
    });
  });
});
