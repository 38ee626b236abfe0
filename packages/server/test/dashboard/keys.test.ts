/**
 * The admin API key methods against the real service: a created key authenticates at
 * once, a revoked one is refused on the next call of a connection already using it, and
 * viewers and operators get the permission error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CameraServiceClient, RpcError } from '@camera-service/sdk';
import { startApp, type TestApp } from '../helpers/app.js';

describe('admin API key methods', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(() => t.stop());

  it('creates a key that authenticates at once, lists it, and revokes it for the next call', async () => {
    const admin = await t.connect({ as: 'admin' });
    const created = (await admin.request('create_api_key', {
      name: 'kiosk',
      role: 'operator',
    })) as {
      id: string;
      key: string;
      role: string;
    };
    assert.match(created.key, /^csk_[0-9a-f]{8}_/);
    assert.equal(created.role, 'operator');
    const user = new CameraServiceClient({
      url: t.wsUrl,
      authToken: created.key,
      requestTimeoutMs: 5000,
    });
    await user.connect();
    try {
      const first = await user.getCameraList();
      assert.ok(Array.isArray(first.cameras));
      const listed = (await admin.request('list_api_keys', {})) as {
        keys: { id: string; revoked_at: string | null }[];
        total: number;
      };
      assert.equal(listed.total, listed.keys.length);
      assert.deepEqual(
        listed.keys.find((k) => k.id === created.id),
        { ...listed.keys.find((k) => k.id === created.id), revoked_at: null },
      );
      assert.ok(!JSON.stringify(listed).includes(created.key.slice(14)), 'no secret listed');
      assert.deepEqual(await admin.request('revoke_api_key', { id: created.id }), {
        id: created.id,
        revoked: true,
      });
      await assert.rejects(
        user.getCameraList(),
        (e: unknown) => e instanceof RpcError && e.code === -32001,
      );
      await assert.rejects(
        admin.request('revoke_api_key', { id: created.id }),
        (e: unknown) => e instanceof RpcError && e.code === -1013,
      );
    } finally {
      await user.close();
    }
  });

  for (const role of ['viewer', 'operator'] as const) {
    it(`refuses a ${role} with the permission error`, async () => {
      const client = await t.connect({ as: role });
      for (const [method, params] of [
        ['list_api_keys', {}],
        ['create_api_key', { name: `by-${role}`, role: 'admin' }],
        ['revoke_api_key', { id: '00000000' }],
      ] as const) {
        await assert.rejects(
          client.request(method, params),
          (e: unknown) => e instanceof RpcError && e.code === -32003,
          method,
        );
      }
    });
  }
});
