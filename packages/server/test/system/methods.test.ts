import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RpcError } from '@camera-service/sdk';
import { VERSION } from '../../src/index.js';
import { startApp, type TestApp } from '../helpers/app.js';

describe('service methods', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(() => t.stop());

  it('ping answers pong, also by position and as a batch', async () => {
    const client = await t.connect();
    assert.equal(await client.ping(), 'pong');
    assert.equal(await client.request('ping', []), 'pong');
  });

  it('get_server_info describes this server', async () => {
    const client = await t.connect();
    const info = await client.getServerInfo();
    assert.equal(info.name, 'MediaMTX Camera Service');
    assert.equal(info.version, VERSION);
    assert.deepEqual(info.methods, [
      'authenticate',
      'cleanup_old_files',
      'create_api_key',
      'delete_recording',
      'delete_snapshot',
      'get_camera_list',
      'get_camera_status',
      'get_metrics',
      'get_recording_info',
      'get_server_info',
      'get_snapshot_info',
      'get_status',
      'get_storage_info',
      'get_streams',
      'list_api_keys',
      'list_recordings',
      'list_snapshots',
      'ping',
      'revoke_api_key',
      'set_retention_policy',
      'start_recording',
      'stop_recording',
      'take_snapshot',
    ]);
    assert.deepEqual(info.limits, {
      max_message_bytes: 65536,
      max_batch_requests: 50,
      max_connections: 100,
    });
    assert.equal(info.max_cameras, 16);
    assert.deepEqual(info.supported_formats, ['mp4', 'mkv', 'jpg']);
    assert.ok(info.capabilities.includes('recordings'));
  });

  it('get_status reports the components and uptime', async () => {
    const client = await t.connect();
    const status = await client.getStatus();
    assert.equal(status.status, 'healthy');
    assert.equal(status.version, VERSION);
    assert.equal(status.components.websocket?.status, 'healthy');
    assert.ok(status.uptime >= 0);
  });

  it('get_metrics returns real, moving figures', async () => {
    const a = await t.connect();
    const b = await t.connect();
    const before = await a.getMetrics();
    for (let i = 0; i < 10; i += 1) await b.ping();
    await b
      .request('get_status', { extra: 1 })
      .catch((e: unknown) => assert.ok(e instanceof RpcError && e.code === -32602));
    const now = await a.getMetrics();
    assert.equal(now.active_connections, t.app.ws.size);
    assert.ok(now.active_connections >= 2);
    assert.equal(
      now.total_requests - before.total_requests,
      12,
      '10 pings, 1 bad call, and the get_metrics before',
    );
    assert.equal(now.failed_requests - before.failed_requests, 1);
    assert.ok(now.error_rate > 0 && now.error_rate < 1);
    assert.ok(now.average_response_time > 0);
    assert.ok(now.memory_usage.rss_bytes > 10 * 1024 * 1024);
    assert.ok(now.memory_usage.heap_used_bytes > 0);
    assert.ok(now.cpu_usage.user_seconds > 0);
    assert.ok(now.cpu_usage.percent >= 0);
  });
});
