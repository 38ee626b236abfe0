/**
 * camera-cli's parts that need no service: durations, the exit-code table, tables that
 * fit the terminal, a progress bar only on a terminal, usage errors before any
 * connection, and profiles.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ConnectionError, DownloadError, RpcError } from '@camera-service/sdk';
import { parseDuration } from '../src/commands.js';
import { EXIT, UsageError, exitCodeOf } from '../src/exit-codes.js';
import { run } from '../src/main.js';
import { Output, table } from '../src/output.js';
import { resolveTarget } from '../src/profile.js';

function capture(tty = false) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 60 });
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe('camera-cli units', () => {
  it('parses durations', () => {
    assert.equal(parseDuration('30'), 30);
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('5m'), 300);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.throws(() => parseDuration('soon'), UsageError);
    assert.throws(() => parseDuration(''), UsageError);
  });

  it('maps errors to the documented exit codes', () => {
    const rpc = (code: number) => new RpcError('m', { code, message: 'x' });
    assert.equal(exitCodeOf(rpc(-1000)), EXIT.notFound);
    assert.equal(exitCodeOf(rpc(-1004)), EXIT.notFound);
    assert.equal(exitCodeOf(rpc(-32001)), EXIT.auth);
    assert.equal(exitCodeOf(rpc(-32003)), EXIT.auth);
    assert.equal(exitCodeOf(rpc(-32602)), EXIT.usage);
    assert.equal(exitCodeOf(rpc(-1006)), EXIT.unavailable);
    assert.equal(exitCodeOf(rpc(-32603)), EXIT.error);
    assert.equal(exitCodeOf(new ConnectionError('down')), EXIT.unavailable);
    assert.equal(exitCodeOf(new DownloadError('gone', 'file_not_found', 404)), EXIT.notFound);
    assert.equal(exitCodeOf(new UsageError('bad')), EXIT.usage);
    assert.equal(exitCodeOf(new Error('other')), EXIT.error);
  });

  it('fits tables to the width, cutting the widest column', () => {
    const text = table(['NAME', 'STATUS'], [['a'.repeat(80), 'CONNECTED']], 40);
    for (const line of text.split('\n')) assert.ok(line.length <= 40, line);
    assert.match(text, /…/);
    assert.equal(table(['A'], [], 40), '(none)');
  });

  it('draws a progress bar on a terminal only', () => {
    const tty = capture(true);
    const bar = new Output({ stdout: tty.stream, stderr: tty.stream }, false).progress('file');
    bar.update(50, 100);
    bar.update(100, 100);
    bar.end();
    assert.match(tty.text(), /\[#+\.*\]\s+\d+%/);
    const pipe = capture(false);
    const none = new Output({ stdout: pipe.stream, stderr: pipe.stream }, false).progress('file');
    none.update(100, 100);
    none.end();
    assert.equal(pipe.text(), '');
  });

  it('refuses a bad command line with exit 2 before connecting', async () => {
    const out = capture();
    const err = capture();
    const io = { stdout: out.stream, stderr: err.stream };
    const env = { CAMERA_URL: 'ws://127.0.0.1:9/ws' };
    assert.equal(await run(['frobnicate'], { io, env }), EXIT.usage);
    assert.equal(await run(['recordings'], { io, env }), EXIT.usage);
    assert.match(err.text(), /needs one of: ls, info, download, rm/);
    assert.equal(await run(['cameras', '--duration', '3s'], { io, env }), EXIT.usage);
    assert.equal(await run(['status', 'a', 'b'], { io, env }), EXIT.usage);
    assert.equal(await run(['call', 'ping', '{nope'], { io, env }), EXIT.usage);
    assert.equal(await run(['--version'], { io, env }), EXIT.ok);
  });

  it('resolves the URL and token: flags, then the environment, then the profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'camera-cli-profile-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({
          default: 'a',
          profiles: { a: { url: 'ws://a/ws', token: 'ta' }, b: { url: 'ws://b/ws' } },
        }),
      );
      const env = { CAMERA_CLI_CONFIG: file };
      assert.deepEqual(resolveTarget({}, env), { url: 'ws://a/ws', token: 'ta', profile: 'a' });
      assert.equal(resolveTarget({ profile: 'b' }, env).url, 'ws://b/ws');
      assert.equal(resolveTarget({}, { ...env, CAMERA_TOKEN: 'te' }).token, 'te');
      assert.equal(resolveTarget({ token: 'tf' }, { ...env, CAMERA_TOKEN: 'te' }).token, 'tf');
      assert.equal(
        resolveTarget({ url: 'ws://f/ws' }, { ...env, CAMERA_URL: 'ws://e/ws' }).url,
        'ws://f/ws',
      );
      assert.throws(() => resolveTarget({ profile: 'zzz' }, env), /No profile named zzz/);
      assert.equal(
        resolveTarget({}, { CAMERA_CLI_CONFIG: join(dir, 'none.json') }).url,
        'ws://localhost:8002/ws',
      );
      writeFileSync(file, '{broken');
      assert.throws(() => resolveTarget({}, env), UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
