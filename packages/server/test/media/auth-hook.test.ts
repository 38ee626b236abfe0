/**
 * The loopback hook MediaMTX posts its authentication requests to (`authMethod: http`):
 * the request MediaMTX sends, answered 2xx to allow; anything else refused without
 * reaching the checker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthHookServer, type HookRequest } from '../../src/media/index.js';
import { createLogger } from '../../src/index.js';
import { LogSink } from '../helpers/log-sink.js';
import { rawRequest } from '../helpers/raw-http.js';

/** What MediaMTX v1.15 and v1.18 post (internal/auth/manager.go). */
const MEDIAMTX_BODY = {
  ip: '192.0.2.7',
  user: 'any',
  password: 'secret-token',
  token: '',
  action: 'read',
  path: 'camera0',
  protocol: 'rtsp',
  id: '5f0cf2c4-7e2b-4a3c-9d51-3c1e0f7a9b21',
  query: '',
};

describe('stream authorization hook', () => {
  const seen: HookRequest[] = [];
  const hook = new AuthHookServer({
    check: async (request) => {
      seen.push(request);
      return request.password === 'secret-token'
        ? { allow: true }
        : { allow: false, status: 401, reason: 'a viewer credential is required' };
    },
    log: createLogger({
      level: 'debug',
      format: 'json',
      environment: 'development',
      destination: new LogSink(),
    }).logger,
  });
  let url: string;
  before(async () => {
    await hook.start(0);
    url = hook.url;
  });
  after(() => hook.stop());

  const post = (body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('listens on loopback at the path written into mediamtx.yml', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mediamtx\/auth$/);
  });

  it("allows with 200 and refuses with the checker's status, passing MediaMTX's request as it is", async () => {
    const allowed = await post(MEDIAMTX_BODY);
    assert.equal(allowed.status, 200);
    assert.deepEqual(seen.at(-1), MEDIAMTX_BODY);
    const refused = await post({ ...MEDIAMTX_BODY, password: 'nope' });
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { error: 'a viewer credential is required' });
  });

  it('takes a request with null id and missing fields as MediaMTX sends them', async () => {
    const response = await post({
      ip: '127.0.0.1',
      password: 'secret-token',
      id: null,
      action: 'api',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(seen.at(-1), {
      ip: '127.0.0.1',
      user: '',
      password: 'secret-token',
      token: '',
      action: 'api',
      path: '',
      protocol: '',
      id: null,
      query: '',
    });
  });

  it('refuses what is not a MediaMTX request without asking the checker', async () => {
    const before = seen.length;
    const port = Number(new URL(url).port);
    const cases: [string, () => Promise<number | null>][] = [
      ['not JSON', async () => (await post('{')).status],
      ['an array', async () => (await post([MEDIAMTX_BODY])).status],
      [
        'a number where a string goes',
        async () => (await post({ ...MEDIAMTX_BODY, ip: 7 })).status,
      ],
      [
        'a body over 16 KiB',
        async () => (await post({ ...MEDIAMTX_BODY, query: 'q'.repeat(20_000) })).status,
      ],
      ['GET', async () => (await fetch(url)).status],
      [
        'another path',
        async () => (await fetch(url.replace('/mediamtx/auth', '/x'), { method: 'POST' })).status,
      ],
      [
        'a target that is not a path',
        async () =>
          (await rawRequest(port, 'POST //a:b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
            .status,
      ],
    ];
    const statuses = [];
    for (const [name, send] of cases) statuses.push([name, await send()]);
    assert.deepEqual(statuses, [
      ['not JSON', 400],
      ['an array', 400],
      ['a number where a string goes', 400],
      ['a body over 16 KiB', 400],
      ['GET', 405],
      ['another path', 404],
      ['a target that is not a path', 404],
    ]);
    assert.equal(seen.length, before);
  });
});
