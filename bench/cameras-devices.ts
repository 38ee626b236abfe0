/**
 * What the cameras section needs to plug cameras where there are none: a device directory
 * whose `videoN` nodes are regular files, a probe command that replays captured v4l2-ctl
 * output for them, a watcher of `camera_status_update` notifications on an SDK client,
 * and a record of the service's log lines to time its stages.
 *
 * The probe is a replay: a /bin/sh script that `cat`s the fixture files named in the
 * node, as packages/server/test/fixtures/fake-v4l2-ctl does, without that script's
 * ~50 ms of Node start-up, which would otherwise be most of what is measured. What a
 * real v4l2-ctl costs on a real camera (opening the device, a few dozen ioctls) is not
 * measured: there is no V4L2 device here.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CameraServiceClient } from '@camera-service/sdk';
import { LatencyRecorder, type LatencySummary } from './stats.js';

/** What one v4l2-ctl run prints for an EMEET SmartCam S800: `--all`, then the formats. */
export const PROBE_FIXTURES = [
  'emeet-smartcam-s800__all.txt',
  'emeet-smartcam-s800__list-formats-ext.txt',
] as const;

export interface ProbeReplay {
  /** The script, for camera.probe_command. */
  command: string;
  /** Where the fixture copies are. */
  fixturesDir: string;
  /** What a node file holds: the fixture names, one a line. */
  nodeText: string;
}

/**
 * Writes the replay script and copies the fixtures into `dir`. The copies keep the run
 * independent of edits to the repository's fixtures while it runs.
 */
export function writeProbeReplay(repoRoot: string, dir: string): ProbeReplay {
  const source = join(repoRoot, 'packages', 'server', 'test', 'fixtures', 'v4l2');
  const fixturesDir = join(dir, 'v4l2');
  mkdirSync(fixturesDir, { recursive: true });
  for (const name of PROBE_FIXTURES) {
    try {
      copyFileSync(join(source, name), join(fixturesDir, name));
    } catch (error) {
      throw new Error(
        `the probe fixture ${join(source, name)} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  if (/[\s'"\\$`]/.test(fixturesDir)) {
    throw new Error(`the scratch path ${fixturesDir} has characters the probe script cannot take`);
  }
  const command = join(dir, 'probe-replay.sh');
  // Same contract as v4l2-ctl for the service: `--device NODE --all --list-formats-ext`,
  // the output on stdout, "Cannot open device" and exit 1 when the node is gone. Only one
  // process besides the shell (cat), and the node's lines are read by the shell itself.
  const script = `#!/bin/sh
# camera-service bench: replays captured v4l2-ctl output (see bench/cameras-devices.ts).
dev=
all=
formats=
while [ $# -gt 0 ]; do
  case "$1" in
    --device) dev=$2; shift ;;
    --all) all=1 ;;
    --list-formats-ext) formats=1 ;;
  esac
  shift
done
if [ -z "$dev" ] || [ -z "$all" ] || [ -z "$formats" ]; then
  echo "probe-replay: expected --device NODE --all --list-formats-ext" >&2
  exit 2
fi
[ -r "$dev" ] || { echo "Cannot open device $dev, exiting." >&2; exit 1; }
files=
while IFS= read -r name || [ -n "$name" ]; do
  [ -n "$name" ] && files="$files ${fixturesDir}/$name"
done < "$dev"
[ -n "$files" ] || { echo "probe-replay: $dev names no fixture" >&2; exit 1; }
exec cat $files
`;
  writeFileSync(command, script, { mode: 0o755 });
  return { command, fixturesDir, nodeText: `${PROBE_FIXTURES.join('\n')}\n` };
}

/** Times `runs` runs of `command --device NODE --all --list-formats-ext`, one at a time. */
export async function timeCommand(
  command: string,
  node: string,
  runs: number,
  expectSuccess: boolean,
): Promise<LatencySummary> {
  const times = new LatencyRecorder();
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    const ok = await new Promise<boolean>((resolve, reject) => {
      execFile(
        command,
        ['--device', node, '--all', '--list-formats-ext'],
        { timeout: 5000, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 },
        (error) => {
          const code = (error as NodeJS.ErrnoException | null)?.code;
          if (code === 'ENOENT') reject(new Error(`${command} was not found`));
          else resolve(error === null);
        },
      );
    });
    times.record(performance.now() - started);
    if (ok !== expectSuccess) {
      throw new Error(`${command} --device ${node} ${ok ? 'succeeded' : 'failed'} unexpectedly`);
    }
  }
  return times.summary();
}

/**
 * Plugs and unplugs fake nodes in a device directory the way devtmpfs and udev do on a real
 * box: the kernel creates the node (here written aside and renamed into place, so it appears
 * whole, root-only as devtmpfs makes it), then udev sets its mode and group and adds its
 * `v4l/by-id` link; an unplug removes the link, then the node. Each step is a filesystem
 * event of its own for the service's watcher, as on real hardware.
 */
export class FakeDevices {
  readonly #uid = process.getuid?.() ?? 0;
  readonly #gid = process.getgid?.() ?? 0;

  constructor(
    readonly dir: string,
    readonly nodeText: string,
  ) {
    mkdirSync(join(dir, 'v4l', 'by-id'), { recursive: true });
  }

  path(number: number): string {
    return join(this.dir, `video${number}`);
  }

  /** The by-id link udev makes for node `number`. */
  link(number: number): string {
    return join(this.dir, 'v4l', 'by-id', `usb-Bench_Camera_${number}-video-index0`);
  }

  /**
   * Plugs node `number` as devtmpfs and udev do. Returns the instants just before the node
   * appears: performance.now() (for the latency, in this process) and Date.now() (to compare
   * with the server's log).
   */
  plug(number: number): { at: number; wallMs: number } {
    const temporary = this.#prepare(number);
    const wallMs = Date.now();
    const at = performance.now();
    this.#appear(number, temporary);
    return { at, wallMs };
  }

  /** Several nodes at once: every temporary file first, then each node appears back to back. */
  plugMany(numbers: readonly number[]): { at: number; wallMs: number } {
    const temporaries = numbers.map((n) => this.#prepare(n));
    const wallMs = Date.now();
    const at = performance.now();
    numbers.forEach((n, i) => this.#appear(n, temporaries[i] as string));
    return { at, wallMs };
  }

  unplug(number: number): { at: number; wallMs: number } {
    const wallMs = Date.now();
    const at = performance.now();
    rmSync(this.link(number), { force: true });
    unlinkSync(this.path(number));
    return { at, wallMs };
  }

  #prepare(number: number): string {
    const temporary = join(this.dir, `.video${number}.tmp`);
    writeFileSync(temporary, this.nodeText, { mode: 0o600 });
    return temporary;
  }

  /** The kernel's node, then udev's rule: mode, owner and group, the by-id link. */
  #appear(number: number, temporary: string): void {
    const node = this.path(number);
    renameSync(temporary, node);
    chmodSync(node, 0o660);
    chownSync(node, this.#uid, this.#gid);
    rmSync(this.link(number), { force: true });
    symlinkSync(`../../video${number}`, this.link(number));
  }
}

interface Waiter {
  device: string;
  status: string;
  resolve: (at: number) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Resolves waits for `camera_status_update` with a given device and status, with the
 * performance.now() at which the SDK delivered it. A wait for CONNECTED fails at once
 * when the camera turns ERROR instead (with the service's reason), and every wait fails
 * after its timeout: the bench never hangs on a notification that does not come.
 */
export class StatusWatcher {
  readonly #waiters = new Set<Waiter>();
  /** How many camera_status_update notifications arrived. */
  count = 0;
  /** The stable_id of the last CONNECTED notification of each device. */
  readonly stableIds = new Map<string, string | null>();

  constructor(client: CameraServiceClient) {
    client.on('notification', (method, params) => {
      const at = performance.now();
      if (method !== 'camera_status_update') return;
      this.count += 1;
      const camera = params as {
        device?: unknown;
        status?: unknown;
        error?: unknown;
        stable_id?: unknown;
      };
      if (camera.status === 'CONNECTED' && typeof camera.device === 'string') {
        this.stableIds.set(
          camera.device,
          typeof camera.stable_id === 'string' ? camera.stable_id : null,
        );
      }
      for (const waiter of this.#waiters) {
        if (waiter.device !== camera.device) continue;
        if (camera.status === waiter.status) {
          this.#settle(waiter);
          waiter.resolve(at);
        } else if (camera.status === 'ERROR' && waiter.status === 'CONNECTED') {
          this.#settle(waiter);
          waiter.reject(
            new Error(`${waiter.device} turned ERROR instead: ${String(camera.error)}`),
          );
        }
      }
    });
    client.on('close', (code, reason) => {
      for (const waiter of this.#waiters) {
        this.#settle(waiter);
        waiter.reject(
          new Error(`the observing client's connection closed (${code} ${reason}) while waiting`),
        );
      }
    });
  }

  /** Register before causing the change, so a fast notification is not missed. */
  wait(device: string, status: string, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        device,
        status,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(`no camera_status_update ${status} for ${device} within ${timeoutMs} ms`),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
  }

  /** Fails every wait still pending (on the way out). */
  cancelAll(reason: string): void {
    for (const waiter of this.#waiters) {
      this.#settle(waiter);
      waiter.reject(new Error(reason));
    }
  }
}

/** One of the service's log lines the section times its stages with. */
interface LogMark {
  msg: string;
  node: string;
  timeMs: number;
}

/** The lines that mark a camera's stages, with their node. */
const MARKS = new Set([
  'device node added',
  'device node removed',
  'camera connected',
  'camera disconnected',
  'camera in error',
]);

/**
 * The service's stage lines (discovery's "device node added", the camera service's
 * "camera connected"...), with their `time` (ISO, millisecond resolution: the stages
 * derived from them are good to about 1 ms each).
 */
export class ServerLog {
  readonly #marks: LogMark[] = [];

  /** For startServer's onLog. */
  readonly onLog = (entry: Record<string, unknown>): void => {
    if (typeof entry.msg !== 'string' || !MARKS.has(entry.msg)) return;
    const node = typeof entry.node === 'string' ? entry.node : entry.device;
    const timeMs = typeof entry.time === 'string' ? Date.parse(entry.time) : NaN;
    if (typeof node !== 'string' || Number.isNaN(timeMs)) return;
    this.#marks.push({ msg: entry.msg, node, timeMs });
  };

  /** The first `msg` line for `node` logged at or after `sinceMs` (epoch ms), or null. */
  find(msg: string, node: string, sinceMs: number): number | null {
    for (const mark of this.#marks) {
      if (mark.msg === msg && mark.node === node && mark.timeMs >= sinceMs) return mark.timeMs;
    }
    return null;
  }

  /**
   * Waits (up to `timeoutMs`) until `msg` for `node` at or after `sinceMs` has been read:
   * the server logs it before notifying, but its stdout and the WebSocket are two pipes,
   * and either may be read first.
   */
  async waitFor(
    msg: string,
    node: string,
    sinceMs: number,
    timeoutMs: number,
  ): Promise<number | null> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const found = this.find(msg, node, sinceMs);
      if (found !== null || performance.now() >= until) return found;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
