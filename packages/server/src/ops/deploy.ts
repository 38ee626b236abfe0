/**
 * `camera-service deploy RELEASE.tar.gz`: releases side by side under a root
 * (/opt/camera-service), a health-gated switch, and an automatic rollback.
 *
 *   <root>/releases/<version>/   each unpacked release (bin/camera-service runs it)
 *   <root>/current               symlink to the release that runs
 *
 * Steps: check the tarball (one top directory `camera-service-<version>/` holding
 * `bin/camera-service`, nothing but files, directories and links inside it), unpack it
 * into releases/<version>, validate the configuration with the new release's own
 * `camera-service config` (a refusal stops here: nothing switched, nothing restarted),
 * switch `current` atomically (a new symlink renamed over it), restart (systemctl when
 * systemd runs, else --restart-command), and wait for /health/ready up to --timeout. If it
 * is not ready, `current` goes back to the previous release, which is restarted and waited
 * for, and the command fails saying so. The last --keep releases stay; older ones go.
 * The tarball format is described in deploy/release/README.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import { basename, join, posix, resolve } from 'node:path';
import { loadConfig } from '../config/index.js';

export interface DeployOptions {
  root: string;
  config: string | null;
  /** Run through `sh -c` instead of systemctl; DEPLOY_RELEASE names the release, DEPLOY_ROOT the root (not CAMERA_SERVICE_*: the service reads those as settings). */
  restartCommand: string | null;
  unit: string;
  healthUrl: string | null;
  timeoutSeconds: number;
  keep: number;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export class DeployError extends Error {}

const VERSION_RE = /^camera-service-([0-9A-Za-z][0-9A-Za-z._+~-]*)\/?$/;

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error)
    throw new DeployError(`${what}: ${command} could not run (${result.error.message}).`);
  if (result.status !== 0)
    throw new DeployError(
      `${what}: ${(result.stderr || result.stdout).trim() || `${command} failed`}.`,
    );
  return result.stdout;
}

/** The version a release tarball carries, after checking its layout. */
export function inspectRelease(tarball: string): string {
  const listing = run('tar', ['-tvzf', tarball], `${tarball} is not a readable release tarball`);
  let version: string | null = null;
  let hasBin = false;
  for (const line of listing.split('\n').filter(Boolean)) {
    const type = line[0];
    // "drwxr-xr-x user/group size date time name[ -> target]"
    const [name = '', target] = line.split(/\s+/).slice(5).join(' ').split(' -> ');
    if (!'-dl'.includes(type ?? '?'))
      throw new DeployError(
        `${tarball}: ${name} is neither a file, a directory nor a link: refused.`,
      );
    const [top, ...rest] = name.split('/');
    const match = VERSION_RE.exec(`${top}/`);
    if (!match || name.startsWith('/') || name.split('/').includes('..'))
      throw new DeployError(
        `${tarball}: ${name} is not under one top directory camera-service-<version>/: refused (see deploy/release/README.md).`,
      );
    if (version !== null && match[1] !== version)
      throw new DeployError(
        `${tarball} holds two top directories (${version} and ${match[1]}): refused.`,
      );
    version = match[1]!;
    // A link may point within the release only (npm's workspace links are relative).
    if (
      type === 'l' &&
      (target === undefined || !within(top!, posix.join(posix.dirname(name), target)))
    )
      throw new DeployError(`${tarball}: the link ${name} points outside the release: refused.`);
    if (rest.join('/') === 'bin/camera-service') hasBin = true;
  }
  if (version === null) throw new DeployError(`${tarball} is empty.`);
  if (!hasBin)
    throw new DeployError(`${tarball} has no camera-service-${version}/bin/camera-service.`);
  return version;
}

function within(top: string, path: string): boolean {
  const normal = posix.normalize(path);
  return normal === top || normal.startsWith(`${top}/`);
}

/** Where /health/ready answers, from the configuration (or --health-url). */
function readyUrl(options: DeployOptions): string {
  if (options.healthUrl) return options.healthUrl;
  const { health } = loadConfig({ file: options.config }).config;
  const host =
    health.host === '0.0.0.0' ? '127.0.0.1' : health.host === '::' ? '[::1]' : health.host;
  return `http://${host}:${health.port}/health/ready`;
}

/**
 * Waits for /health/ready to answer 200 from a process started since `since` (its
 * /health/live uptime says so): an old process still answering is not the new release.
 */
async function waitReady(
  url: string,
  timeoutMs: number,
  since: number | null,
): Promise<{ ready: boolean; last: string }> {
  const deadline = performance.now() + timeoutMs;
  const live =
    since !== null && url.endsWith('/health/ready')
      ? url.replace(/\/health\/ready$/, '/health/live')
      : null;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await response.text();
      if (response.status === 200) {
        const uptime = live ? await uptimeSeconds(live) : null;
        // Rounded to the second by the service, so one second of slack.
        if (uptime === null || since === null || uptime <= (performance.now() - since) / 1000 + 1)
          return { ready: true, last: body };
        last = `ready, but up for ${uptime} s: the process from before the restart is still answering`;
      } else {
        last = `${response.status} ${body.slice(0, 300)}`;
      }
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ready: false, last };
}

async function uptimeSeconds(url: string): Promise<number | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { uptime_seconds?: unknown };
    return typeof body.uptime_seconds === 'number' ? body.uptime_seconds : null;
  } catch {
    return null;
  }
}

async function restart(options: DeployOptions, release: string): Promise<void> {
  const env = {
    ...process.env,
    DEPLOY_RELEASE: release,
    DEPLOY_ROOT: resolve(options.root),
  };
  let command: string;
  let args: string[];
  if (options.restartCommand) {
    [command, args] = ['sh', ['-c', options.restartCommand]];
  } else if (existsSync('/run/systemd/system')) {
    [command, args] = ['systemctl', ['restart', options.unit]];
  } else {
    throw new DeployError(
      'systemd is not running here: give --restart-command to say how the service is restarted.',
    );
  }
  const code = await new Promise<number | null>((resolveCode, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (c) => resolveCode(c));
  });
  if (code !== 0)
    throw new DeployError(`the restart (${command} ${args.join(' ')}) exited with ${code}.`);
}

/** Points `current` at `target` atomically: a new link renamed over the old one. */
async function switchCurrent(root: string, target: string): Promise<void> {
  const tmp = join(root, `.current.${process.pid}.tmp`);
  await rm(tmp, { force: true });
  await symlink(join('releases', target), tmp);
  await rename(tmp, join(root, 'current'));
}

async function currentRelease(root: string): Promise<string | null> {
  try {
    return basename(await readlink(join(root, 'current')));
  } catch {
    return null;
  }
}

/** One deploy at a time: a lock file holding the pid, taken over when that pid is gone. */
async function lock(root: string): Promise<() => Promise<void>> {
  const path = join(root, '.deploy.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx');
      await handle.write(`${process.pid}\n`);
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      let alive = false;
      try {
        if (pid > 0) process.kill(pid, 0);
        alive = pid > 0;
      } catch {
        alive = false;
      }
      if (alive) throw new DeployError(`another deploy (pid ${pid}) is running in ${root}.`);
      await unlink(path).catch(() => undefined);
    }
  }
  throw new DeployError(`could not take ${path}.`);
}

export interface DeployResult {
  version: string;
  previous: string | null;
  ok: boolean;
  /** From the switch to ready (or to the rollback's ready). */
  readyMs: number | null;
  rolledBackMs: number | null;
}

export async function deploy(
  tarball: string,
  options: DeployOptions,
  io: Io,
): Promise<DeployResult> {
  const root = resolve(options.root);
  const releases = join(root, 'releases');
  await mkdir(releases, { recursive: true });
  const unlock = await lock(root);
  try {
    const version = inspectRelease(resolve(tarball));
    const dir = join(releases, version);
    const previous = await currentRelease(root);
    if (previous === version)
      throw new DeployError(`${version} is already the current release; nothing to do.`);
    const url = readyUrl(options);

    // Unpack beside the others, then into place under its name.
    const staging = join(releases, `.${version}.${process.pid}.tmp`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging);
    run(
      'tar',
      ['-xzf', resolve(tarball), '-C', staging, '--no-same-owner'],
      `unpacking ${tarball}`,
    );
    await rm(dir, { recursive: true, force: true });
    await rename(join(staging, `camera-service-${version}`), dir);
    await rm(staging, { recursive: true, force: true });
    io.err(`unpacked ${version} into ${dir}\n`);

    // The new release must accept the configuration before anything changes.
    const bin = join(dir, 'bin', 'camera-service');
    const check = spawnSync(
      bin,
      ['config', ...(options.config ? ['--config', options.config] : [])],
      {
        encoding: 'utf8',
      },
    );
    if (check.status !== 0) {
      await rm(dir, { recursive: true, force: true });
      throw new DeployError(
        `${version} refuses the configuration (exit ${check.status ?? check.signal}): ${(check.stderr || String(check.error ?? '')).trim()}\nNothing was switched or restarted.`,
      );
    }

    const started = performance.now();
    await switchCurrent(root, version);
    io.err(`current -> releases/${version}; restarting\n`);
    let ready: { ready: boolean; last: string } = { ready: false, last: '' };
    try {
      const restarted = performance.now();
      await restart(options, version);
      ready = await waitReady(url, options.timeoutSeconds * 1000, restarted);
    } catch (error) {
      ready = { ready: false, last: (error as Error).message };
    }
    if (ready.ready) {
      const readyMs = Math.round(performance.now() - started);
      io.err(`${version} is ready (${url}) ${readyMs} ms after the switch\n`);
      await prune(releases, options.keep, [version, previous], io);
      io.out(`${JSON.stringify({ deployed: version, previous, ready_ms: readyMs })}\n`);
      return { version, previous, ok: true, readyMs, rolledBackMs: null };
    }

    io.err(
      `${version} did not become ready within ${options.timeoutSeconds} s (last: ${ready.last})\n`,
    );
    if (previous === null) {
      throw new DeployError(
        `${version} did not become ready and there is no previous release to roll back to.`,
      );
    }
    await switchCurrent(root, previous);
    io.err(`rolled back: current -> releases/${previous}; restarting\n`);
    await rename(dir, join(releases, `${version}.failed`)).catch(() => undefined);
    await restart(options, previous);
    // The previous release, restarted or (a restart that did nothing) still running.
    const back = await waitReady(url, options.timeoutSeconds * 1000, null);
    const rolledBackMs = Math.round(performance.now() - started);
    if (!back.ready)
      throw new DeployError(
        `${version} failed, and ${previous} did not become ready again either (last: ${back.last}): look at the service's log.`,
      );
    io.out(
      `${JSON.stringify({ failed: version, rolled_back_to: previous, rolled_back_ms: rolledBackMs })}\n`,
    );
    throw Object.assign(
      new DeployError(
        `${version} did not become ready; rolled back to ${previous}, ready again ${rolledBackMs} ms after the switch. The failed release is kept as releases/${version}.failed for a look.`,
      ),
      { result: { version, previous, ok: false, readyMs: null, rolledBackMs } },
    );
  } finally {
    await unlock();
  }
}

/** Keeps the newest `keep` releases (by when they were put in place: ctime) and those in `protect`; removes the rest. */
async function prune(releases: string, keep: number, protect: (string | null)[], io: Io) {
  const names = (await readdir(releases)).filter((n) => !n.startsWith('.'));
  const dated = await Promise.all(
    names.map(async (n) => ({ n, at: (await lstat(join(releases, n))).ctimeMs })),
  );
  dated.sort((a, b) => b.at - a.at);
  let kept = 0;
  for (const { n } of dated) {
    if (protect.includes(n) || (!n.endsWith('.failed') && kept < keep)) {
      if (!n.endsWith('.failed')) kept += 1;
      continue;
    }
    if (!(await stat(join(releases, n))).isDirectory()) continue;
    await rm(join(releases, n), { recursive: true, force: true });
    io.err(`removed old release ${n}\n`);
  }
}
