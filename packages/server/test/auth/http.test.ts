import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from '../helpers/app.js';

describe('HTTP authentication (/metrics with health.metrics_auth)', () => {
  let t: TestApp;
  let adminKey: string;
  before(async () => {
    t = await startApp({
      health: { metrics_auth: true },
      auth: { failed_attempts: { limit: 100, window_seconds: 60 } },
    });
    adminKey = t.app.apiKeys.create({ name: 'prometheus', role: 'admin' }).key;
  });
  after(() => t.stop());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${t.healthUrl}${path}`, { headers });

  it('answers 401 with a challenge when no credentials are sent', async () => {
    const res = await get('/metrics');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="camera-service"');
    assert.match(
      ((await res.json()) as { error: string }).error,
      /Authorization: Bearer <token> or X-API-Key/,
    );
  });

  it('answers 401 to a bad token, saying it is invalid', async () => {
    const res = await get('/metrics', { authorization: 'Bearer nonsense' });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /invalid token/);
  });

  it('answers 403 to a role that is too low', async () => {
    const res = await get('/metrics', { authorization: `Bearer ${await t.token('operator')}` });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /needs the admin role/);
    assert.ok(t.logs.find((r) => r.event === 'permission_denied' && r.target === 'GET /metrics'));
  });

  it('serves an admin with a Bearer JWT or an X-API-Key', async () => {
    const byJwt = await get('/metrics', { authorization: `Bearer ${await t.token('admin')}` });
    assert.equal(byJwt.status, 200);
    assert.match(await byJwt.text(), /camera_service_rpc_requests_total/);
    const byKey = await get('/metrics', { 'x-api-key': adminKey });
    assert.equal(byKey.status, 200);
  });

  it('keeps the health endpoints open', async () => {
    for (const path of ['/health/live', '/health/ready', '/health/system']) {
      assert.equal((await get(path)).status, 200, path);
    }
  });
});
