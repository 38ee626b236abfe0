/** The path manager against the embedded relay: create, leave alone, replace, delete, re-apply. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PathManager, sameConf } from '../../src/media/paths.js';
import { startMediaServer, testLogger, type TestMediaServer } from '../helpers/media.js';

describe('PathManager', () => {
  let server: TestMediaServer;
  let paths: PathManager;
  before(async () => {
    server = await startMediaServer();
    paths = new PathManager({ client: server.client, log: testLogger().log });
  });
  after(() => server.stop());

  const conf = { source: 'publisher', runOnDemand: 'sleep 60', runOnDemandRestart: true };

  it('creates a path, leaves an identical one alone, replaces a different one', async () => {
    assert.equal(await paths.ensure('cam0', conf), 'created');
    assert.equal(await paths.ensure('cam0', { ...conf }), 'unchanged');
    assert.equal(await paths.ensure('cam0', { ...conf, runOnDemand: 'sleep 61' }), 'replaced');
    const stored = await server.client.getPathConfig('cam0');
    assert.equal(stored?.runOnDemand, 'sleep 61');
    assert.equal(stored?.runOnDemandRestart, true);
  });

  it('replaces a path someone else changed, keeping nothing of theirs', async () => {
    await server.client.patchPath('cam0', { runOnDemandRestart: false });
    assert.equal(await paths.ensure('cam0', { ...conf, runOnDemand: 'sleep 61' }), 'replaced');
    assert.equal((await server.client.getPathConfig('cam0'))?.runOnDemandRestart, true);
  });

  it('deletes a path, and deleting a missing one is fine', async () => {
    assert.equal(await paths.remove('cam0'), true);
    assert.equal(await server.client.getPathConfig('cam0'), null);
    assert.equal(await paths.remove('cam0'), false);
    assert.deepEqual(paths.names(), []);
  });

  it('runs the operations on one path in order', async () => {
    const results = await Promise.all([
      paths.ensure('ordered', conf),
      paths.remove('ordered'),
      paths.ensure('ordered', { ...conf, runOnDemand: 'sleep 62' }),
    ]);
    assert.deepEqual(results, ['created', true, 'created']);
    assert.equal((await server.client.getPathConfig('ordered'))?.runOnDemand, 'sleep 62');
    await paths.remove('ordered');
  });

  it('re-creates every wanted path after the media server restarted', async () => {
    await paths.ensure('a', conf);
    await paths.ensure('b', { source: 'publisher' });
    await server.restart();
    assert.equal(await server.client.getPathConfig('a'), null, 'a restart forgets API paths');
    const results = await paths.reapply();
    assert.deepEqual(
      results.map((r) => [r.name, r.outcome]),
      [
        ['a', 'created'],
        ['b', 'created'],
      ],
    );
    assert.equal((await server.client.getPathConfig('a'))?.runOnDemand, 'sleep 60');
    assert.deepEqual(
      (await paths.reapply()).map((r) => r.outcome),
      ['unchanged', 'unchanged'],
    );
  });

  it('remembers a path it could not create, and reports the failure per path', async () => {
    await server.kill();
    await assert.rejects(paths.ensure('c', conf), /unreachable/);
    const results = await paths.reapply();
    assert.ok(results.every((r) => r.outcome === 'failed' && /unreachable/.test(r.error ?? '')));
    await server.restart();
    assert.deepEqual(
      (await paths.reapply()).map((r) => [r.name, r.outcome]),
      [
        ['a', 'created'],
        ['b', 'created'],
        ['c', 'created'],
      ],
    );
  });

  it('deletes again, on the next re-apply, a path whose delete could not reach the media server', async () => {
    await server.kill();
    await assert.rejects(paths.remove('a'), /unreachable/);
    assert.deepEqual(paths.pendingDeletes(), ['a']);
    await server.restart();
    // A media server that kept its paths through the outage (an external MediaMTX whose
    // API was unreachable for a while) still has it.
    await server.client.addPath('a', conf);
    const results = await paths.reapply();
    assert.deepEqual(
      results.map((r) => r.name),
      ['b', 'c'],
    );
    assert.equal(await server.client.getPathConfig('a'), null);
    assert.deepEqual(paths.pendingDeletes(), []);
  });
});

describe('sameConf', () => {
  it('compares only the keys the service sets', () => {
    assert.equal(sameConf({ source: 'publisher', record: true }, { source: 'publisher' }), true);
    assert.equal(
      sameConf({ source: 'publisher' }, { source: 'publisher', runOnDemand: 'x' }),
      false,
    );
    assert.equal(sameConf({ runOnDemandRestart: false }, { runOnDemandRestart: true }), false);
  });
});
