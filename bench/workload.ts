/**
 * The two ways of loading the server, over already open connections.
 *
 * Both share one timeline, fixed up front in performance.now() time:
 *   start ── warm-up ── windowStart ── measured window ── windowEnd ── drain ── deadline
 * Loops compare the clock with these instants instead of waiting on timers, so the
 * window is exactly `durationMs` long. Latency is recorded for requests issued in the
 * window (their replies may land in the drain); throughput counts replies that land
 * inside the window. At the deadline every connection is closed, which fails anything
 * still pending, so no loop can outlive it.
 */
import { performance } from 'node:perf_hooks';
import type { RpcConnection } from './connections.js';
import { readCpuSeconds, readMachineCpu } from './proc.js';
import { DEFAULT_METHODS, type BenchMethod, type LoadParams, type LoadResult } from './protocol.js';
import { LatencyRecorder } from './stats.js';

const MAX_ERROR_SAMPLES = 5;
/** Time allowed for a polite close at the deadline before it is abandoned. */
const CLOSE_WITHIN_MS = 1000;

interface Timeline {
  windowStart: number;
  windowEnd: number;
  deadline: number;
}

/** Counters one run accumulates; every loop writes to the same instance. */
class Tally {
  readonly latency = new LatencyRecorder();
  readonly service = new LatencyRecorder();
  readonly lag = new LatencyRecorder();
  completed = 0;
  sent = 0;
  errors = 0;
  readonly errorSamples = new Set<string>();

  constructor(readonly timeline: Timeline) {}

  /** A reply at `at` to a request issued at `issuedAt` (open mode: its scheduled time). */
  reply(issuedAt: number, at: number): void {
    const { windowStart, windowEnd } = this.timeline;
    if (at >= windowStart && at < windowEnd) this.completed += 1;
    if (issuedAt >= windowStart && issuedAt < windowEnd) this.latency.record(at - issuedAt);
  }

  /** Errors count whenever they happen, warm-up included: any failure is worth reporting. */
  error(error: unknown): void {
    this.errors += 1;
    if (this.errorSamples.size < MAX_ERROR_SAMPLES) {
      this.errorSamples.add(error instanceof Error ? error.message : String(error));
    }
  }
}

export async function runWorkload(
  connections: readonly RpcConnection[],
  params: LoadParams,
): Promise<LoadResult> {
  const start = performance.now();
  const windowStart = start + params.warmupMs;
  const windowEnd = windowStart + params.durationMs;
  const timeline = { windowStart, windowEnd, deadline: windowEnd + params.drainMs };
  const tally = new Tally(timeline);
  const methods: readonly BenchMethod[] =
    params.methods && params.methods.length > 0 ? params.methods : DEFAULT_METHODS;
  const cpu = sampleCpuOverWindow(params.serverPid, timeline);

  const deadline = setTimeout(() => {
    for (const connection of connections) void connection.close(CLOSE_WITHIN_MS);
  }, timeline.deadline - start);
  try {
    if (params.mode === 'closed') {
      await Promise.all(
        connections.map((c, i) => closedLoop(c, i, methods, tally, params.drainMs)),
      );
    } else {
      await openLoop(connections, params, methods, tally);
    }
  } finally {
    clearTimeout(deadline);
  }
  const usage = await cpu;

  const open = params.mode === 'open';
  const seconds = params.durationMs / 1000;
  return {
    mode: params.mode,
    client: params.client,
    clients: connections.length,
    methods: [...methods],
    windowMs: params.durationMs,
    completed: tally.completed,
    requestsPerSecond: Math.round(tally.completed / seconds),
    sent: tally.sent,
    errors: tally.errors,
    errorSamples: [...tally.errorSamples],
    latency: tally.latency.summary(),
    serviceLatency: open ? tally.service.summary() : null,
    sendLag: open ? tally.lag.summary() : null,
    targetRate: open ? params.rate : null,
    serverCpuPercent: usage.server,
    loadCpuPercent: usage.load,
    otherCpuPercent: usage.other,
    stealCpuPercent: usage.steal,
  };
}

/** One request in flight: send, wait for the reply, send the next, until the window ends. */
async function closedLoop(
  connection: RpcConnection,
  index: number,
  methods: readonly BenchMethod[],
  tally: Tally,
  timeoutMs: number,
): Promise<void> {
  const { windowStart, windowEnd } = tally.timeline;
  // Start clients on alternate methods so all of them are in flight at any moment.
  let turn = index;
  for (;;) {
    const sentAt = performance.now();
    if (sentAt >= windowEnd) return;
    const method = methods[turn++ % methods.length] as BenchMethod;
    if (sentAt >= windowStart) tally.sent += 1;
    try {
      await connection.call(method, timeoutMs);
      tally.reply(sentAt, performance.now());
    } catch (error) {
      tally.error(error);
      // A lost connection would otherwise spin through instant rejections.
      if (!connection.isOpen) return;
    }
  }
}

/**
 * Each client sends every `clients / rate` seconds whether or not earlier replies came
 * back, clients staggered evenly across the interval. Latency runs from the scheduled
 * time, so a server (or generator) that falls behind shows up as latency instead of
 * silently lowering the rate (coordinated omission). The schedule is served by a 1 ms
 * timer: each tick sends everything that has come due, and the send lag is reported on
 * its own so the generator's lateness can be told apart from the server's.
 */
function openLoop(
  connections: readonly RpcConnection[],
  params: LoadParams,
  methods: readonly BenchMethod[],
  tally: Tally,
): Promise<void> {
  const { windowStart, windowEnd, deadline } = tally.timeline;
  const interval = (connections.length / params.rate) * 1000;
  const first = windowStart - params.warmupMs;
  const due = connections.map((_, i) => first + (i * interval) / connections.length);
  const turns = connections.map((_, i) => i);
  const nextMethod = (i: number): BenchMethod => {
    const turn = turns[i] ?? 0;
    turns[i] = turn + 1;
    return methods[turn % methods.length] as BenchMethod;
  };
  // One timeout for every call: Node keeps a timer list per distinct duration, and a
  // per-call "time left until the deadline" would make a new list for every request.
  const callTimeoutMs = Math.ceil(deadline - windowStart + params.warmupMs);
  let outstanding = 0;
  let scheduleDone = false;

  return new Promise<void>((resolve) => {
    const settleIfIdle = () => {
      if (scheduleDone && outstanding === 0) resolve();
    };
    const send = (i: number, connection: RpcConnection, scheduledAt: number) => {
      const sentAt = performance.now();
      const inWindow = scheduledAt >= windowStart;
      if (inWindow) {
        tally.sent += 1;
        tally.lag.record(sentAt - scheduledAt);
      }
      outstanding += 1;
      connection
        .call(nextMethod(i), callTimeoutMs)
        .then(
          () => {
            const at = performance.now();
            tally.reply(scheduledAt, at);
            if (inWindow) tally.service.record(at - sentAt);
          },
          (error: unknown) => tally.error(error),
        )
        .finally(() => {
          outstanding -= 1;
          settleIfIdle();
        });
    };
    const tick = () => {
      const now = performance.now();
      let next = Infinity;
      connections.forEach((connection, i) => {
        let at = due[i] ?? Infinity;
        for (; at <= now && at < windowEnd; at += interval) send(i, connection, at);
        due[i] = at;
        if (at < windowEnd) next = Math.min(next, at);
      });
      if (next === Infinity) {
        scheduleDone = true;
        settleIfIdle();
        return;
      }
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
}

interface CpuOverWindow {
  server: number | null;
  load: number;
  other: number | null;
  steal: number | null;
}

/**
 * CPU over the window, in percent of one core: the server's, this generator's, and the
 * rest of the machine's, so a run disturbed by other processes can be recognised.
 */
async function sampleCpuOverWindow(serverPid: number, timeline: Timeline): Promise<CpuOverWindow> {
  const at = (instant: number) =>
    new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, instant - performance.now())));
  await at(timeline.windowStart);
  const t0 = performance.now();
  const server0 = readCpuSeconds(serverPid);
  const load0 = process.cpuUsage();
  const machine0 = readMachineCpu();
  await at(timeline.windowEnd);
  const elapsedSeconds = (performance.now() - t0) / 1000;
  const server1 = readCpuSeconds(serverPid);
  const loadUsage = process.cpuUsage(load0);
  const machine1 = readMachineCpu();
  const percent = (seconds: number) => Math.round((seconds / elapsedSeconds) * 1000) / 10;

  const server = server0 === null || server1 === null ? null : percent(server1 - server0);
  const load = percent((loadUsage.user + loadUsage.system) / 1e6);
  if (machine0 === null || machine1 === null) return { server, load, other: null, steal: null };
  const busy = percent(machine1.busySeconds - machine0.busySeconds);
  return {
    server,
    load,
    // Tick-granular counters can make this slightly negative; that means "nothing".
    other: server === null ? null : Math.max(0, Math.round((busy - server - load) * 10) / 10),
    steal: percent(machine1.stealSeconds - machine0.stealSeconds),
  };
}
