import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CameraServiceClient, ConnectionError, RpcError } from '@camera-service/sdk';
import { startApp } from '../helpers/app.js';
import { within } from '../helpers/wait.js';

async function codeOf(
  promise: Promise<unknown>,
): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  const error = await promise.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RpcError, String(error));
  return { code: error.code, message: error.message, data: error.data as Record<string, unknown> };
}

describe('authenticated sessions', () => {
  it('returns role, permissions, expiry and a session id, and writes an audit line', async () => {
    const t = await startApp();
    try {
      const client = await t.connect({ as: null });
      const result = await client.authenticate(await t.token('operator', 600));
      assert.equal(result.authenticated, true);
      assert.equal(result.role, 'operator');
      assert.deepEqual(result.permissions, ['view', 'control']);
      assert.ok(Math.abs(Date.parse(result.expires_at!) - (Date.now() + 600_000)) < 3000);
      assert.match(result.session_id, /^[0-9a-f-]{36}$/);
      const audit = await t.logs.waitFor((r) => r.event === 'auth_success');
      assert.equal(audit.role, 'operator');
      assert.equal(audit.auth_session, result.session_id);
      const key = t.app.apiKeys.create({ name: 'kiosk', role: 'viewer' }).key;
      const byKey = await client.authenticate(key);
      assert.equal(byKey.expires_at, null);
      assert.equal(byKey.role, 'viewer');
    } finally {
      await t.stop();
    }
  });

  it('fails the next call of a session whose token has expired, with "token expired"', async () => {
    const t = await startApp();
    try {
      const client = await t.connect({ as: null });
      await client.authenticate(await t.token('admin', 60));
      assert.equal(await client.ping(), 'pong');
      t.clock.advance(61_000);
      const error = await codeOf(client.ping());
      assert.equal(error.code, -32001);
      assert.match(error.message, /token expired/);
      assert.equal(error.data.reason, 'token_expired');
      assert.equal(
        (await codeOf(client.ping())).data.reason,
        'authentication_required',
        'the session was unbound',
      );
    } finally {
      await t.stop();
    }
  });

  it('fails the next call of a session whose API key is revoked', async () => {
    const t = await startApp();
    try {
      const { key } = t.app.apiKeys.create({ name: 'cam-ops', role: 'operator' });
      const client = await t.connect({ as: null, authToken: key });
      assert.equal(await client.ping(), 'pong');
      t.app.apiKeys.revoke('cam-ops');
      const error = await codeOf(client.ping());
      assert.equal(error.code, -32001);
      assert.match(error.message, /API key revoked/);
    } finally {
      await t.stop();
    }
  });

  it('names the required role and audits a permission denial', async () => {
    const t = await startApp();
    try {
      const client = await t.connect({ as: 'viewer' });
      const error = await codeOf(client.getMetrics());
      assert.equal(error.code, -32003);
      assert.match(
        error.message,
        /get_metrics needs the admin role; this session has the viewer role/,
      );
      const audit = await t.logs.waitFor((r) => r.event === 'permission_denied');
      assert.equal(audit.target, 'get_metrics');
      assert.equal(audit.required_role, 'admin');
    } finally {
      await t.stop();
    }
  });

  it('sends notifications only to authenticated sessions', async () => {
    const t = await startApp();
    try {
      const member = await t.connect({ as: 'viewer' });
      const stranger = await t.connect({ as: null });
      const strangerGot: string[] = [];
      stranger.on('notification', (method) => strangerGot.push(method));
      const memberGot = new Promise((resolve) =>
        member.once('notification', (method) => resolve(method)),
      );
      assert.equal(t.app.ws.broadcast('camera_status_update', { device: 'x' }), 1);
      assert.equal(await within(memberGot, 2000, 'notification'), 'camera_status_update');
      // Replies on a connection keep its order: had the notification been sent to the stranger,
      // it would have arrived before the answer to this later call.
      await stranger.ping().catch(() => undefined);
      assert.deepEqual(strangerGot, []);
    } finally {
      await t.stop();
    }
  });
});

describe('abuse protection', () => {
  it('rate-limits a connection with retry_after, and recovers', async () => {
    const t = await startApp({ auth: { rate_limit: { requests_per_second: 10, burst: 5 } } });
    try {
      const client = await t.connect({ as: 'viewer' }); // authenticate took one token
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => client.ping()));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
      );
      const error = await codeOf(client.ping());
      assert.equal(error.code, -32002);
      assert.match(error.message, /at most 10 requests per second \(bursts of 5\)/);
      assert.ok(
        (error.data.retry_after_ms as number) > 0 && (error.data.retry_after_ms as number) <= 100,
      );
      assert.equal(error.data.retry_after, 1);
      const other = await t.connect({ as: 'viewer' });
      assert.equal(await other.ping(), 'pong', 'the limit is per connection');
      t.clock.advance(error.data.retry_after_ms as number);
      assert.equal(await client.ping(), 'pong');
    } finally {
      await t.stop();
    }
  });

  it('throttles the failures of an address, and still lets a valid token in at once', async () => {
    const t = await startApp({ auth: { failed_attempts: { limit: 3, window_seconds: 60 } } });
    try {
      const client = await t.connect({ as: null });
      for (let i = 0; i < 3; i += 1)
        assert.equal((await codeOf(client.authenticate('wrong'))).code, -32001);
      // Past the limit, failures are refused as throttled...
      const throttled = await codeOf(client.authenticate('wrong'));
      assert.equal(throttled.code, -32002);
      assert.match(throttled.message, /invalid token.*failures are refused for the next 60 s/);
      assert.equal(throttled.data.retry_after, 60);
      assert.ok(await t.logs.waitFor((r) => r.event === 'auth_throttled'));
      assert.equal(t.logs.records.filter((r) => r.event === 'auth_failure').length, 3);
      // ...but a valid credential from the same address is accepted, on this connection,
      // on a new one, and over HTTP.
      assert.equal((await client.authenticate(await t.token('admin'))).role, 'admin');
      const other = await t.connect({ as: 'viewer' });
      assert.equal(await other.ping(), 'pong');
      const port = new URL(t.wsUrl).port;
      const refused = await fetch(`http://127.0.0.1:${port}/files/snapshots/x.jpg`, {
        headers: { authorization: 'Bearer wrong' },
      });
      assert.equal(refused.status, 429);
      const allowed = await fetch(`http://127.0.0.1:${port}/files/snapshots/x.jpg`, {
        headers: { authorization: `Bearer ${await t.token('viewer')}` },
      });
      assert.equal(allowed.status, 404, 'authenticated: the file is simply absent');
      // Once the window has passed, a failure is a plain -32001 again.
      t.clock.advance(60_001);
      assert.equal((await codeOf(client.authenticate('wrong'))).code, -32001);
    } finally {
      await t.stop();
    }
  });

  it('leaves a connection unauthenticated after a failed authenticate or auth_token', async () => {
    const t = await startApp();
    try {
      const client = await t.connect({ as: 'admin' });
      assert.equal(typeof (await client.call('get_server_info', {})).version, 'string');
      assert.equal((await codeOf(client.authenticate('wrong'))).code, -32001);
      assert.equal((await codeOf(client.ping())).code, -32001, 'the admin role is gone');
      await client.authenticate(await t.token('admin'));
      assert.equal(await client.ping(), 'pong');
      const bad = await codeOf(client.request('ping', { auth_token: 'wrong' }));
      assert.equal(bad.code, -32001);
      const after = await codeOf(client.ping());
      assert.equal(after.code, -32001);
      assert.match(after.message, /Authentication required/);
    } finally {
      await t.stop();
    }
  });

  it('caps connections per address with HTTP 429', async () => {
    const t = await startApp({ server: { max_connections_per_ip: 3 } });
    try {
      await Promise.all([1, 2, 3].map(() => t.connect({ as: null })));
      const fourth = new CameraServiceClient({ url: t.wsUrl });
      const error = await fourth.connect().catch((e: unknown) => e);
      assert.ok(error instanceof ConnectionError && /429/.test(error.message), String(error));
    } finally {
      await t.stop();
    }
  });
});
