/**
 * The cameras section's report (.bench/cameras.json), its targets, and its printed text.
 */
import type { RunRecord, Target } from './report.js';
import type { LatencySummary } from './stats.js';
import {
  fmtInt,
  fmtMb,
  fmtMs,
  fmtPercent,
  formatColumns,
  DISTURBED_CPU_PERCENT,
} from './format.js';

/** From the node appearing (udev-like plug) to camera_status_update CONNECTED. */
export const TARGET_DETECT_P99_MS = 100;
/** get_camera_list with 16 cameras and 100 clients, paced. */
export const TARGET_LIST_P99_MS = 5;
/** An open-loop run that fell more than 1% behind its rate did not sustain it. */
const RATE_TOLERANCE = 0.99;

export interface DetectionSample {
  node: string;
  /** Node appears → CONNECTED delivered to the SDK client (performance.now(), this process). */
  plugToClientMs: number;
  /** unlink → DISCONNECTED delivered (includes camera.debounce_ms). */
  unplugToClientMs: number;
  /** The CONNECTED notification carried the by-id link added after the node as stable_id. */
  stableIdFound: boolean;
  /** From the server's log (millisecond timestamps): rename → "device node added". */
  renameToAddedMs: number | null;
  /** "device node added" → "camera connected": by-id/sysfs look-ups, probe, capture mode, path create. */
  addedToConnectedMs: number | null;
  /** "camera connected" → delivered: the broadcast, the WebSocket, the SDK. */
  connectedToClientMs: number | null;
}

export interface DetectionReport {
  mode: 'events' | 'polling';
  pollIntervalMs: number;
  debounceMs: number;
  samples: number;
  warmupSamples: number;
  /** The warm-up plugs' latencies (first plugs of a fresh server: cold code paths). */
  coldMs: number[];
  /** Measured plugs whose CONNECTED notification carried the by-id link as stable_id. */
  stableIdFound: number;
  plugToClient: LatencySummary;
  unplugToClient: LatencySummary;
  stages: {
    renameToAdded: LatencySummary | null;
    addedToConnected: LatencySummary | null;
    connectedToClient: LatencySummary | null;
  };
  /** Polling only: the most a plug should take, and whether the slowest stayed under it. */
  bound: { ms: number; basis: string; met: boolean } | null;
  perSample: DetectionSample[];
  /** Warnings and errors the server logged. */
  serverProblems: string[];
  serverProblemCount: number;
}

export interface BurstReport {
  cameras: number;
  /** From the first node appearing to each camera's CONNECTED. */
  perCamera: LatencySummary;
  /** To the last CONNECTED: when every camera is usable. */
  allMs: number;
}

export interface ListReport {
  cameras: number;
  clients: number;
  /** One get_camera_list reply, JSON-encoded, as the SDK client got it. */
  resultBytes: number;
  serverRssMb: { beforePlug: number | null; afterPlug: number | null; afterLoad: number | null };
  open: RunRecord | null;
  /** The same paced run calling ping: the floor the transport and the generator set. */
  baseline: RunRecord | null;
  closed: RunRecord | null;
  serverProblems: string[];
  serverProblemCount: number;
}

export interface ProbeReport {
  kind: 'replay';
  description: string;
  fixtures: string[];
  /** The replay script alone, run from the bench process. */
  replayCost: LatencySummary | null;
  /** v4l2-ctl's start-up: it fails at once, since there is no device; null when not installed. */
  v4l2CtlStartCost: LatencySummary | null;
  note: string;
}

export interface CamerasReport {
  generatedAt: string;
  machine: { cores: number; cpuModel: string; node: string; platform: string };
  settings: {
    samples: number;
    pollSamples: number;
    warmupSamples: number;
    seconds: number;
    rate: number;
    client: string;
    camerasForList: number;
    clientsForList: number;
    warmupSeconds: number;
    drainSeconds: number;
  };
  probe: ProbeReport;
  events: DetectionReport | null;
  polling: DetectionReport | null;
  burst: BurstReport | null;
  list: ListReport | null;
  targets: Target[];
  error: string | null;
}

export function evaluateTargets(report: CamerasReport): Target[] {
  const targets: Target[] = [];
  const { events, polling, list } = report;
  if (events) {
    const s = events.plugToClient;
    targets.push({
      name: `udev-like plug -> camera_status_update CONNECTED p99 < ${TARGET_DETECT_P99_MS} ms (hot-plug events)`,
      met: s.p99Ms < TARGET_DETECT_P99_MS,
      detail: `N = ${s.count}: p50 ${fmtMs(s.p50Ms)}, p99 ${fmtMs(s.p99Ms)}, max ${fmtMs(s.maxMs)} ms (probe: replay)`,
    });
  }
  if (polling?.bound) {
    const s = polling.plugToClient;
    targets.push({
      name: `polling only: every plug within poll_interval + probe + delivery (${fmtMs(polling.bound.ms)} ms)`,
      met: polling.bound.met,
      detail: `N = ${s.count}: max ${fmtMs(s.maxMs)} ms; bound = ${polling.bound.basis}`,
    });
  }
  const open = list?.open?.result;
  if (list && open) {
    const rate = open.targetRate ?? 0;
    const sustained = open.requestsPerSecond >= rate * RATE_TOLERANCE;
    targets.push({
      name: `get_camera_list p99 < ${TARGET_LIST_P99_MS} ms with ${list.cameras} cameras and ${list.clients} clients`,
      met: open.latency.p99Ms < TARGET_LIST_P99_MS && sustained && open.errors === 0,
      detail:
        `open loop paced at ${fmtInt(rate)} req/s: p99 ${fmtMs(open.latency.p99Ms)} ms, ` +
        `achieved ${fmtInt(open.requestsPerSecond)} req/s${sustained ? '' : ' (rate NOT sustained)'}, ` +
        `${open.errors} errors; from the actual send p99 ${fmtMs(open.serviceLatency?.p99Ms ?? 0)} ms` +
        (list.baseline
          ? `; ping paced the same way: p99 ${fmtMs(list.baseline.result.latency.p99Ms)} ms`
          : ''),
    });
  }
  return targets;
}

function summaryCells(s: LatencySummary | null): string[] {
  if (s === null || s.count === 0) return ['n/a', 'n/a', 'n/a', 'n/a', '0'];
  return [fmtMs(s.p50Ms), fmtMs(s.p90Ms), fmtMs(s.p99Ms), fmtMs(s.maxMs), String(s.count)];
}

function formatDetection(d: DetectionReport, title: string): string[] {
  const table = formatColumns(
    ['interval', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'N'],
    [
      ['node appears -> CONNECTED at the client', ...summaryCells(d.plugToClient)],
      [
        '  node appears -> "device node added" (discovery)',
        ...summaryCells(d.stages.renameToAdded),
      ],
      [
        '  "device node added" -> "camera connected" (probe, path)',
        ...summaryCells(d.stages.addedToConnected),
      ],
      [
        '  "camera connected" -> client (broadcast, WebSocket, SDK)',
        ...summaryCells(d.stages.connectedToClient),
      ],
      [
        `unlink -> DISCONNECTED at the client (debounce ${d.debounceMs} ms)`,
        ...summaryCells(d.unplugToClient),
      ],
    ],
    0,
  );
  const lines = [
    title,
    `poll_interval ${d.pollIntervalMs / 1000} s, debounce_ms ${d.debounceMs}; N = ${d.samples} ` +
      `after ${d.warmupSamples} warm-up plugs (cold: ${d.coldMs.map(fmtMs).join(', ')} ms), one camera at a time; ` +
      'each plug as devtmpfs and udev make it (the node, then chmod, chown and a by-id link):',
    table,
    `The by-id link was the camera's stable_id at CONNECTED in ${d.stableIdFound} of ${d.samples} plugs.`,
  ];
  if (d.bound) {
    lines.push(
      `Bound: ${d.bound.basis} = ${fmtMs(d.bound.ms)} ms; max ${fmtMs(d.plugToClient.maxMs)} ms: ` +
        (d.bound.met ? 'stayed under it' : 'EXCEEDED it'),
    );
  }
  if (d.serverProblemCount > 0) {
    lines.push(
      `Server logged ${d.serverProblemCount} warnings/errors; first: ${d.serverProblems[0]}`,
    );
  }
  return lines;
}

function formatList(list: ListReport): string[] {
  const runs = [list.open, list.baseline, list.closed].filter((r): r is RunRecord => r !== null);
  const table = formatColumns(
    [
      'method',
      'mode',
      'req/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'errors',
      'server CPU %',
      'loadgen CPU %',
      'other CPU %',
      'peak RSS MB',
    ],
    runs.map(({ result: r, serverMemory }) => [
      r.methods.join(', '),
      r.mode === 'open' ? `open @${fmtInt(r.targetRate ?? 0)}/s` : `closed C=${r.clients}`,
      fmtInt(r.requestsPerSecond),
      fmtMs(r.latency.p50Ms),
      fmtMs(r.latency.p99Ms),
      fmtMs(r.latency.maxMs),
      String(r.errors),
      fmtPercent(r.serverCpuPercent),
      r.loadCpuPercent.toFixed(0),
      fmtPercent(r.otherCpuPercent),
      fmtMb(serverMemory.peakRssMb),
    ]),
    1,
  );
  const lines = [
    `get_camera_list, ${list.cameras} cameras CONNECTED, ${list.clients} authenticated clients ` +
      `in a load-generator process; reply ${fmtInt(list.resultBytes)} bytes:`,
    table,
  ];
  lines.push('Open loop: latency from the scheduled send (no coordinated omission).');
  for (const { result: r } of runs) {
    if (r.mode !== 'open') continue;
    lines.push(
      `  ${r.methods.join(', ')}: from the actual send p50 ${fmtMs(r.serviceLatency?.p50Ms ?? 0)} / ` +
        `p99 ${fmtMs(r.serviceLatency?.p99Ms ?? 0)} ms; generator send lag p50 ` +
        `${fmtMs(r.sendLag?.p50Ms ?? 0)} / p99 ${fmtMs(r.sendLag?.p99Ms ?? 0)} ms`,
    );
  }
  lines.push(
    `Server RSS: ${fmtMb(list.serverRssMb.beforePlug)} MB before plugging them, ` +
      `${fmtMb(list.serverRssMb.afterPlug)} MB with them, ${fmtMb(list.serverRssMb.afterLoad)} MB after the load.`,
  );
  for (const { result: r } of runs) {
    if (r.errors > 0)
      lines.push(
        `  ${r.methods.join(', ')} ${r.mode}: ${r.errors} errors, e.g. ${r.errorSamples.join(' | ')}`,
      );
    if (
      (r.otherCpuPercent ?? 0) > DISTURBED_CPU_PERCENT ||
      (r.stealCpuPercent ?? 0) > DISTURBED_CPU_PERCENT
    ) {
      lines.push(
        `  WARNING: during the ${r.methods.join(', ')} ${r.mode} run other processes used ${r.otherCpuPercent ?? 'n/a'}% of a core, ` +
          `steal ${r.stealCpuPercent ?? 'n/a'}%: it understates the server.`,
      );
    }
  }
  if (list.serverProblemCount > 0) {
    lines.push(
      `Server logged ${list.serverProblemCount} warnings/errors; first: ${list.serverProblems[0]}`,
    );
  }
  return lines;
}

export function formatCamerasReport(report: CamerasReport): string {
  const { machine, probe, events, polling, burst, list, targets } = report;
  const cost = (s: LatencySummary | null) =>
    s === null ? 'n/a' : `p50 ${fmtMs(s.p50Ms)} / p99 ${fmtMs(s.p99Ms)} ms (N = ${s.count})`;
  const lines = [
    'cameras',
    '-------',
    `${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}. The real service in a ` +
      'child process, nodes in a scratch device directory, one admin SDK client watching ' +
      'camera_status_update in the bench process.',
    `Probe: a REPLAY, not v4l2-ctl on a device: ${probe.description}`,
    `  replay script alone: ${cost(probe.replayCost)}; v4l2-ctl start-up alone (fails, no device): ` +
      `${cost(probe.v4l2CtlStartCost)}`,
    `  ${probe.note}`,
    '',
  ];
  if (events)
    lines.push(
      ...formatDetection(events, 'Detection, hot-plug events on (inotify) and polling'),
      '',
    );
  if (polling)
    lines.push(
      ...formatDetection(polling, 'Detection, polling only (camera.hotplug_events: false)'),
      '',
    );
  if (burst) {
    lines.push(
      `Burst: ${burst.cameras} nodes plugged back to back (udev-like): every one CONNECTED ` +
        `${fmtMs(burst.allMs)} ms after the first appeared (per camera p50 ${fmtMs(burst.perCamera.p50Ms)}, ` +
        `max ${fmtMs(burst.perCamera.maxMs)} ms).`,
      '',
    );
  }
  if (list) lines.push(...formatList(list), '');
  lines.push(
    `Targets (for a 2-core machine; this one has ${machine.cores}):`,
    ...targets.map((t) => `  [${t.met ? 'MET' : 'MISSED'}] ${t.name}\n           ${t.detail}`),
  );
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}
