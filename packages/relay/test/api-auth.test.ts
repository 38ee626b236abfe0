/** The control API through the authentication hook, as MediaMTX's API middleware does it. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Relay, httpAuthHook, type AuthRequest } from '../src/index.js';
import { startHookServer, type HookServer } from './helpers/hook.js';

const PAUSE_MS = 300;
const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const AUTH_ERROR = { status: 'error', error: 'authentication error' };

describe('control API through the authentication hook', () => {
  let hook: HookServer;
  let relay: Relay;
  let api: string;
  before(async () => {
    hook = await startHookServer((r: AuthRequest) =>
      r.action === 'api' && r.user === 'admin' && r.password === 'pw' ? 200 : 401,
    );
    relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      auth: httpAuthHook(hook.url),
      authFailPauseMs: PAUSE_MS,
    });
    api = `http://127.0.0.1:${(await relay.start()).apiPort}`;
  });
  after(async () => {
    await relay.stop();
    await hook.close();
  });

  it('answers an anonymous request 401 with a Basic challenge, asking for action api', async () => {
    const res = await fetch(`${api}/v3/info`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="mediamtx"');
    assert.deepEqual(await res.json(), AUTH_ERROR);
    assert.deepEqual(hook.requests.at(-1), {
      ip: '127.0.0.1',
      user: '',
      password: '',
      token: '',
      action: 'api',
      path: '',
      protocol: '',
      id: null,
      query: '',
    });
  });

  it('serves Basic and Bearer user:pass credentials the hook allows, with the query passed', async () => {
    for (const authorization of [basic('admin', 'pw'), 'Bearer admin:pw']) {
      const res = await fetch(`${api}/v3/paths/list?itemsPerPage=1`, {
        headers: { authorization },
      });
      assert.equal(res.status, 200, authorization);
      assert.equal(((await res.json()) as { itemCount: number }).itemCount, 0);
      const asked = hook.requests.at(-1);
      assert.deepEqual(
        [asked?.user, asked?.password, asked?.token, asked?.query],
        ['admin', 'pw', 'pw', 'itemsPerPage=1'],
      );
    }
  });

  it('refuses a wrong credential after the pause, without a challenge', async () => {
    const started = performance.now();
    const res = await fetch(`${api}/v3/info`, { headers: { authorization: 'Bearer some.jwt' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.deepEqual(await res.json(), AUTH_ERROR);
    assert.ok(performance.now() - started >= PAUSE_MS - 10, 'answered after the pause');
    assert.equal(hook.requests.at(-1)?.token, 'some.jwt');
  });

  it('checks before routing: an unknown route is 401 without credentials, 404 with them', async () => {
    assert.equal((await fetch(`${api}/v3/nothing`)).status, 401);
    const res = await fetch(`${api}/v3/nothing`, {
      headers: { authorization: basic('admin', 'pw') },
    });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '404 page not found\n');
  });
});
