/**
 * A Debian 12 (bookworm) minbase root for the package tests, made once with debootstrap
 * from the Debian mirror this machine's apt uses and cached outside the clone as a
 * zstd tarball (rebuilt when missing), with the .debs apt fetches in the same cache.
 * debootstrap runs in a mount namespace of its own, so a failed run leaves no mounts.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = process.env.CAMERA_SERVICE_CI_CACHE ?? '/var/cache/camera-service-ci';
export const ROOT_TARBALL = join(CACHE_DIR, 'bookworm-minbase.tar.zst');
export const APT_ARCHIVES = join(CACHE_DIR, 'apt-archives');
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** The URI of the first apt source serving bookworm's main component. */
export function mirrorUrl(): string {
  const files = ['/etc/apt/sources.list'];
  for (const dir of ['/etc/apt/sources.list.d']) {
    if (existsSync(dir)) files.push(...readdirSync(dir).map((f) => join(dir, f)));
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) =>
          new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes('bookworm')) {
          const uri = field('URIs')[0];
          if (uri && !/security/.test(uri)) return uri;
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line.trim());
        if (m?.[1] && !/security/.test(m[1])) return m[1];
      }
    }
  }
  return DEFAULT_MIRROR;
}

function run(command: string, args: string[], timeoutMs: number): void {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
  });
  if (result.status !== 0) {
    const out = `${result.stdout?.toString() ?? ''}${result.stderr?.toString() ?? ''}`;
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}, signal ${result.signal}`}):\n${out.slice(-4000)}`,
    );
  }
}

/** The cached root tarball, made now when missing; resolves with whether it was made. */
export function ensureRootTarball(): { built: boolean; ms: number } {
  mkdirSync(APT_ARCHIVES, { recursive: true });
  if (existsSync(ROOT_TARBALL)) return { built: false, ms: 0 };
  const started = Date.now();
  const work = mkdtempSync(join(CACHE_DIR, 'build-'));
  try {
    const root = join(work, 'root');
    run(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--fork',
        '--',
        'debootstrap',
        '--variant=minbase',
        'bookworm',
        root,
        mirrorUrl(),
      ],
      20 * 60_000,
    );
    run('tar', ['--zstd', '-C', root, '-cf', join(work, 'root.tar.zst'), '.'], 5 * 60_000);
    renameSync(join(work, 'root.tar.zst'), ROOT_TARBALL);
  } finally {
    rmSync(work, { recursive: true, force: true, maxRetries: 2 });
  }
  return { built: true, ms: Date.now() - started };
}
