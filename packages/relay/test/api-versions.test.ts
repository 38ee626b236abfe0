/**
 * The control API as each imitated MediaMTX version answers it (facts observed on real
 * v1.15.1 and v1.18.2): endpoints, path fields and the bodies of writes and errors.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Relay, type MediamtxVersion } from '../src/index.js';
import { loadContract } from './helpers/openapi.js';
import { publish, stopProcess } from './helpers/media.js';

const V115_FIELDS = [
  'name',
  'confName',
  'source',
  'ready',
  'readyTime',
  'tracks',
  'bytesReceived',
  'bytesSent',
  'readers',
];
const V116_FIELDS = [
  'available',
  'availableTime',
  'online',
  'onlineTime',
  'tracks2',
  'inboundBytes',
  'outboundBytes',
  'inboundFramesInError',
];

interface Answer {
  status: number;
  type: string | null;
  text: string;
}

function apiOf(version: MediamtxVersion, auth?: boolean) {
  const state: { relay?: Relay; base?: string; rtsp?: string } = {};
  before(async () => {
    state.relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      mediamtxVersion: version,
      paths: [{ name: 'pub0' }],
      ...(auth && { auth: async () => false, authFailPauseMs: 0 }),
    });
    const ports = await state.relay.start();
    state.base = `http://127.0.0.1:${ports.apiPort}`;
    state.rtsp = `rtsp://127.0.0.1:${ports.rtspPort}`;
  });
  after(() => state.relay?.stop());
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${state.base}${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  return { state, call };
}

describe('control API imitating MediaMTX v1.15.1', () => {
  const { state, call } = apiOf('1.15');

  it('has no /v3/info: a plain-text 404, so a liveness check must use another endpoint', async () => {
    const info = await call('GET', '/v3/info');
    assert.equal(info.status, 404);
    assert.match(info.type ?? '', /^text\/plain/);
    assert.equal(info.text, '404 page not found\n');
    assert.equal((await call('GET', '/v3/config/global/get')).status, 200);
    assert.equal((await call('GET', '/v3/paths/list?itemsPerPage=1')).status, 200);
  });

  it('answers successful writes with 200 and an empty body', async () => {
    for (const [method, path, body] of [
      ['POST', '/v3/config/paths/add/cam1', { source: 'publisher' }],
      ['PATCH', '/v3/config/paths/patch/cam1', { runOnDemandCloseAfter: '5s' }],
      ['POST', '/v3/config/paths/replace/cam1', {}],
      ['DELETE', '/v3/config/paths/delete/cam1', undefined],
    ] as const) {
      assert.deepEqual(await call(method, path, body), { status: 200, type: null, text: '' }, path);
    }
  });

  it('answers errors {"error": ...}, an unknown field included', async () => {
    const missing = await call('GET', '/v3/paths/get/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.text), { error: 'path not found' });
    const unknown = await call('POST', '/v3/config/paths/add/cam2', { x: 1 });
    assert.equal(unknown.status, 400);
    assert.deepEqual(JSON.parse(unknown.text), { error: 'json: unknown field "x"' });
  });

  it("lists a path with v1.15.1's fields only, idle and published", async () => {
    const idle = JSON.parse((await call('GET', '/v3/paths/get/pub0')).text) as object;
    assert.deepEqual(Object.keys(idle), V115_FIELDS);
    const publisher = publish(`${state.rtsp}/pub0`, 30);
    try {
      await once(state.relay!.paths, 'ready', { signal: AbortSignal.timeout(15_000) });
      const live = JSON.parse((await call('GET', '/v3/paths/get/pub0')).text) as Record<
        string,
        unknown
      >;
      assert.deepEqual(Object.keys(live), V115_FIELDS);
      assert.equal(live.ready, true);
      assert.deepEqual(live.tracks, ['H264']);
      const list = JSON.parse((await call('GET', '/v3/paths/list')).text) as { items: object[] };
      assert.deepEqual(Object.keys(list.items[0] ?? {}), V115_FIELDS);
    } finally {
      await stopProcess(publisher);
    }
  });
});

describe('control API imitating MediaMTX v1.18.2', () => {
  const { call } = apiOf('1.18');
  const contract = loadContract();

  it('answers /v3/info with v1.18.2 and says it is the relay', async () => {
    const info = await call('GET', '/v3/info');
    const body = JSON.parse(info.text) as Record<string, unknown>;
    assert.match(String(body.version), /^v1\.18\.2\+camera-relay\.\d+\.\d+\.\d+$/);
    assert.ok(!Number.isNaN(Date.parse(String(body.started))));
    contract?.check('/v3/info', 'GET', info.status, body);
  });

  it('answers writes {"status":"ok"} and errors {"status":"error","error":...}', async () => {
    const added = await call('POST', '/v3/config/paths/add/cam1', {});
    assert.deepEqual(JSON.parse(added.text), { status: 'ok' });
    const unknown = await call('POST', '/v3/config/paths/add/cam2', { x: 1 });
    assert.equal(unknown.status, 400);
    assert.deepEqual(JSON.parse(unknown.text), {
      status: 'error',
      error: 'json: unknown field "x"',
    });
  });

  it('lists a path with the older fields and those added in v1.16', async () => {
    const path = JSON.parse((await call('GET', '/v3/paths/get/pub0')).text) as object;
    for (const field of [...V115_FIELDS, ...V116_FIELDS])
      assert.ok(Object.hasOwn(path, field), field);
  });
});

describe('refused API requests, per version', () => {
  describe('v1.15.1: an empty 401', () => {
    const { call } = apiOf('1.15', true);
    it('answers 401 with no body', async () => {
      assert.deepEqual(await call('GET', '/v3/paths/list'), { status: 401, type: null, text: '' });
    });
  });
  describe('v1.18.2: a JSON 401', () => {
    const { call } = apiOf('1.18', true);
    it('answers 401 {"status":"error","error":"authentication error"}', async () => {
      const answer = await call('GET', '/v3/paths/list');
      assert.equal(answer.status, 401);
      assert.deepEqual(JSON.parse(answer.text), {
        status: 'error',
        error: 'authentication error',
      });
    });
  });
});
