/**
 * The SDK's generated methods against the running service: the generated file equals what
 * the contracts render (a method added on the server and not regenerated fails here),
 * every contract has its camelCase method, and each one round-trips: called through its
 * typed method, its result parses with the contract's result schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CameraServiceClient,
  METHOD_ERRORS,
  RpcError,
  SDK_METHODS,
  type MethodName,
} from '@camera-service/sdk';
import { allContracts } from '../../src/index.js';
import { renderSdkMethods, sdkMethodName } from '../../scripts/api-artifacts.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { nextEvent } from './events.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

describe('the SDK methods, generated from the contracts', () => {
  it('the generated methods file is up to date (run npm run gen:api)', () => {
    const file = `${REPO_ROOT}/packages/sdk/src/generated/methods.ts`;
    assert.equal(readFileSync(file, 'utf8'), renderSdkMethods());
  });

  it('every server method has its camelCase method on the client, with its error kinds', () => {
    const names = allContracts.map((c) => c.name).sort();
    assert.deepEqual(Object.keys(SDK_METHODS).sort(), names);
    assert.deepEqual(Object.keys(METHOD_ERRORS).sort(), names);
    for (const c of allContracts) {
      const method = sdkMethodName(c.name);
      assert.equal(SDK_METHODS[c.name as MethodName], method);
      assert.equal(
        typeof (CameraServiceClient.prototype as unknown as Record<string, unknown>)[method],
        'function',
        `CameraServiceClient.${method} (for ${c.name}) is missing: run npm run gen:api`,
      );
    }
    assert.deepEqual(sdkMethodName('take_snapshot'), 'takeSnapshot');
    assert.ok(METHOD_ERRORS.take_snapshot.includes('camera_not_found' as never));
  });

  describe('round trips against the service', () => {
    let t: TestApp;
    let client: CameraServiceClient;
    const results = new Map<string, unknown>();
    before(async () => {
      t = await startApp({ cameras: [CAMERA] });
      client = await t.connect({ as: 'admin', requestTimeoutMs: 30_000 });
    });
    after(() => t.stop());

    it('every method, through its typed method, answers what its contract says', async () => {
      const record = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
        const result = await call();
        results.set(name, result);
        return result;
      };
      await record('authenticate', async () => client.authenticate(await t.token('admin')));
      await record('ping', () => client.ping());
      await record('get_server_info', () => client.getServerInfo());
      await record('get_status', () => client.getStatus());
      await record('get_metrics', () => client.getMetrics());
      await record('get_streams', () => client.getStreams());
      const list = await record('get_camera_list', () => client.getCameraList());
      const device = list.cameras[0]!.device;
      await record('get_camera_status', () => client.getCameraStatus({ device }));
      const shot = await record('take_snapshot', () => client.takeSnapshot({ device }));
      const started = nextEvent(
        client,
        'recording_status_update',
        20_000,
        (p) => p.status === 'STARTED',
      );
      await record('start_recording', () => client.startRecording({ device }));
      await started;
      // Two seconds of media: the length of the recording, not a wait for an event.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await record('stop_recording', () => client.stopRecording({ device }));
      const recordings = await record('list_recordings', () =>
        client.listRecordings({ limit: 10, offset: 0 }),
      );
      const recording = recordings.files[0]!.filename;
      await record('list_snapshots', () => client.listSnapshots({ limit: 10 }));
      await record('get_recording_info', () => client.getRecordingInfo({ filename: recording }));
      await record('get_snapshot_info', () => client.getSnapshotInfo({ filename: shot.filename }));
      await record('get_storage_info', () => client.getStorageInfo());
      await record('set_retention_policy', () =>
        client.setRetentionPolicy({ policy_type: 'manual', enabled: false }),
      );
      await record('cleanup_old_files', () => client.cleanupOldFiles());
      const key = await record('create_api_key', () =>
        client.createApiKey({ name: 'roundtrip', role: 'viewer' }),
      );
      await record('list_api_keys', () => client.listApiKeys());
      await record('revoke_api_key', () => client.revokeApiKey({ id: key.id }));
      await record('delete_recording', () => client.deleteRecording({ filename: recording }));
      await record('delete_snapshot', () => client.deleteSnapshot({ filename: shot.filename }));

      for (const c of allContracts) {
        assert.ok(results.has(c.name), `${c.name} has no round trip here: add one`);
        const parsed = c.result.safeParse(results.get(c.name));
        assert.ok(parsed.success, `${c.name}: ${parsed.error?.message}`);
      }
      assert.equal(results.get('ping'), 'pong');
    });

    it('a method raises the error kinds its contract declares, typed', async () => {
      const error = await client
        .getCameraStatus({ device: '/dev/video99' })
        .catch((e: unknown) => e);
      assert.ok(error instanceof RpcError);
      assert.equal(error.kind, 'camera_not_found');
      assert.equal(error.code, -1000);
      assert.ok(METHOD_ERRORS.get_camera_status.includes(error.kind as never));
    });
  });
});
