/**
 * Probes a V4L2 node with `v4l2-ctl` (camera.probe_command): one run of
 * `--device <node> --all --list-formats-ext` gives the driver information and every
 * format, size and frame interval; probe-parse.ts reads them. A run has a timeout, and a
 * failed run is retried (a freshly plugged camera can refuse the first open while udev
 * is still setting it up; the caller can end the pause between attempts early, when udev has
 * changed the node).
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../logging/index.js';
import { parseDeviceInfo, parseFormats, type DeviceInfo, type PixelFormat } from './probe-parse.js';

export interface ProbeResult {
  info: DeviceInfo;
  formats: PixelFormat[];
}

export class ProbeError extends Error {
  override name = 'ProbeError';
  /** Whether another attempt could succeed (a missing tool does not appear by retrying). */
  readonly retryable: boolean;
  /**
   * What the output said of the node when only its format list could not be read: its name,
   * driver and current format (`--all`), for a camera listed in ERROR.
   */
  readonly info: DeviceInfo | null;
  constructor(message: string, options: { retryable?: boolean; info?: DeviceInfo } = {}) {
    super(message);
    this.retryable = options.retryable ?? true;
    this.info = options.info ?? null;
  }
}

export interface ProbeOptions {
  command: string;
  timeoutMs?: number;
  /** Attempts after the first (default 2). */
  retries?: number;
  /** Between attempts (default 300 ms). */
  retryDelayMs?: number;
  /**
   * The pause between attempts, given retryDelayMs; resolves with whether it ended early
   * because the node changed (default: a plain timer).
   */
  retryWait?: (ms: number) => Promise<boolean>;
  log?: Logger;
}

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

function runOnce(command: string, node: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      ['--device', node, '--all', '--list-formats-ext'],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        if (err.code === 'ENOENT') {
          reject(
            new ProbeError(
              `${command} was not found: install v4l-utils or set camera.probe_command.`,
              { retryable: false },
            ),
          );
        } else if (err.killed) {
          reject(new ProbeError(`${command} did not answer within ${timeoutMs} ms.`));
        } else {
          const said = stderr.trim().split('\n').slice(-2).join(' ').trim();
          reject(new ProbeError(`${command} failed${said ? `: ${said}` : ` (${err.message})`}`));
        }
      },
    );
  });
}

/** Probes a node: its identity and formats, or a ProbeError saying why not. */
export async function probeDevice(node: string, options: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const attempts = 1 + (options.retries ?? 2);
  let last: Error = new ProbeError('not probed');
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const text = await runOnce(options.command, node, timeoutMs);
      const info = parseDeviceInfo(text);
      if (!info.ok)
        throw new ProbeError(`could not read ${options.command}'s output: ${info.error.message}`);
      const formats = parseFormats(text);
      // A node that captures must list what it captures; for any other node (metadata,
      // output) the list is not needed to skip it.
      if (!formats.ok && info.value.capture && !info.value.metadataOnly) {
        throw new ProbeError(
          `${options.command} listed no formats the service can read: ${formats.error.message} ` +
            `Run \`${options.command} --device ${node} --list-formats-ext\` to see what the camera reports, then plug it in again.`,
          { info: info.value },
        );
      }
      return { info: info.value, formats: formats.ok ? formats.value : [] };
    } catch (error) {
      last = error as Error;
      if (last instanceof ProbeError && !last.retryable) break;
      options.log?.debug({ node, attempt, err: last.message }, 'probe attempt failed');
      if (attempt < attempts) {
        const delayMs = options.retryDelayMs ?? 300;
        const woken = options.retryWait
          ? await options.retryWait(delayMs)
          : await new Promise<boolean>((resolve) => setTimeout(() => resolve(false), delayMs));
        if (woken)
          options.log?.debug({ node, attempt }, 'the node changed: probing it again at once');
      }
    }
  }
  throw last instanceof ProbeError ? last : new ProbeError(last.message);
}
