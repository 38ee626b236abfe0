/**
 * Reads another process's memory and CPU time from Linux /proc. Every reader returns
 * null when the file is missing (the process exited, or not Linux) instead of throwing,
 * so a sample that cannot be taken never fails the benchmark.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface MemorySample {
  /** Resident set size now. */
  rssMb: number;
  /** The peak resident set size since the process started ("high water mark"). */
  hwmMb: number;
}

/** Kernel clock ticks per second for /proc/<pid>/stat; 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;

export function readMemory(pid: number): MemorySample | null {
  const status = readProc(`/proc/${pid}/status`);
  if (status === null) return null;
  const rssKb = statusField(status, 'VmRSS');
  const hwmKb = statusField(status, 'VmHWM');
  if (rssKb === null || hwmKb === null) return null;
  return { rssMb: toMb(rssKb), hwmMb: toMb(hwmKb) };
}

/** User plus system CPU seconds of every thread of the process (V8's GC threads included). */
export function readCpuSeconds(pid: number): number | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

export interface MachineCpu {
  /** CPU seconds spent on anything but idle and I/O wait, all cores together. */
  busySeconds: number;
  /** CPU seconds the hypervisor gave to someone else while this VM wanted to run. */
  stealSeconds: number;
}

/** Machine-wide CPU time from /proc/stat, to tell whether other processes shared the CPUs. */
export function readMachineCpu(): MachineCpu | null {
  const stat = readProc('/proc/stat');
  const line = stat?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return null;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .slice(4)
    .trim()
    .split(/\s+/)
    .map(Number);
  const values = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (values.some((v) => v === undefined || !Number.isFinite(v))) return null;
  const busy = [user, nice, system, irq, softirq].reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return {
    busySeconds: busy / CLOCK_TICKS_PER_SECOND,
    stealSeconds: (steal ?? 0) / CLOCK_TICKS_PER_SECOND,
  };
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function statusField(status: string, name: string): number | null {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : null;
}

function toMb(kb: number): number {
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * Samples a process's RSS every `everyMs` until stopped, keeping the peak: VmHWM alone
 * is the peak since the process started, which cannot tell one run from the next.
 */
export function watchMemory(pid: number, everyMs: number): { stop(): number | null } {
  let peak: number | null = null;
  const sample = () => {
    const rss = readMemory(pid)?.rssMb;
    if (rss !== undefined && (peak === null || rss > peak)) peak = rss;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

export interface CpuShare {
  /** The watched process (the server), in percent of one core; null when unreadable. */
  processPercent: number | null;
  /** Its CPU seconds over the measurement, for a cost per call; null when unreadable. */
  processSeconds: number | null;
  /** Every process but the watched one and this one, same unit; null when unreadable. */
  otherPercent: number | null;
  /** CPU the hypervisor withheld from the whole VM, same unit; null when unreadable. */
  stealPercent: number | null;
}

/**
 * Starts measuring a process's CPU (possibly this one), and the rest of the machine's;
 * the returned function ends the measurement. For phases that are a number of calls
 * rather than a fixed window.
 */
export function startCpuMeter(pid: number): () => CpuShare {
  const t0 = performance.now();
  const process0 = readCpuSeconds(pid);
  const self0 = process.cpuUsage();
  const machine0 = readMachineCpu();
  return () => {
    const elapsedSeconds = (performance.now() - t0) / 1000;
    const process1 = readCpuSeconds(pid);
    const self = process.cpuUsage(self0);
    const machine1 = readMachineCpu();
    const percent = (seconds: number) =>
      elapsedSeconds > 0 ? Math.round((seconds / elapsedSeconds) * 1000) / 10 : 0;
    const processSeconds = process0 === null || process1 === null ? null : process1 - process0;
    // When the watched process is this one, its time is already in processSeconds.
    const selfSeconds = pid === process.pid ? 0 : (self.user + self.system) / 1e6;
    const machine =
      machine0 === null || machine1 === null
        ? null
        : {
            busy: machine1.busySeconds - machine0.busySeconds,
            steal: machine1.stealSeconds - machine0.stealSeconds,
          };
    return {
      processPercent: processSeconds === null ? null : percent(processSeconds),
      processSeconds,
      // Tick-granular counters can make this slightly negative; that means "nothing".
      otherPercent:
        machine === null || processSeconds === null
          ? null
          : Math.max(0, percent(machine.busy - processSeconds - selfSeconds)),
      stealPercent: machine === null ? null : percent(machine.steal),
    };
  };
}
