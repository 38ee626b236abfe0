/**
 * `camera-service mediamtx install`: a MediaMTX release archive (downloaded, or given with
 * --from) is checked against its SHA-256, its `mediamtx` binary taken out, run once with
 * --version, and written over the target atomically (temporary file in the same
 * directory, fsync, rename, fsync the directory), so the service never sees half a binary.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ArchiveError, extractFile, isGzip } from './archive.js';

/** Where MediaMTX publishes its releases; `--url-base` replaces it (a mirror, a test). */
export const DEFAULT_URL_BASE = 'https://github.com/bluenviron/mediamtx/releases/download';
/** On the systemd unit's PATH, so `mediamtx.mode: auto` finds it at the next start. */
export const DEFAULT_TARGET = '/usr/local/bin/mediamtx';
/** A release archive is 15-40 MB; more is not one. */
const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;
const MAX_BINARY_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 300_000;
const VERSION_TIMEOUT_MS = 10_000;

export interface InstallOptions {
  from?: string;
  version?: string;
  sha256?: string;
  urlBase?: string;
  to?: string;
  arch?: string;
}

export interface InstallIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A failure with the sentence to print (exit 1). */
export class InstallError extends Error {
  override name = 'InstallError';
}

/** MediaMTX's name for this machine's architecture in its archive names. */
export function releaseArch(nodeArch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armv7' };
  const name = names[nodeArch];
  if (!name) {
    throw new InstallError(
      `MediaMTX publishes no Linux build named for this architecture (${nodeArch}): give --arch with the name in its release files (amd64, arm64, armv7, armv6).`,
    );
  }
  return name;
}

/** mediamtx_v1.9.3_linux_amd64.tar.gz under <base>/v1.9.3/. */
export function releaseUrl(version: string, arch: string, base = DEFAULT_URL_BASE): string {
  return `${base.replace(/\/+$/, '')}/${version}/mediamtx_${version}_linux_${arch}.tar.gz`;
}

function checkOptions(options: InstallOptions): void {
  if ((options.from === undefined) === (options.version === undefined)) {
    throw new InstallError(
      'Give either --from FILE (an archive or binary you have) or --version vX.Y.Z --sha256 HEX (to download a release).',
    );
  }
  if (options.version !== undefined && !/^v\d+\.\d+\.\d+$/.test(options.version)) {
    throw new InstallError(
      `--version ${options.version} is not a MediaMTX release tag: expected vX.Y.Z, e.g. v1.9.3.`,
    );
  }
  if (options.version !== undefined && options.sha256 === undefined) {
    throw new InstallError(
      "--sha256 HEX is required with --version: copy the archive's checksum from the release's checksums.sha256 file, so a tampered download is refused.",
    );
  }
  if (options.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) {
    throw new InstallError('--sha256 expects 64 hexadecimal digits (a SHA-256 checksum).');
  }
}

async function download(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new InstallError(
      `Could not download ${url}: ${cause ?? (error as Error).message}. Check the network, or download it elsewhere and use --from FILE.`,
    );
  }
  if (response.status !== 200 || !response.body) {
    throw new InstallError(
      `Could not download ${url}: the server answered ${response.status}${response.status === 404 ? ' (no such release or architecture: check --version and --arch)' : ''}.`,
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > MAX_ARCHIVE_BYTES) {
      throw new InstallError(
        `Refusing ${url}: it is larger than ${MAX_ARCHIVE_BYTES} bytes, far more than a MediaMTX release.`,
      );
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function readLocal(file: string): Buffer {
  try {
    const size = statSync(file).size;
    if (size > MAX_ARCHIVE_BYTES) {
      throw new InstallError(`Refusing ${file}: it is larger than ${MAX_ARCHIVE_BYTES} bytes.`);
    }
    return readFileSync(file);
  } catch (error) {
    if (error instanceof InstallError) throw error;
    throw new InstallError(`Cannot read ${file}: ${(error as Error).message}.`);
  }
}

/** Runs `binary --version`; resolves with its first line, or throws saying why it cannot run. */
function runVersion(binary: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      binary,
      ['--version'],
      { timeout: VERSION_TIMEOUT_MS, maxBuffer: 64 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const why =
            code === 'ENOEXEC'
              ? 'it is not a program for this machine (wrong architecture?)'
              : (stderr.trim().split('\n')[0] ?? error.message) || error.message;
          reject(
            new InstallError(
              `The mediamtx binary does not run here: ${why}. Nothing was installed.`,
            ),
          );
          return;
        }
        resolvePromise((stdout.trim() || stderr.trim()).split('\n')[0] ?? '');
      },
    );
  });
}

/** Writes `data` over `target` atomically: readers see the old binary or the new one. */
async function installAtomically(data: Buffer, target: string): Promise<string> {
  const dir = dirname(target);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new InstallError(
      `Cannot create ${dir}: ${(error as Error).message}. Run as root, or give --to PATH.`,
    );
  }
  const tmp = join(
    dir,
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o755);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InstallError(
      `Cannot write to ${dir}${code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? ' (no permission)' : ''}: ${(error as Error).message}. Run as root (sudo), or give --to PATH in a directory you can write.`,
    );
  }
  try {
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    const version = await runVersion(tmp);
    renameSync(tmp, target);
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return version;
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Resolves with the installed path; throws an InstallError with the sentence to print. */
export async function installMediaMtx(options: InstallOptions, io: InstallIo): Promise<string> {
  checkOptions(options);
  const target = resolve(options.to ?? DEFAULT_TARGET);
  let data: Buffer;
  let source: string;
  if (options.from !== undefined) {
    source = resolve(options.from);
    data = readLocal(source);
  } else {
    source = releaseUrl(options.version!, options.arch ?? releaseArch(), options.urlBase);
    io.err(`Downloading ${source}\n`);
    data = await download(source);
  }
  const digest = createHash('sha256').update(data).digest('hex');
  if (options.sha256 !== undefined && digest !== options.sha256.toLowerCase()) {
    throw new InstallError(
      `Refusing ${source}: its SHA-256 is ${digest}, not the ${options.sha256.toLowerCase()} given with --sha256. The file is corrupt or not the release you meant; nothing was installed.`,
    );
  }
  let binary: Buffer;
  try {
    binary = isGzip(data) ? extractFile(data, 'mediamtx', MAX_BINARY_BYTES) : data;
  } catch (error) {
    if (error instanceof ArchiveError)
      throw new InstallError(`Refusing ${source}: ${error.message}.`);
    throw error;
  }
  const version = await installAtomically(binary, target);
  io.out(
    `Installed MediaMTX ${version || '(version unknown)'} from ${source} (sha256 ${digest}) to ${target}.\n`,
  );
  io.err(
    target === DEFAULT_TARGET
      ? 'With mediamtx.mode auto or managed the service runs it from PATH at its next start: systemctl restart camera-service.\n'
      : `Set mediamtx.binary: ${target} (and mediamtx.mode: managed) in the configuration, then restart the service.\n`,
  );
  return target;
}
