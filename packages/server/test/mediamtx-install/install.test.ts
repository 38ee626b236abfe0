/**
 * `camera-service mediamtx install`, the real command against a release server on
 * 127.0.0.1 serving a stand-in archive laid out as MediaMTX publishes them
 * (<base>/vX.Y.Z/mediamtx_vX.Y.Z_linux_<arch>.tar.gz holding a `mediamtx` program, here a
 * shell script that prints its version): a good checksum installs it, a wrong one is
 * refused and leaves the installed binary alone, --from takes an archive or a binary.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractFile, releaseArch, releaseUrl } from '../../src/mediamtx-install/index.js';
import { tempDir } from '../helpers/files.js';
import { BIN } from '../helpers/process.js';
import { within } from '../helpers/wait.js';

const VERSION = 'v1.99.0';

/** A release archive with `mediamtx` (a script printing `version`), a LICENSE and a yml. */
function standIn(dir: string, version: string): Buffer {
  const content = join(dir, `content-${version}`);
  execFileSync('mkdir', ['-p', content]);
  writeFileSync(join(content, 'mediamtx'), `#!/bin/sh\necho "${version}"\n`);
  chmodSync(join(content, 'mediamtx'), 0o755);
  writeFileSync(join(content, 'LICENSE'), 'MIT\n');
  writeFileSync(join(content, 'mediamtx.yml'), 'logLevel: info\n');
  const archive = join(dir, `release-${version}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', content, 'LICENSE', 'mediamtx', 'mediamtx.yml']);
  return readFileSync(archive);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return within(exited, 30_000, `camera-service ${args.join(' ')}`).then((code) => ({
    code,
    stdout,
    stderr,
  }));
}

describe('camera-service mediamtx install', () => {
  const dir = tempDir();
  const archive = standIn(dir, VERSION);
  const requests: string[] = [];
  let server: Server;
  let base = '';

  before(async () => {
    const path = new URL(releaseUrl(VERSION, releaseArch(), 'http://x/releases')).pathname;
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === path) {
        res.writeHead(200, { 'content-type': 'application/gzip' }).end(archive);
      } else {
        res.writeHead(404).end('Not Found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads the release for this architecture, checks its SHA-256 and installs it', async () => {
    const target = join(dir, 'good', 'bin', 'mediamtx');
    const result = await run([
      'mediamtx',
      'install',
      '--version',
      VERSION,
      '--sha256',
      sha256(archive).toUpperCase(),
      '--url-base',
      base,
      '--to',
      target,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      requests.includes(`/releases/${VERSION}/mediamtx_${VERSION}_linux_${releaseArch()}.tar.gz`),
      requests.join(' '),
    );
    assert.match(
      result.stdout,
      new RegExp(`Installed MediaMTX ${VERSION} .*sha256 ${sha256(archive)}.* to ${target}`),
    );
    assert.match(result.stderr, /Set mediamtx\.binary: .*mediamtx/);
    assert.equal(execFileSync(target, ['--version']).toString().trim(), VERSION);
    assert.equal(
      readdirSync(join(dir, 'good', 'bin')).join(','),
      'mediamtx',
      'no temporary file left',
    );
  });

  it('refuses an archive whose SHA-256 does not match, leaving the installed binary as it was', async () => {
    const target = join(dir, 'bad', 'mediamtx');
    execFileSync('mkdir', ['-p', join(dir, 'bad')]);
    writeFileSync(target, '#!/bin/sh\necho v1.0.0\n', { mode: 0o755 });
    const wrong = 'ab'.repeat(32);
    const result = await run([
      'mediamtx',
      'install',
      '--version',
      VERSION,
      '--sha256',
      wrong,
      '--url-base',
      base,
      '--to',
      target,
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `Refusing .*: its SHA-256 is ${sha256(archive)}, not the ${wrong} given with --sha256\\. .*nothing was installed\\.`,
      ),
    );
    assert.equal(execFileSync(target, ['--version']).toString().trim(), 'v1.0.0');
    assert.deepEqual(readdirSync(join(dir, 'bad')), ['mediamtx']);
  });

  it('says so when the release does not exist (404)', async () => {
    const result = await run([
      'mediamtx',
      'install',
      '--version',
      'v0.0.1',
      '--sha256',
      'ab'.repeat(32),
      '--url-base',
      base,
      '--to',
      join(dir, 'none', 'mediamtx'),
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the server answered 404 \(no such release or architecture/);
    assert.equal(existsSync(join(dir, 'none', 'mediamtx')), false);
  });

  it('installs --from an archive (checksum optional) and --from a bare binary, replacing the old one', async () => {
    const file = join(dir, 'local.tar.gz');
    writeFileSync(file, standIn(dir, 'v1.98.0'));
    const target = join(dir, 'from', 'mediamtx');
    const first = await run(['mediamtx', 'install', '--from', file, '--to', target]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(execFileSync(target, ['--version']).toString().trim(), 'v1.98.0');
    const bare = join(dir, 'mediamtx-bare');
    writeFileSync(bare, '#!/bin/sh\necho v1.97.0\n');
    const second = await run([
      'mediamtx',
      'install',
      '--from',
      bare,
      '--sha256',
      sha256(readFileSync(bare)),
      '--to',
      target,
    ]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(execFileSync(target, ['--version']).toString().trim(), 'v1.97.0');
  });

  it('refuses what is not a release: missing options, a bad tag, no mediamtx inside, a binary that does not run', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Give either --from FILE .* or --version vX\.Y\.Z --sha256 HEX/],
      [['--version', VERSION], /--sha256 HEX is required with --version/],
      [
        ['--version', '1.2', '--sha256', 'ab'.repeat(32)],
        /--version 1\.2 is not a MediaMTX release tag/,
      ],
      [['--from', join(dir, 'nope.tar.gz')], /Cannot read .*nope\.tar\.gz/],
    ];
    const empty = join(dir, 'empty');
    execFileSync('mkdir', ['-p', empty]);
    writeFileSync(join(empty, 'README'), 'x');
    execFileSync('tar', ['-czf', join(dir, 'empty.tar.gz'), '-C', empty, 'README']);
    cases.push([
      ['--from', join(dir, 'empty.tar.gz')],
      /the archive holds no file named mediamtx \(it holds README\)/,
    ]);
    writeFileSync(join(dir, 'garbage'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
    cases.push([
      ['--from', join(dir, 'garbage')],
      /The mediamtx binary does not run here: .*Nothing was installed\./,
    ]);
    for (const [args, expected] of cases) {
      const target = join(dir, 'refused', 'mediamtx');
      const result = await run(['mediamtx', 'install', ...args, '--to', target]);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, expected, args.join(' '));
      assert.equal(existsSync(target), false, args.join(' '));
    }
  });

  it('extracts the mediamtx member from an archive in memory, bounded', () => {
    assert.equal(
      extractFile(archive, 'mediamtx', 1 << 20).toString(),
      `#!/bin/sh\necho "${VERSION}"\n`,
    );
    assert.throws(() => extractFile(archive, 'mediamtx', 1024), /unpacks to more than 1024 bytes/);
    assert.throws(
      () => extractFile(Buffer.from('not gzip'), 'mediamtx', 1024),
      /not a valid \.tar\.gz/,
    );
  });
});
