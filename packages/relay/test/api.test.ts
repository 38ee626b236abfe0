/** The control API against MediaMTX's contract: every response validated by openapi.yaml. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Relay } from '../src/index.js';
import { OPENAPI_PATH, loadContract, type ContractValidator } from './helpers/openapi.js';
import { publish, stopProcess } from './helpers/media.js';
import { RawReader } from './helpers/reader.js';

const PUBLISH =
  'ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp ' +
  'rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH';

const contract = loadContract();
/** Each test skips on its own, so that the summary counts every one not run. */
const skip = contract ? false : `MediaMTX's openapi.yaml is not at ${OPENAPI_PATH}`;
const test = (name: string, fn: () => Promise<void>) => it(name, { skip }, fn);

describe('control API v3', () => {
  let relay: Relay;
  let base: string;
  let rtsp: string;
  before(async () => {
    if (!contract) return;
    relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      paths: [{ name: 'cam0', runOnDemand: PUBLISH, runOnDemandCloseAfter: '60s' }],
    });
    const ports = await relay.start();
    base = `http://127.0.0.1:${ports.apiPort}`;
    rtsp = `rtsp://127.0.0.1:${ports.rtspPort}`;
  });
  after(() => relay?.stop());

  /** Calls the API and validates the answer against the endpoint's declared schema. */
  async function call(method: string, template: string, name: string | null, body?: unknown) {
    const path = name === null ? template : template.replace('{name}', encodeURIComponent(name));
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined && {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    (contract as ContractValidator).check(template, method, res.status, json);
    return { status: res.status, body: json };
  }

  test('answers /v3/info and /v3/config/global/get', async () => {
    const info = await call('GET', '/v3/info', null);
    assert.equal(info.status, 200);
    assert.match(String(info.body.version), /camera-relay/);
    const global = await call('GET', '/v3/config/global/get', null);
    assert.equal(global.body.rtsp, true);
  });

  test('adds a path with MediaMTX defaults, and refuses a duplicate, unknown fields, wrong types and bad durations', async () => {
    assert.deepEqual(
      await call('POST', '/v3/config/paths/add/{name}', 'cam1', { source: 'publisher' }),
      { status: 200, body: { status: 'ok' } },
    );
    const conf = await call('GET', '/v3/config/paths/get/{name}', 'cam1');
    assert.deepEqual(conf.body, {
      name: 'cam1',
      source: 'publisher',
      runOnDemand: '',
      runOnDemandRestart: false,
      runOnDemandStartTimeout: '10s',
      runOnDemandCloseAfter: '10s',
    });
    const refusals: [unknown, RegExp][] = [[{}, /path already exists/]];
    for (const [body, message] of refusals) {
      const answer = await call('POST', '/v3/config/paths/add/{name}', 'cam1', body);
      assert.equal(answer.status, 400);
      assert.match(String(answer.body.error), message);
    }
    for (const [body, message] of [
      [{ recordPath: 'x' }, /unknown field "recordPath"/],
      [{ runOnDemandRestart: 'yes' }, /must be a boolean/],
      [{ runOnDemandCloseAfter: 'soon' }, /invalid runOnDemandCloseAfter/],
    ] as const) {
      const answer = await call('POST', '/v3/config/paths/add/{name}', 'cam9', body);
      assert.equal(answer.status, 400);
      assert.match(String(answer.body.error), message);
    }
  });

  test('patches, replaces and deletes paths; unknown paths get 404 "path not found"', async () => {
    await call('POST', '/v3/config/paths/add/{name}', 'cam2', { runOnDemandCloseAfter: '1m' });
    assert.equal(
      (
        await call('PATCH', '/v3/config/paths/patch/{name}', 'cam2', {
          runOnDemandStartTimeout: '5s',
        })
      ).status,
      200,
    );
    const patched = await call('GET', '/v3/config/paths/get/{name}', 'cam2');
    assert.equal(patched.body.runOnDemandStartTimeout, '5s');
    assert.equal(patched.body.runOnDemandCloseAfter, '1m', 'patch keeps the rest');
    assert.equal(
      (
        await call('POST', '/v3/config/paths/replace/{name}', 'cam2', {
          runOnDemandRestart: true,
        })
      ).status,
      200,
    );
    const replaced = await call('GET', '/v3/config/paths/get/{name}', 'cam2');
    assert.equal(replaced.body.runOnDemandCloseAfter, '10s', 'replace resets the rest');
    assert.equal(replaced.body.runOnDemandRestart, true);
    assert.equal((await call('DELETE', '/v3/config/paths/delete/{name}', 'cam2')).status, 200);
    for (const [method, template, body] of [
      ['DELETE', '/v3/config/paths/delete/{name}', undefined],
      ['PATCH', '/v3/config/paths/patch/{name}', {}],
      ['GET', '/v3/config/paths/get/{name}', undefined],
      ['GET', '/v3/paths/get/{name}', undefined],
    ] as const) {
      const answer = await call(method, template, 'cam2', body);
      assert.deepEqual(
        answer,
        { status: 404, body: { status: 'error', error: 'path not found' } },
        `${method} ${template}`,
      );
    }
  });

  test('lists configurations by name, in pages', async () => {
    const all = await call('GET', '/v3/config/paths/list', null);
    assert.deepEqual(
      (all.body.items as { name: string }[]).map((p) => p.name),
      ['cam0', 'cam1'],
    );
    const second = await fetch(`${base}/v3/config/paths/list?itemsPerPage=1&page=1`).then(
      (r) => r.json() as Promise<Record<string, unknown>>,
    );
    assert.equal(second.itemCount, 2);
    assert.equal(second.pageCount, 2);
    assert.deepEqual(
      (second.items as { name: string }[]).map((p) => p.name),
      ['cam1'],
    );
    assert.equal((await fetch(`${base}/v3/config/paths/list?page=-1`)).status, 400);
  });

  test('reports a path idle, then ready with its source, reader, tracks and byte counts', async () => {
    const idle = await call('GET', '/v3/paths/get/{name}', 'cam0');
    assert.equal(idle.body.ready, false);
    assert.equal(idle.body.source, null);
    assert.deepEqual(idle.body.readers, []);
    const reader = await RawReader.connect(`${rtsp}/cam0`);
    await reader.play(`${rtsp}/cam0`);
    await once(reader, 'packet');
    const live = await call('GET', '/v3/paths/get/{name}', 'cam0');
    assert.equal(live.body.ready, true);
    assert.equal(live.body.available, true);
    assert.equal(live.body.online, true);
    assert.ok(!Number.isNaN(Date.parse(String(live.body.readyTime))));
    assert.equal(live.body.onlineTime, live.body.readyTime);
    assert.deepEqual(
      (live.body.tracks2 as { codec: string }[]).map((t) => t.codec),
      ['H264'],
    );
    assert.equal((live.body.source as { type: string }).type, 'rtspSession');
    assert.equal((live.body.readers as unknown[]).length, 1);
    assert.deepEqual(live.body.tracks, ['H264']);
    assert.ok((live.body.bytesReceived as number) > 0);
    assert.ok((live.body.bytesSent as number) > 0);
    const list = await call('GET', '/v3/paths/list', null);
    assert.deepEqual(
      (list.body.items as { name: string }[]).map((p) => p.name),
      ['cam0', 'cam1'],
    );
    reader.socket.destroy();
  });

  test('reports a path not ready, and closes its readers, when its publisher leaves', async () => {
    await call('POST', '/v3/config/paths/add/{name}', 'pub0', {});
    const publisher = publish(`${rtsp}/pub0`, 60);
    try {
      const ready = new Promise((resolve) =>
        relay.paths.on('ready', (name) => name === 'pub0' && resolve(name)),
      );
      await ready;
      const reader = await RawReader.connect(`${rtsp}/pub0`);
      await reader.play(`${rtsp}/pub0`);
      await once(reader, 'packet');
      assert.equal((await call('GET', '/v3/paths/get/{name}', 'pub0')).body.ready, true);
      const closed = once(reader, 'closed');
      publisher.kill('SIGKILL');
      await closed;
      const gone = await call('GET', '/v3/paths/get/{name}', 'pub0');
      assert.equal(gone.body.ready, false);
      assert.equal(gone.body.available, false);
      assert.equal(gone.body.readyTime, null);
      assert.equal(gone.body.source, null);
      assert.deepEqual(gone.body.readers, []);
    } finally {
      await stopProcess(publisher);
    }
  });

  test('answers a wrong HTTP method with a plain-text 404, as MediaMTX does', async () => {
    const res = await fetch(`${base}/v3/config/paths/add/cam5`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  });
});
