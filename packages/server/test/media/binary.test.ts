import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findMediaMtxBinary } from '../../src/media/binary.js';
import { tempDir, writeFile } from '../helpers/files.js';

/** A file called `name` in `dir` with the given mode. */
function file(dir: string, name: string, mode: number): string {
  mkdirSync(dir, { recursive: true });
  const path = writeFile(dir, name, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
  return path;
}

describe('findMediaMtxBinary', () => {
  it('accepts a configured executable', () => {
    const path = file(tempDir(), 'mediamtx', 0o755);
    assert.deepEqual(findMediaMtxBinary(path, { PATH: '' }), { path, how: 'configured' });
  });

  it('follows a configured symlink to an executable', () => {
    const dir = tempDir();
    const target = file(dir, 'mediamtx-v1.12.2', 0o755);
    const link = join(dir, 'mediamtx');
    symlinkSync(target, link);
    assert.deepEqual(findMediaMtxBinary(link, {}), { path: link, how: 'configured' });
  });

  it('says so when the configured path does not exist, without falling back to PATH', () => {
    const onPath = tempDir();
    file(onPath, 'mediamtx', 0o755);
    const missing = join(tempDir(), 'nope', 'mediamtx');
    assert.throws(
      () => findMediaMtxBinary(missing, { PATH: onPath }),
      (error: Error) => {
        assert.equal(
          error.message,
          `mediamtx.binary is ${missing}, which does not exist: install MediaMTX there or correct the path`,
        );
        return true;
      },
    );
  });

  it('says so when the configured file is not executable', () => {
    const path = file(tempDir(), 'mediamtx', 0o644);
    assert.throws(
      () => findMediaMtxBinary(path, {}),
      new RegExp(`^Error: mediamtx.binary is ${path}, which is not executable: .*chmod \\+x`),
    );
  });

  it('says so when the configured path is a directory', () => {
    const dir = tempDir();
    assert.throws(() => findMediaMtxBinary(dir, {}), /which is a directory/);
  });

  it('resolves a relative configured path against the working directory', () => {
    const dir = tempDir();
    const path = file(dir, 'mediamtx', 0o755);
    const relative = './mediamtx';
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.deepEqual(findMediaMtxBinary(relative, {}), { path, how: 'configured' });
    } finally {
      process.chdir(cwd);
    }
  });

  it('looks a configured bare name up in PATH', () => {
    const dir = tempDir();
    const path = file(dir, 'mediamtx-1.12', 0o755);
    assert.deepEqual(findMediaMtxBinary('mediamtx-1.12', { PATH: dir }), {
      path,
      how: 'configured',
    });
    assert.throws(
      () => findMediaMtxBinary('mediamtx-2', { PATH: dir }),
      /mediamtx.binary is mediamtx-2, which is not an executable file in any directory of PATH/,
    );
  });

  it('finds the first executable mediamtx in PATH when none is configured', () => {
    const root = tempDir();
    const empty = join(root, 'empty');
    mkdirSync(empty);
    file(join(root, 'noexec'), 'mediamtx', 0o644);
    mkdirSync(join(root, 'dir', 'mediamtx'), { recursive: true }); // a directory, not a file
    const first = file(join(root, 'first'), 'mediamtx', 0o755);
    file(join(root, 'second'), 'mediamtx', 0o755);
    const PATH = ['', 'relative/bin', join(root, 'missing'), empty, join(root, 'noexec')]
      .concat([join(root, 'dir'), join(root, 'first'), join(root, 'second')])
      .join(':');
    assert.deepEqual(findMediaMtxBinary(null, { PATH }), { path: first, how: 'PATH' });
    assert.deepEqual(findMediaMtxBinary('  ', { PATH }), { path: first, how: 'PATH' });
  });

  it('answers null when there is none in PATH, or no PATH', () => {
    const dir = tempDir();
    file(dir, 'mediamtx', 0o600);
    assert.equal(findMediaMtxBinary(null, { PATH: dir }), null);
    assert.equal(findMediaMtxBinary(null, {}), null);
  });
});
