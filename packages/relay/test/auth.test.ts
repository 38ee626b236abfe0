/** httpAuthHook against a real loopback HTTP server, and the exclusion rules. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpAuthHook, isExcluded, type AuthRequest } from '../src/index.js';
import { startHookServer, type HookServer } from './helpers/hook.js';

const REQUEST: AuthRequest = {
  ip: '127.0.0.1',
  user: 'alice',
  password: 'secret',
  token: 'secret',
  action: 'read',
  path: 'cam0',
  protocol: 'rtsp',
  id: '0b9c8f3e-5d5e-4a51-9a43-2c6f3f0f6b1e',
  query: 'a=1',
};

describe('httpAuthHook', () => {
  let hook: HookServer;
  before(async () => {
    hook = await startHookServer((r) => (r.user === 'alice' ? 204 : 403));
  });
  after(() => hook.close());

  it('POSTs exactly MediaMTX body, fields in its order, and allows on 2xx', async () => {
    assert.equal(await httpAuthHook(hook.url)(REQUEST), true);
    const raw = hook.requests.at(-1)!;
    assert.deepEqual(raw, REQUEST);
    assert.deepEqual(Object.keys(raw), [
      'ip',
      'user',
      'password',
      'token',
      'action',
      'path',
      'protocol',
      'id',
      'query',
    ]);
  });

  it('denies on any other status', async () => {
    assert.equal(await httpAuthHook(hook.url)({ ...REQUEST, user: 'mallory' }), false);
    assert.equal(hook.requests.at(-1)?.user, 'mallory');
  });

  it('allows excluded actions and paths without asking, as authHTTPExclude does', async () => {
    const asked = hook.requests.length;
    const excluding = httpAuthHook(hook.url, {
      exclude: [
        { action: 'api' },
        { action: 'read', path: 'public' },
        { action: 'publish', path: '~^cam[0-9]$' },
      ],
    });
    const deny = { ...REQUEST, user: 'mallory' };
    assert.equal(await excluding({ ...deny, action: 'api', path: '' }), true);
    assert.equal(await excluding({ ...deny, action: 'read', path: 'public' }), true);
    assert.equal(await excluding({ ...deny, action: 'publish', path: 'cam7' }), true);
    assert.equal(hook.requests.length, asked, 'nothing was asked');
    assert.equal(await excluding({ ...deny, action: 'publish', path: 'cam77' }), false);
    assert.equal(await excluding({ ...deny, action: 'read', path: 'private' }), false);
    assert.equal(hook.requests.length, asked + 2);
  });

  it('denies when the server does not answer within the timeout', async () => {
    const silent = net.createServer(() => undefined); // accepts, never answers
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const port = (silent.address() as AddressInfo).port;
      const started = performance.now();
      const allowed = await httpAuthHook(`http://127.0.0.1:${port}/auth`, { timeoutMs: 200 })(
        REQUEST,
      );
      const elapsed = performance.now() - started;
      assert.equal(allowed, false);
      assert.ok(elapsed >= 190 && elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms`);
    } finally {
      silent.close();
    }
  });

  it('denies when nothing listens', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    assert.equal(await httpAuthHook(`http://127.0.0.1:${port}/auth`)(REQUEST), false);
  });

  it('refuses an address that is not an HTTP URL, saying what to use', () => {
    assert.throws(() => httpAuthHook('localhost:9000'), /not http:\/\/ or https:\/\//);
    assert.throws(() => httpAuthHook('nowhere'), /is not a URL; use http:\/\/host:port\/path/);
  });
});

describe('authHTTPExclude matching', () => {
  const cases: [string, Parameters<typeof isExcluded>[0], Partial<AuthRequest>, boolean][] = [
    ['same action, no path', [{ action: 'read' }], {}, true],
    ['empty path is any path', [{ action: 'read', path: '' }], {}, true],
    ['other action', [{ action: 'publish' }], {}, false],
    ['exact path', [{ action: 'read', path: 'cam0' }], {}, true],
    ['other path', [{ action: 'read', path: 'cam1' }], {}, false],
    ['regexp', [{ action: 'read', path: '~^cam' }], {}, true],
    ['bad regexp matches nothing', [{ action: 'read', path: '~(' }], {}, false],
    ['api ignores the path', [{ action: 'api', path: 'x' }], { action: 'api', path: '' }, true],
  ];
  for (const [name, exclusions, change, expected] of cases) {
    it(name, () => assert.equal(isExcluded(exclusions, { ...REQUEST, ...change }), expected));
  }
});
