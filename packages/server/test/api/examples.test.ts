/**
 * The examples in the API reference cannot drift from the contracts: each one's params and
 * result pass the method's own schemas unchanged, and its params, sent to the running
 * service, are answered (the service checks every result against the contract in tests).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CameraServiceClient } from '@camera-service/sdk';
import { allContracts } from '../../src/index.js';
import { allNotifications } from '../../scripts/api-artifacts.js';
import { startApp, type TestApp } from '../helpers/app.js';

/** What a schema makes of a value, or why it refuses it. */
function parsed(
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown; error?: unknown } },
  value: unknown,
) {
  const result = schema.safeParse(value);
  if (!result.success) assert.fail(String(result.error));
  return result.data;
}

describe('the examples of the API reference', () => {
  it('every method has one, and its params and result pass its schemas unchanged', () => {
    for (const c of allContracts) {
      assert.ok(c.examples.length > 0, `${c.name} has an example`);
      for (const example of c.examples) {
        // Strict params: an unknown parameter in an example fails here.
        parsed(c.params, example.params);
        // Objects drop unknown fields when parsed: a field the contract lacks shows as a difference.
        assert.deepEqual(parsed(c.result, example.result), example.result, `${c.name} result`);
      }
    }
  });

  it('every notification with an example has params its schema accepts unchanged', () => {
    for (const n of allNotifications) {
      assert.ok(n.example !== undefined, `${n.name} has an example`);
      assert.deepEqual(parsed(n.params, n.example), n.example, n.name);
    }
  });

  describe('sent to the running service', () => {
    let t: TestApp;
    let admin: CameraServiceClient;
    before(async () => {
      // The examples' camera is /dev/video0: here, a test pattern with its stream name.
      t = await startApp({
        cameras: [{ id: 'camera0', test_pattern: { size: '320x240', fps: 10, clock: false } }],
      });
      admin = await t.connect({ as: 'admin', requestTimeoutMs: 30_000 });
      // The files the examples name.
      for (const c of allContracts) {
        for (const { params } of c.examples) {
          const name = (params as { filename?: string }).filename;
          if (name === undefined || c.name === 'take_snapshot') continue;
          const dir = name.endsWith('.mp4') ? 'recordings_dir' : 'snapshots_dir';
          writeFileSync(join(t.config.storage[dir], name), 'not really media');
        }
      }
      await t.app.files.recordings.rescan();
      await t.app.files.snapshots.rescan();
    });
    after(() => t.stop());

    /** The example's params, with what only this service can give: a real token, its camera. */
    async function sendable(params: Record<string, unknown>): Promise<Record<string, unknown>> {
      const out = { ...params };
      if (out.device === '/dev/video0') out.device = 'camera0';
      if (typeof out.auth_token === 'string') out.auth_token = await t.token('admin');
      // revoke_api_key's key: the one create_api_key's example made before it.
      if (typeof out.id === 'string') {
        out.id = t.app.apiKeys.list().find((k) => k.revoked_at === null)?.id ?? out.id;
      }
      return out;
    }

    // In the reference's order: start_recording before stop_recording, info before delete.
    for (const c of allContracts) {
      c.examples.forEach((example, i) => {
        it(`${c.name}${c.examples.length > 1 ? ` (${i + 1})` : ''} answers its example's params`, async () => {
          const params = await sendable(example.params as Record<string, unknown>);
          // The service checks the result against the contract: a mismatch fails the call.
          await admin.request(c.name, params);
        });
      });
    }
  });
});
