import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ApiKeyStore } from '../../src/auth/index.js';
import { tempDir } from '../helpers/files.js';
import { waitForEvent } from '../helpers/wait.js';

function store(): ApiKeyStore {
  return new ApiKeyStore({ file: join(tempDir(), 'keys', 'api-keys.json') });
}

describe('API key store', () => {
  it('creates a 256-bit key, keeps only its hash, and verifies it', () => {
    const keys = store();
    const { key, info } = keys.create({ name: 'door-panel', role: 'viewer' });
    assert.match(key, /^csk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key.split('_').slice(2).join('_'), 'base64url').length, 32);
    const text = readFileSync(keys.file, 'utf8');
    assert.ok(!text.includes(key.slice(14)), 'the secret is not stored');
    assert.deepEqual(Object.keys(info).sort(), ['created_at', 'id', 'name', 'revoked_at', 'role']);
    const check = keys.verify(key);
    assert.ok(check.ok && check.record.role === 'viewer' && check.record.name === 'door-panel');
  });

  it('writes the file with mode 0600 in a 0700 directory', () => {
    const keys = store();
    keys.create({ name: 'a', role: 'admin' });
    assert.equal(statSync(keys.file).mode & 0o777, 0o600);
    assert.equal(statSync(join(keys.file, '..')).mode & 0o777, 0o700);
  });

  it('refuses a wrong secret, a malformed key and an unknown id alike', () => {
    const keys = store();
    const { key } = keys.create({ name: 'a', role: 'admin' });
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const bad of [
      flipped,
      'csk_00000000_' + 'A'.repeat(43),
      'csk_',
      key + 'x',
      '',
      'Bearer ' + key,
    ]) {
      assert.deepEqual(keys.verify(bad), { ok: false, reason: 'invalid_token' }, bad);
    }
  });

  it('revokes by name or id; a revoked key says so', () => {
    const keys = store();
    const a = keys.create({ name: 'a', role: 'operator' });
    const b = keys.create({ name: 'b', role: 'operator' });
    assert.equal(keys.revoke('a')?.id, a.info.id);
    assert.equal(keys.revoke(b.info.id)?.name, 'b');
    assert.equal(keys.revoke('a'), null, 'already revoked');
    assert.deepEqual(keys.verify(a.key), { ok: false, reason: 'api_key_revoked' });
    assert.equal(keys.isActive(a.info.id), false);
    assert.equal(keys.list().filter((k) => k.revoked_at !== null).length, 2);
  });

  it('refuses a second active key with the same name', () => {
    const keys = store();
    keys.create({ name: 'a', role: 'operator' });
    assert.throws(() => keys.create({ name: 'a', role: 'admin' }), /active key named "a" exists/);
  });

  it('never lets a reader see a half-written file while keys are being created', async () => {
    const keys = store();
    keys.create({ name: 'seed', role: 'viewer' });
    // A reader in another thread parses the file as fast as it can while 200 writes replace it.
    const reader = new Worker(
      `const { readFileSync } = require('node:fs'); const { parentPort, workerData } = require('node:worker_threads');
       let reads = 0, torn = 0, stop = false;
       parentPort.on('message', () => { stop = true; });
       (function loop() {
         for (let i = 0; i < 200; i++) { try { JSON.parse(readFileSync(workerData, 'utf8')); reads++; } catch { torn++; } }
         if (stop) parentPort.postMessage({ reads, torn }); else setImmediate(loop);
       })();`,
      { eval: true, workerData: keys.file },
    );
    for (let i = 0; i < 200; i += 1) keys.create({ name: `k${i}`, role: 'viewer' });
    reader.postMessage('stop');
    const [result] = await waitForEvent<[{ reads: number; torn: number }]>(
      reader,
      'message',
      10_000,
    );
    await reader.terminate();
    assert.ok(result.reads > 0);
    assert.equal(result.torn, 0);
    assert.equal(keys.list().length, 201);
  });

  it('picks up keys another process wrote, and keeps its keys when the file turns bad', async () => {
    const daemon = store();
    daemon.load();
    daemon.watch();
    try {
      const cli = new ApiKeyStore({ file: daemon.file });
      const reloaded = waitForEvent(daemon, 'reload');
      const { key } = cli.create({ name: 'from-cli', role: 'operator' });
      await reloaded;
      assert.ok(daemon.verify(key).ok);

      const revoked = waitForEvent(daemon, 'reload');
      cli.revoke('from-cli');
      await revoked;
      assert.deepEqual(daemon.verify(key), { ok: false, reason: 'api_key_revoked' });

      const invalid = waitForEvent(daemon, 'invalid');
      writeFileSync(daemon.file, '{ "version": 1, "keys": [ tor');
      const [error] = await invalid;
      assert.match(String((error as Error).message), /is not valid; restore it from a backup/);
      assert.deepEqual(
        daemon.verify(key),
        { ok: false, reason: 'api_key_revoked' },
        'previous keys kept',
      );
    } finally {
      daemon.close();
    }
  });

  it('has a key another process created or revoked in force at once, without the watcher', () => {
    const daemon = store();
    daemon.load(); // no watch(): only the check before each answer can see the change
    const cli = new ApiKeyStore({ file: daemon.file });
    const { key, info } = cli.create({ name: 'fresh', role: 'viewer' });
    const check = daemon.verify(key);
    assert.ok(check.ok, 'a key is usable as soon as `keys create` returns');
    assert.equal(daemon.isActive(info.id), true);
    cli.revoke('fresh');
    assert.equal(daemon.isActive(info.id), false, 'a revocation holds at the next call');
    assert.deepEqual(daemon.verify(key), { ok: false, reason: 'api_key_revoked' });
  });

  it('reports a file that turned bad once, keeps its keys, and reads it again once fixed', () => {
    const daemon = store();
    const { key } = daemon.create({ name: 'kept', role: 'operator' });
    const good = readFileSync(daemon.file, 'utf8');
    const invalid: Error[] = [];
    daemon.on('invalid', (error) => invalid.push(error));
    writeFileSync(daemon.file, '{ "version": 1, "keys": [ tor');
    for (let i = 0; i < 3; i += 1) assert.ok(daemon.verify(key).ok, 'previous keys kept');
    assert.equal(invalid.length, 1, 'an unchanged bad file is not read again');
    assert.match(invalid[0]!.message, /is not valid; restore it from a backup/);
    const other = new ApiKeyStore({ file: daemon.file });
    writeFileSync(daemon.file, good);
    const added = other.create({ name: 'after-fix', role: 'viewer' });
    assert.ok(daemon.verify(added.key).ok);
  });
});
