/**
 * Dashboard sign-in against the real service: the cookie's form, what it unlocks (/ws
 * already authenticated, /files), and every way it ends or is refused: sign-out, JWT
 * expiry, API key revocation, a foreign Origin (CSRF), a bad credential (throttled like
 * authenticate), and the bound on sessions.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startApp, type TestApp } from '../helpers/app.js';
import { request, signIn } from './http.js';

function call(
  ws: WebSocket,
  method: string,
  params: unknown = {},
): Promise<Record<string, unknown>> {
  const id = Math.floor(Math.random() * 1e9);
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (message.id !== id) return;
      ws.off('message', onMessage);
      resolve(message);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
}

describe('dashboard sessions', () => {
  let t: TestApp;
  let port: number;
  let origin: string;
  before(async () => {
    t = await startApp({ server: { max_dashboard_sessions: 3 } });
    port = t.app.addresses.api.port;
    origin = `http://127.0.0.1:${port}`;
  });
  after(() => t.stop());

  it('signs in with a JWT: an HttpOnly SameSite=Strict cookie holding a session id, not the credential', async () => {
    const token = await t.token('operator', 600);
    const { cookie, reply } = await signIn(port, token);
    assert.equal(reply.status, 200);
    assert.equal(reply.json().role, 'operator');
    assert.match(String(reply.json().expires_at), /^\d{4}-\d\d-\d\dT/);
    const set = reply.headers['set-cookie']![0]!;
    assert.match(
      set,
      /^camera_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/,
    );
    assert.ok(!set.includes(token));
    const got = await request(port, 'GET', '/session', { headers: { cookie } });
    assert.equal(got.status, 200);
    assert.deepEqual(got.json(), reply.json());
    await t.logs.waitFor((r) => r.msg === 'audit: dashboard signed in' && r.role === 'operator');
  });

  it('GET /session without a cookie is 401', async () => {
    assert.equal((await request(port, 'GET', '/session')).status, 401);
  });

  it('refuses a bad credential with 401 and a sentence, then throttles the address with 429', async () => {
    const bad = await signIn(port, 'not-a-token');
    assert.equal(bad.reply.status, 401);
    assert.match(String(bad.reply.json().error), /invalid token/);
    let last = bad.reply;
    for (let i = 0; i < 12 && last.status !== 429; i += 1)
      last = (await signIn(port, 'csk_nope')).reply;
    assert.equal(last.status, 429);
    assert.ok(last.headers['retry-after']);
    // A valid credential is still accepted from the throttled address.
    assert.equal((await signIn(port, await t.token('viewer'))).reply.status, 200);
  });

  it('refuses sign-in and sign-out with a foreign Origin (403), and cookie POSTs without Origin', async () => {
    const token = await t.token('viewer');
    const foreign = await request(port, 'POST', '/session', {
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ token }),
    });
    assert.equal(foreign.status, 403);
    const { cookie } = await signIn(port, token);
    const out = await request(port, 'DELETE', '/session', {
      headers: { cookie, origin: 'http://evil.example' },
    });
    assert.equal(out.status, 403);
    const noOrigin = await request(port, 'DELETE', '/session', { headers: { cookie } });
    assert.equal(noOrigin.status, 403);
    assert.equal((await request(port, 'GET', '/session', { headers: { cookie } })).status, 200);
    // A form post (not JSON) is refused too.
    const form = await request(port, 'POST', '/session', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: `token=${token}`,
    });
    assert.equal(form.status, 415);
  });

  it('answers hostile sign-in bodies with 400 and a sentence, and keeps serving', async () => {
    const json = { 'content-type': 'application/json', origin };
    const cases: [string, string | Buffer, RegExp][] = [
      ['10 MB', Buffer.alloc(10 * 1024 * 1024, 0x61), /larger than 16384 bytes/],
      ['broken JSON', '{"token": ', /not JSON of the form/],
      ['null', 'null', /Give the credential as/],
      ['a number token', '{"token": 5}', /Give the credential as/],
      ['an empty token', '{"token": ""}', /Give the credential as/],
    ];
    for (const [what, body, message] of cases) {
      const reply = await request(port, 'POST', '/session', { headers: json, body });
      assert.equal(reply.status, 400, what);
      assert.match(String(reply.json().error), message, what);
      assert.equal(reply.headers['set-cookie'], undefined, what);
    }
    const { reply } = await signIn(port, await t.token('viewer'));
    assert.equal(reply.status, 200, 'a valid sign-in still works after them');
  });

  it('opens /ws already authenticated with the cookie and the own Origin; refuses a foreign Origin', async () => {
    const { cookie } = await signIn(port, await t.token('operator'));
    const ws = new WebSocket(t.wsUrl, { headers: { cookie, origin } });
    await once(ws, 'open');
    const reply = await call(ws, 'get_camera_list');
    assert.ok(reply.result, JSON.stringify(reply));
    // Sign-out closes the connection the cookie opened.
    const closed = once(ws, 'close');
    const out = await request(port, 'DELETE', '/session', { headers: { cookie, origin } });
    assert.equal(out.status, 204);
    assert.match(String(out.headers['set-cookie']?.[0]), /Max-Age=0/);
    const [code] = (await closed) as [number];
    assert.equal(code, 4401);
    assert.equal((await request(port, 'GET', '/session', { headers: { cookie } })).status, 401);
    await t.logs.waitFor((r) => r.msg === 'audit: dashboard signed out');

    const live = await signIn(port, await t.token('operator'));
    const foreign = new WebSocket(t.wsUrl, {
      headers: { cookie: live.cookie, origin: 'http://evil.example' },
    });
    const [, res] = (await once(foreign, 'unexpected-response')) as [
      unknown,
      { statusCode: number },
    ];
    assert.equal(res.statusCode, 403);
    foreign.on('error', () => undefined);
    foreign.terminate();

    // Without a cookie nothing changes: the connection must authenticate.
    const plain = new WebSocket(t.wsUrl);
    await once(plain, 'open');
    const refused = await call(plain, 'get_camera_list');
    assert.equal((refused.error as { code: number }).code, -32001);
    plain.close();
  });

  it('downloads a file with the cookie, and not once signed out', async () => {
    writeFileSync(join(t.app.files.snapshots.dir, 'cam_2025-01-01_00-00-00.jpg'), 'jpegbytes');
    await t.app.files.snapshots.note('cam_2025-01-01_00-00-00.jpg');
    const { cookie } = await signIn(port, await t.token('viewer'));
    const path = '/files/snapshots/cam_2025-01-01_00-00-00.jpg';
    const got = await request(port, 'GET', path, { headers: { cookie } });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'jpegbytes');
    assert.equal((await request(port, 'GET', path)).status, 401);
    await request(port, 'DELETE', '/session', { headers: { cookie, origin } });
    assert.equal((await request(port, 'GET', path, { headers: { cookie } })).status, 401);
  });

  it('ends at the JWT expiry', async () => {
    const { cookie } = await signIn(port, await t.token('viewer', 60));
    assert.equal((await request(port, 'GET', '/session', { headers: { cookie } })).status, 200);
    t.clock.advance(61_000);
    try {
      assert.equal((await request(port, 'GET', '/session', { headers: { cookie } })).status, 401);
    } finally {
      t.clock.advance(-61_000);
    }
  });

  it('ends when its API key is revoked, and keeps at most max_dashboard_sessions', async () => {
    const { key, info } = t.app.apiKeys.create({ name: 'dash', role: 'viewer' });
    const { cookie, reply } = await signIn(port, key);
    assert.equal(reply.status, 200);
    assert.equal(reply.json().expires_at, null);
    assert.ok(!/Max-Age/.test(String(reply.headers['set-cookie']?.[0])));
    t.app.apiKeys.revoke(info.id);
    assert.equal((await request(port, 'GET', '/session', { headers: { cookie } })).status, 401);

    const cookies: string[] = [];
    for (let i = 0; i < 4; i += 1)
      cookies.push((await signIn(port, await t.token('viewer'))).cookie);
    assert.ok(t.app.sessions.size <= 3);
    assert.equal(
      (await request(port, 'GET', '/session', { headers: { cookie: cookies[0]! } })).status,
      401,
    );
    assert.equal(
      (await request(port, 'GET', '/session', { headers: { cookie: cookies[3]! } })).status,
      200,
    );
  });
});

describe('dashboard sessions behind a trusted proxy', () => {
  it('marks the cookie Secure when the proxy says https, and checks Origin against its host', async () => {
    const t = await startApp({ server: { trusted_proxies: ['127.0.0.1'] } });
    try {
      const port = t.app.addresses.api.port;
      const body = JSON.stringify({ token: await t.token('viewer') });
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'cams.example' };
      const reply = await request(port, 'POST', '/session', {
        headers: {
          'content-type': 'application/json',
          origin: 'https://cams.example',
          ...forwarded,
        },
        body,
      });
      assert.equal(reply.status, 200);
      assert.match(String(reply.headers['set-cookie']?.[0]), /; Secure$/);
      const plain = await request(port, 'POST', '/session', {
        headers: {
          'content-type': 'application/json',
          origin: `http://127.0.0.1:${port}`,
          ...forwarded,
        },
        body,
      });
      assert.equal(plain.status, 403);
    } finally {
      await t.stop();
    }
  });
});
