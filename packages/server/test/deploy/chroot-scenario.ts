/**
 * The package's life in a fresh Debian 12 root, run by package.test.ts inside its own
 * mount and PID namespaces (`unshare --mount --pid --fork`): every mount made here, and
 * every process started in the root, ends with this process, whatever happens.
 *
 *   node chroot-scenario.js ROOT_TARBALL APT_ARCHIVES WORK_DIR DEB_V1 DEB_V2 INSTALL_TARBALL
 *
 * apt installs the package (with ffmpeg and v4l-utils from the archive); the service runs
 * from the unit's ExecStart as its User (systemd does not run in a chroot), answers
 * /health/ready and `/`, and takes a snapshot of a declared test pattern; an upgrade to
 * DEB_V2 keeps the edited conffile, the API keys, the secret and the media; purge removes
 * everything; then the tarball's install.sh installs it without dpkg, runs it, upgrades
 * in place keeping the configuration, and --purge removes it. Each step prints one JSON line ({"step", ...facts}); a failed check throws,
 * and the exit status says so.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import WebSocket from 'ws';

const [tarball, archives, work, debV1, debV2, installTarball] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const ROOT = join(work, 'root');
const UNIT = '/lib/systemd/system/camera-service.service';
const CONFIG = '/etc/camera-service/config.yml';
const STATE = '/var/lib/camera-service';

const report = (step: string, facts: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ step, ...facts })}\n`);

function sh(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {},
): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    env: options.env ?? process.env,
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}, signal ${result.signal}`}):\n${(result.stdout ?? '').slice(-3000)}\n${(result.stderr ?? '').slice(-3000)}`,
    );
  }
  return result.stdout;
}

const inRoot = (args: string[], options: Parameters<typeof sh>[2] = {}) =>
  sh('chroot', [ROOT, ...args], {
    ...options,
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      DEBIAN_FRONTEND: 'noninteractive',
      ...options.env,
    },
  });

const rootPath = (path: string) => join(ROOT, path);
/** Whether the path exists in the root, a symbolic link included (its target is the root's). */
function present(path: string): boolean {
  try {
    lstatSync(rootPath(path));
    return true;
  } catch {
    return false;
  }
}

function owner(path: string): string {
  return inRoot(['stat', '-c', '%U:%G %a', path]).trim();
}

/** A TCP port free on this machine now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** ExecStart, User, Group, Environment= and WorkingDirectory from the installed unit. */
function parseUnit(text: string) {
  const values = (key: string) =>
    [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => (m[1] ?? '').trim());
  const [execStart] = values('ExecStart');
  assert.ok(execStart, 'the unit has an ExecStart');
  const environment = Object.fromEntries(
    values('Environment')
      .flatMap((v) => v.split(/\s+/))
      .map((pair) => {
        const at = pair.indexOf('=');
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
  return {
    argv: execStart.replace(/^[-@:+!]+/, '').split(/\s+/),
    user: values('User')[0] ?? 'root',
    group: values('Group')[0] ?? values('User')[0] ?? 'root',
    workingDirectory: values('WorkingDirectory')[0] ?? '/',
    environment,
    restartPrevent: values('RestartPreventExitStatus')[0],
  };
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the service as systemd would: the unit's ExecStart as its user, in the root. */
function startService(): Running {
  const unit = parseUnit(readFileSync(rootPath(UNIT), 'utf8'));
  const child = spawn(
    'chroot',
    [
      ROOT,
      'setpriv',
      `--reuid=${unit.user}`,
      `--regid=${unit.group}`,
      '--init-groups',
      '--no-new-privs',
      'env',
      '-i',
      `--chdir=${unit.workingDirectory}`,
      'PATH=/usr/local/bin:/usr/bin:/bin',
      'LANG=C.UTF-8',
      ...Object.entries(unit.environment).map(([k, v]) => `${k}=${v}`),
      ...unit.argv,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function stopService(service: Running): Promise<number | null> {
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 10_000);
  const code = await service.exited;
  clearTimeout(timer);
  return code;
}

/** Waits (bounded) until `url` answers 200; fails with the service's output otherwise. */
async function waitReady(url: string, service: Running, limitMs = 60_000): Promise<number> {
  const started = Date.now();
  let last = '';
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  while (Date.now() - started < limitMs) {
    if (exitCode !== undefined)
      throw new Error(
        `the service exited (${exitCode}) before it was ready:\n${service.output().slice(-4000)}`,
      );
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return Date.now() - started;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${url} did not answer 200 within ${limitMs} ms (last: ${last}):\n${service.output().slice(-4000)}`,
  );
}

/** One JSON-RPC session: authenticate, then call. */
async function rpc(
  url: string,
  credential: string,
  calls: [string, Record<string, unknown>][],
): Promise<unknown[]> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let id = 0;
  const pending = new Map<
    number,
    (reply: { result?: unknown; error?: { message: string } }) => void
  >();
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    };
    if (typeof message.id === 'number') pending.get(message.id)?.(message);
  });
  const call = (method: string, params: Record<string, unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      id += 1;
      const timer = setTimeout(() => reject(new Error(`${method}: no reply within 30 s`)), 30_000);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
        else resolve(reply.result);
      });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  try {
    await call('authenticate', { auth_token: credential });
    const results: unknown[] = [];
    for (const [method, params] of calls) results.push(await call(method, params));
    return results;
  } finally {
    socket.close();
  }
}

function aptInstall(deb: string): number {
  copyFileSync(deb, rootPath(`/tmp/${basename(deb)}`));
  const started = Date.now();
  inRoot(['apt-get', 'install', '-y', '-q', '--no-install-recommends', `/tmp/${basename(deb)}`], {
    timeoutMs: 15 * 60_000,
  });
  const took = Date.now() - started;
  const fetched = rootPath('/var/cache/apt/archives');
  for (const file of readdirSync(fetched).filter((f) => f.endsWith('.deb'))) {
    if (existsSync(join(archives, file))) continue;
    const partial = join(archives, `.${file}.${process.pid}.part`);
    copyFileSync(join(fetched, file), partial);
    renameSync(partial, join(archives, file));
  }
  return took;
}

async function main(): Promise<void> {
  // The root, with /proc and /dev, and the cached .debs as apt's archive directory.
  mkdirSync(ROOT, { recursive: true });
  sh('tar', ['--zstd', '-C', ROOT, '-xf', tarball], { timeoutMs: 300_000 });
  sh('mount', ['--make-rprivate', '/']);
  sh('mount', ['-t', 'proc', 'proc', rootPath('/proc')]);
  sh('mount', ['--rbind', '/dev', rootPath('/dev')]);
  // The cached .debs are copied in, and new ones back (renamed into place), rather than
  // the cache mounted: runs at the same time never share apt's archive lock.
  for (const deb of readdirSync(archives).filter((f) => f.endsWith('.deb'))) {
    copyFileSync(join(archives, deb), rootPath(`/var/cache/apt/archives/${deb}`));
  }
  copyFileSync('/etc/resolv.conf', rootPath('/etc/resolv.conf'));
  // No daemon starts from a maintainer script in here (policy-rc.d), as in any chroot.
  writeFileSync(rootPath('/usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  inRoot(['apt-get', 'update', '-q'], { timeoutMs: 300_000 });
  report('root', {
    before: inRoot(['dpkg-query', '-W', '-f', '${Package}\\n']).split('\n').filter(Boolean).length,
  });

  // Install: apt resolves ffmpeg and v4l-utils from the archive.
  const installMs = aptInstall(debV1);
  const version1 = inRoot(['dpkg-query', '-W', '-f', '${Version}', 'camera-service']);
  const node = inRoot(['/usr/lib/camera-service/node/bin/node', '--version']).trim();
  assert.ok(
    existsSync(rootPath('/usr/bin/ffmpeg')) && existsSync(rootPath('/usr/bin/v4l2-ctl')),
    'ffmpeg and v4l2-ctl installed',
  );
  assert.match(inRoot(['id', 'camera-service']), /groups=.*\(video\)/);
  assert.equal(owner(STATE), 'camera-service:camera-service 750');
  assert.equal(owner('/etc/camera-service/jwt-secret'), 'camera-service:camera-service 600');
  assert.equal(owner('/var/log/camera-service'), 'camera-service:camera-service 750');
  for (const dir of ['state', 'recordings', 'snapshots'])
    assert.equal(owner(`${STATE}/${dir}`), 'camera-service:camera-service 750');
  assert.ok(
    present('/etc/systemd/system/multi-user.target.wants/camera-service.service'),
    'the unit is enabled',
  );
  const secret = readFileSync(rootPath('/etc/camera-service/jwt-secret'), 'utf8');
  assert.ok(secret.trim().length >= 43, 'a secret of 32 bytes or more');
  report('install', {
    installMs,
    version: version1,
    node,
    packages: inRoot(['dpkg-query', '-W', '-f', '${Package}\\n']).split('\n').filter(Boolean)
      .length,
  });

  // An invalid configuration: exit 78, which the unit's RestartPreventExitStatus names.
  const unit = parseUnit(readFileSync(rootPath(UNIT), 'utf8'));
  const original = readFileSync(rootPath(CONFIG), 'utf8');
  writeFileSync(rootPath(CONFIG), `${original}\nserver:\n  port: seventy\n`);
  const broken = startService();
  const brokenCode = await broken.exited;
  assert.equal(brokenCode, 78, broken.output());
  assert.equal(unit.restartPrevent, '78');
  report('config-error', { exit: brokenCode });

  // The operator's edit of the conffile: free ports, and a declared test pattern.
  const ports = {
    api: await freePort(),
    health: await freePort(),
    rtsp: await freePort(),
    hls: await freePort(),
    webrtc: await freePort(),
    mtxApi: await freePort(),
    hook: await freePort(),
  };
  const edited =
    original
      .replace(/^ {2}port: 8002$/m, `  port: ${ports.api}`)
      .replace(/^ {2}port: 8003$/m, `  port: ${ports.health}`)
      .replace(/^ {2}host: 0\.0\.0\.0$/gm, '  host: 127.0.0.1')
      .replace(
        /^ {2}mode: auto$/m,
        `  mode: auto\n  listen_host: 127.0.0.1\n  rtsp_port: ${ports.rtsp}\n  hls_port: ${ports.hls}\n  webrtc_port: ${ports.webrtc}\n  api_port: ${ports.mtxApi}\n  auth_hook_port: ${ports.hook}`,
      ) +
    '\ncameras:\n  - id: pattern\n    name: Test pattern\n    test_pattern: { size: 320x240, fps: 10 }\n';
  assert.notEqual(edited, original);
  writeFileSync(rootPath(CONFIG), edited);
  inRoot(['camera-service', 'config'], {});

  // The service from the unit, as its user.
  const service = startService();
  const readyMs = await waitReady(`http://127.0.0.1:${ports.health}/health/ready`, service);
  // The process runs as the unit's user (the pid is the node process: chroot, setpriv and
  // env each exec the next).
  const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${service.child.pid}/status`, 'utf8'))?.[1];
  assert.equal(uid, inRoot(['id', '-u', unit.user]).trim(), 'the service runs as its user');
  assert.match(readFileSync(`/proc/${service.child.pid}/cmdline`, 'utf8'), /node\/bin\/node/);
  const home = await fetch(`http://127.0.0.1:${ports.api}/`);
  const homeText = await home.text();
  const dashboard = existsSync(
    rootPath('/usr/lib/camera-service/app/packages/web/dist/index.html'),
  );
  if (dashboard) {
    assert.equal(home.status, 200, homeText);
    assert.match(homeText, /<html/i);
  } else {
    assert.ok(home.status < 500, `/ answered ${home.status}: ${homeText}`);
  }

  // Credentials made with the installed command (as root: it runs as the service user).
  const token = inRoot(['camera-service', 'token', '--role', 'operator']).trim();
  const key = inRoot([
    'camera-service',
    'keys',
    'create',
    '--role',
    'admin',
    '--name',
    'upgrade-test',
  ]).trim();
  assert.equal(owner(`${STATE}/api-keys.json`).split(' ')[0], 'camera-service:camera-service');
  const [snapshot] = (await rpc(`ws://127.0.0.1:${ports.api}/ws`, token, [
    ['take_snapshot', { device: 'pattern' }],
  ])) as [{ filename: string }];
  const jpeg = readFileSync(rootPath(`${STATE}/snapshots/${snapshot.filename}`));
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  assert.equal(
    owner(`${STATE}/snapshots/${snapshot.filename}`).split(' ')[0],
    'camera-service:camera-service',
  );
  assert.equal(await stopService(service), 0, service.output());
  report('run', {
    readyMs,
    user: unit.user,
    uid,
    home: { status: home.status, dashboard, text: homeText.slice(0, 200) },
    snapshot: { file: snapshot.filename, bytes: jpeg.length },
  });

  // Upgrade: the edited conffile, the keys, the secret and the media stay.
  const keysBefore = readFileSync(rootPath(`${STATE}/api-keys.json`), 'utf8');
  const upgradeMs = aptInstall(debV2);
  const version2 = inRoot(['dpkg-query', '-W', '-f', '${Version}', 'camera-service']);
  assert.notEqual(version2, version1);
  assert.equal(readFileSync(rootPath(CONFIG), 'utf8'), edited, 'the edited conffile is kept');
  assert.equal(readFileSync(rootPath(`${STATE}/api-keys.json`), 'utf8'), keysBefore);
  assert.equal(readFileSync(rootPath('/etc/camera-service/jwt-secret'), 'utf8'), secret);
  assert.ok(
    existsSync(rootPath(`${STATE}/snapshots/${snapshot.filename}`)),
    'the snapshot is kept',
  );
  const again = startService();
  await waitReady(`http://127.0.0.1:${ports.health}/health/ready`, again);
  // The key made before the upgrade, and the token minted before it, still work.
  const [status] = (await rpc(`ws://127.0.0.1:${ports.api}/ws`, key, [
    ['get_server_info', {}],
  ])) as [{ version: string }];
  await rpc(`ws://127.0.0.1:${ports.api}/ws`, token, [['ping', {}]]);
  assert.equal(await stopService(again), 0, again.output());
  report('upgrade', { upgradeMs, from: version1, to: version2, serverVersion: status.version });

  // Remove keeps the data; purge removes the user, the data, the configuration.
  inRoot(['dpkg', '--remove', 'camera-service']);
  assert.ok(
    existsSync(rootPath(CONFIG)) && existsSync(rootPath(`${STATE}/api-keys.json`)),
    'remove keeps config and data',
  );
  assert.equal(existsSync(rootPath('/usr/lib/camera-service')), false);
  inRoot(['dpkg', '--purge', 'camera-service']);
  const left = [
    '/etc/camera-service',
    STATE,
    '/var/log/camera-service',
    '/usr/lib/camera-service',
    UNIT,
    '/usr/bin/camera-service',
  ].filter(present);
  assert.deepEqual(left, [], 'purge leaves nothing');
  assert.equal(
    spawnSync('chroot', [ROOT, 'getent', 'passwd', 'camera-service']).status,
    2,
    'the user is gone',
  );
  assert.equal(
    spawnSync('chroot', [ROOT, 'getent', 'group', 'camera-service']).status,
    2,
    'the group is gone',
  );
  const wants = rootPath('/etc/systemd/system/multi-user.target.wants');
  assert.ok(
    !existsSync(wants) || !readdirSync(wants).includes('camera-service.service'),
    'no unit link left',
  );
  report('purge', { left });

  // The tarball: install.sh, as on a system without dpkg (ffmpeg is still installed).
  mkdirSync(rootPath('/tmp/tarball'), { recursive: true });
  sh('tar', ['-xzf', installTarball, '-C', rootPath('/tmp/tarball')]);
  const [top] = readdirSync(rootPath('/tmp/tarball'));
  const script = `/tmp/tarball/${top}/install.sh`;
  const tarStarted = Date.now();
  inRoot(['sh', script], { timeoutMs: 300_000 });
  const tarInstallMs = Date.now() - tarStarted;
  assert.match(inRoot(['id', 'camera-service']), /\(video\)/);
  assert.equal(owner('/etc/camera-service/jwt-secret'), 'camera-service:camera-service 600');
  writeFileSync(rootPath(CONFIG), edited);
  const fromTarball = startService();
  await waitReady(`http://127.0.0.1:${ports.health}/health/ready`, fromTarball);
  assert.equal(await stopService(fromTarball), 0, fromTarball.output());
  // Again, as an upgrade: the edited configuration stays, the new default lies beside it.
  const rerun = inRoot(['sh', script], { timeoutMs: 300_000 });
  assert.match(rerun, /kept your \/etc\/camera-service\/config\.yml/);
  assert.equal(readFileSync(rootPath(CONFIG), 'utf8'), edited);
  assert.equal(readFileSync(rootPath(`${CONFIG}.new`), 'utf8'), original);
  inRoot(['sh', script, '--purge'], { timeoutMs: 120_000 });
  const tarLeft = [
    '/etc/camera-service',
    STATE,
    '/var/log/camera-service',
    '/usr/lib/camera-service',
    UNIT,
    '/usr/bin/camera-service',
    '/usr/share/doc/camera-service',
  ].filter(present);
  assert.deepEqual(tarLeft, [], 'install.sh --purge leaves nothing');
  assert.equal(spawnSync('chroot', [ROOT, 'getent', 'passwd', 'camera-service']).status, 2);
  report('tarball', { installMs: tarInstallMs, left: tarLeft });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
