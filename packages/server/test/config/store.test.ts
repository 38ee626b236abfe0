import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigStore, diffKeys, loadConfig, type ConfigChange } from '../../src/config/index.js';
import { tempDir, writeFile } from '../helpers/files.js';

describe('configuration reload', () => {
  it('applies live keys, holds back keys that need a restart, and emits one change', () => {
    const file = writeFile(
      tempDir(),
      'c.yml',
      'server:\n  port: 9100\n  max_connections: 10\nlogging:\n  level: info\n',
    );
    const store = new ConfigStore(loadConfig({ file, env: {} }), { env: {} });
    const changes: ConfigChange[] = [];
    store.on('change', (c) => changes.push(c));
    writeFileSync(
      file,
      'server:\n  port: 9200\n  max_connections: 20\nlogging:\n  level: debug\nretention:\n  enabled: true\n',
    );
    const result = store.reload();
    assert.ok(result.ok);
    assert.deepEqual(result.change.applied.sort(), [
      'logging.level',
      'retention.enabled',
      'server.max_connections',
    ]);
    assert.deepEqual(result.change.pendingRestart, ['server.port']);
    assert.equal(store.current.server.max_connections, 20);
    assert.equal(store.current.server.port, 9100, 'the port stays until a restart');
    assert.equal(store.current.logging.level, 'debug');
    assert.equal(changes.length, 1);
  });

  it('keeps the running configuration when the new file is invalid', () => {
    const file = writeFile(tempDir(), 'c.yml', 'server:\n  max_connections: 10\n');
    const store = new ConfigStore(loadConfig({ file, env: {} }), { env: {} });
    const before = store.current;
    writeFileSync(file, 'server:\n  max_connections: -1\n  bogus: 1\n');
    const result = store.reload();
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.error.message, /server\.max_connections/);
    assert.equal(store.current, before);
  });

  it('refuses a file emptied or removed under it, and keeps the running configuration', () => {
    const file = writeFile(tempDir(), 'c.yml', 'server:\n  max_connections: 10\n');
    const store = new ConfigStore(loadConfig({ file, env: {} }), { env: {} });
    const before = store.current;
    for (const text of ['', '\n  \n', '# all commented out\n# server:\n', '---\n']) {
      writeFileSync(file, text);
      const result = store.reload();
      assert.equal(result.ok, false, JSON.stringify(text));
      assert.match(
        result.ok ? '' : result.error.message,
        /is empty .*the running configuration stays/,
      );
      assert.equal(store.current, before);
    }
    rmSync(file);
    const gone = store.reload();
    assert.equal(gone.ok, false);
    assert.match(gone.ok ? '' : gone.error.message, /cannot be read:\n {2}- it does not exist/);
    assert.equal(store.current.server.max_connections, 10);
  });

  it('reloads an empty file when it started from one: nothing changes', () => {
    const file = writeFile(tempDir(), 'c.yml', '# the defaults\n');
    const store = new ConfigStore(loadConfig({ file, env: {} }), { env: {} });
    assert.ok(store.reload().ok);
  });

  it('emits nothing when nothing live changed', () => {
    const file = writeFile(tempDir(), 'c.yml', 'server:\n  port: 1\n');
    const store = new ConfigStore(loadConfig({ file, env: {} }), { env: {} });
    let emitted = 0;
    store.on('change', () => (emitted += 1));
    assert.ok(store.reload().ok);
    assert.equal(emitted, 0);
  });

  it('diffs leaves, treating lists as one value', () => {
    assert.deepEqual(diffKeys({ a: { b: 1, c: [1] }, d: 2 }, { a: { b: 2, c: [1, 2] }, d: 2 }), [
      'a.b',
      'a.c',
    ]);
  });
});
