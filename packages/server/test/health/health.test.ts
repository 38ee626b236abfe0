import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, unknown>;

async function get(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Json; text: string; type: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Json = {};
  try {
    body = JSON.parse(text) as Json;
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, body, text, type: res.headers.get('content-type') ?? '' };
}

describe('health server', () => {
  let t: TestApp;
  let mood: 'healthy' | 'degraded' | 'unhealthy' = 'healthy';
  before(async () => {
    t = await startApp();
    t.app.health.register({
      name: 'gateway',
      critical: true,
      check: () =>
        mood === 'healthy'
          ? { status: 'healthy' }
          : { status: mood, message: 'the gateway does not answer on 127.0.0.1:9997' },
    });
    t.app.health.register({
      name: 'backup',
      critical: false,
      check: () => ({ status: 'healthy', details: { usage_percent: 12 } }),
    });
    t.app.health.register({
      name: 'hangs',
      critical: false,
      check: () => new Promise(() => undefined),
    });
  });
  after(() => t.stop());

  it('answers liveness', async () => {
    const { status, body } = await get(`${t.healthUrl}/health/live`);
    assert.equal(status, 200);
    assert.equal(body.status, 'alive');
  });

  it('reports each registered component in /health/system, with a hung check timed out', async () => {
    mood = 'healthy';
    const { status, body } = await get(`${t.healthUrl}/health/system`);
    assert.equal(status, 200);
    const components = body.components as Record<string, Json>;
    assert.deepEqual(Object.keys(components).sort(), [
      'backup',
      'cameras',
      'gateway',
      'hangs',
      'mediamtx',
      'storage',
      'websocket',
    ]);
    assert.equal(components.hangs?.status, 'unhealthy');
    assert.match(String(components.hangs?.message), /did not answer within/);
    assert.equal(
      body.status,
      'degraded',
      'a non-critical unhealthy component degrades the service',
    );
    assert.deepEqual(components.backup?.details, { usage_percent: 12 });
    assert.equal(typeof body.version, 'string');
  });

  it('turns unhealthy and unready when a critical component fails, and back', async () => {
    mood = 'unhealthy';
    const system = await get(`${t.healthUrl}/health/system`);
    assert.equal(system.status, 503);
    assert.equal(system.body.status, 'unhealthy');
    const ready = await get(`${t.healthUrl}/health/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.reasons, [
      'gateway: the gateway does not answer on 127.0.0.1:9997',
    ]);
    mood = 'healthy';
    assert.equal((await get(`${t.healthUrl}/health/ready`)).status, 200);
  });

  it('serves one component by name', async () => {
    mood = 'degraded';
    const { status, body } = await get(`${t.healthUrl}/health/gateway`);
    assert.equal(status, 200);
    assert.equal(body.component, 'gateway');
    assert.equal(body.status, 'degraded');
    mood = 'healthy';
  });

  it('counts calls by method and outcome in Prometheus metrics, folding unknown methods', async () => {
    const client = await t.connect();
    await client.ping();
    await client.ping();
    await client.request('no_such_method_xyz').catch(() => undefined);
    const { status, text, type } = await get(`${t.healthUrl}/metrics`);
    assert.equal(status, 200);
    assert.match(type, /^text\/plain/);
    assert.match(text, /camera_service_rpc_requests_total\{method="ping",outcome="ok"\} 2/);
    assert.match(
      text,
      /camera_service_rpc_requests_total\{method="\(unknown\)",outcome="method_not_found"\} 1/,
    );
    assert.match(
      text,
      /camera_service_rpc_request_duration_seconds_bucket\{le="0.005",method="ping",outcome="ok"\} 2/,
    );
    assert.match(text, /camera_service_websocket_connections 1/);
    assert.match(text, /process_resident_memory_bytes \d+/);
    assert.doesNotMatch(text, /no_such_method_xyz/);
  });

  it('answers 404 with the known routes, and 405 to other verbs', async () => {
    const missing = await get(`${t.healthUrl}/nope`);
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /\/health\/live/);
    const post = await get(`${t.healthUrl}/health/live`, { method: 'POST' });
    assert.equal(post.status, 405);
  });
});

describe('readiness through the service lifecycle', () => {
  it('is ready after start and unready while stopping', async () => {
    const t = await startApp();
    assert.equal((await get(`${t.healthUrl}/health/ready`)).status, 200);
    t.app.health.setReady(false, 'the service is stopping');
    const ready = await get(`${t.healthUrl}/health/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.reasons, ['the service is stopping']);
    await t.stop();
  });
});
