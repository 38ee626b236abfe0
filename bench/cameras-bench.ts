/**
 * The "cameras" section: how fast a plugged camera reaches the clients, and what listing
 * cameras costs under load. The real service runs as a child process with its device
 * directory in the scratch directory; "plugging" does what devtmpfs and udev do on a real
 * box, each step an event of its own: the node appears (`.videoN.tmp` renamed to `videoN`,
 * mode 0600), then its mode and owner are set and a `v4l/by-id` link is added
 * (cameras-devices.ts); the service probes it with a replay of captured v4l2-ctl output.
 * Measured:
 *
 *   1. detection with hot-plug events (inotify) on: from the node appearing to
 *      `camera_status_update` CONNECTED arriving at an authenticated SDK client, one
 *      camera at a time (plug, CONNECTED, unplug, DISCONNECTED, next), split into stages
 *      with the service's own log lines; then the unplug to DISCONNECTED (which waits
 *      camera.debounce_ms by design);
 *   2. a burst: 16 nodes at once, to the last CONNECTED;
 *   3. get_camera_list with those 16 cameras and 100 authenticated clients in a
 *      load-generator process: paced open loop (latency), the same paced run with `ping`
 *      (the transport's and the generator's share), then closed loop (capacity);
 *   4. detection with polling only (camera.hotplug_events: false), in a second server:
 *      a plug waits for the next poll, so the bound is poll_interval + probe + delivery.
 *      Plugs happen at a random phase of the poll.
 *
 * What a real probe costs (v4l2-ctl opening a real camera) is not measured: there is no
 * V4L2 device on the bench machine. The replay's own cost is measured and reported.
 *
 * Environment: BENCH_CAMERAS_SAMPLES (events, default 50), BENCH_CAMERAS_POLL_SAMPLES
 * (polling, default 20), BENCH_SECONDS (window of each get_camera_list run, default 5),
 * BENCH_CAMERAS_RATE (paced get_camera_list rate, default 1000), BENCH_CLIENT (sdk | raw).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CameraServiceClient } from '@camera-service/sdk';
import { makeCredentials, type BenchCredentials } from './auth.js';
import {
  FakeDevices,
  PROBE_FIXTURES,
  ServerLog,
  StatusWatcher,
  timeCommand,
  writeProbeReplay,
  type ProbeReplay,
} from './cameras-devices.js';
import {
  evaluateTargets,
  formatCamerasReport,
  TARGET_DETECT_P99_MS,
  type BurstReport,
  type CamerasReport,
  type DetectionReport,
  type DetectionSample,
  type ListReport,
  type ProbeReport,
} from './cameras-report.js';
import { runLoad } from './load-process.js';
import { readMemory, watchMemory } from './proc.js';
import type { BenchMethod, ClientKind, LoadMode, LoadParams } from './protocol.js';
import type { RunRecord } from './report.js';
import { envNumber, UsageError, type Section, type SectionContext } from './section.js';
import { deviceDirOf, startServer, type ServerHandle } from './server-process.js';
import { summarize, type LatencySummary } from './stats.js';

/** get_camera_list runs with this many cameras (camera.max_cameras is set to it). */
const LIST_CAMERAS = 16;
const LIST_CLIENTS = 100;
const LIST_METHODS: BenchMethod[] = ['get_camera_list'];
/** The same paced run with the cheapest call: what the transport and generator cost alone. */
const BASELINE_METHODS: BenchMethod[] = ['ping'];
/** Plugs before the measured ones: the first ones run cold code. */
const WARMUP_PLUGS = 2;
/** The configuration defaults, set explicitly so the report says what was measured. */
const DEBOUNCE_MS = 500;
const POLL_INTERVAL_S = 1;
/** Events on: a random pause of up to this before each plug, so plugs fall anywhere in the poll. */
const EVENTS_PAUSE_MAX_MS = 100;
/** A plug that has not reached the client by then (beyond a poll interval) is a failure. */
const PLUG_TIMEOUT_MS = 10_000;
const WARMUP_MS = 1000;
const DRAIN_MS = 5000;
const MAX_CONNECTIONS = 200;
const MAX_CONNECTIONS_PER_IP = 300;
/** As in the rpc section: far above any rate reached, so the limiter never refuses. */
const RATE_LIMIT = { requestsPerSecond: 10_000_000, burst: 10_000_000 };
const SERVER_START_TIMEOUT_MS = 15_000;
const CLIENT_TIMEOUT_MS = 5000;
const PROBE_COST_RUNS = 20;
const MEMORY_SAMPLE_MS = 200;

interface Settings {
  samples: number;
  pollSamples: number;
  seconds: number;
  rate: number;
  client: ClientKind;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const client = env.BENCH_CLIENT ?? 'sdk';
  if (client !== 'sdk' && client !== 'raw') {
    throw new UsageError(`BENCH_CLIENT=${client}: expected sdk or raw`);
  }
  return {
    samples: Math.round(envNumber(env, 'BENCH_CAMERAS_SAMPLES', 50, 10_000)),
    pollSamples: Math.round(envNumber(env, 'BENCH_CAMERAS_POLL_SAMPLES', 20, 1000)),
    seconds: envNumber(env, 'BENCH_SECONDS', 5, 600),
    rate: envNumber(env, 'BENCH_CAMERAS_RATE', 1000, 100_000),
    client,
  };
}

const say = (text: string) => process.stderr.write(`[bench] cameras: ${text}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A server with its fake devices, its log and an authenticated observing client. */
interface Rig {
  server: ServerHandle;
  devices: FakeDevices;
  log: ServerLog;
  client: CameraServiceClient;
  watcher: StatusWatcher;
  credentials: BenchCredentials;
}

async function startRig(
  context: SectionContext,
  name: string,
  probe: ProbeReplay,
  camera: Record<string, string>,
): Promise<Rig> {
  const scratchDir = join(context.scratchDir, name);
  mkdirSync(scratchDir, { recursive: true });
  const credentials = await makeCredentials(join(scratchDir, 'api-keys.json'));
  const log = new ServerLog();
  const server = await startServer({
    repoRoot: context.repoRoot,
    scratchDir,
    maxConnections: MAX_CONNECTIONS,
    maxConnectionsPerIp: MAX_CONNECTIONS_PER_IP,
    startTimeoutMs: SERVER_START_TIMEOUT_MS,
    jwtSecret: credentials.jwtSecret,
    apiKeysFile: credentials.apiKeysFile,
    rateLimit: RATE_LIMIT,
    onLog: log.onLog,
    extraEnv: {
      CAMERA_SERVICE_CAMERA_PROBE_COMMAND: probe.command,
      CAMERA_SERVICE_CAMERA_DEBOUNCE_MS: String(DEBOUNCE_MS),
      CAMERA_SERVICE_CAMERA_POLL_INTERVAL: String(POLL_INTERVAL_S),
      CAMERA_SERVICE_CAMERA_MAX_CAMERAS: String(LIST_CAMERAS),
      ...camera,
    },
  });
  try {
    const client = new CameraServiceClient({
      url: server.wsUrl,
      connectTimeoutMs: CLIENT_TIMEOUT_MS,
      requestTimeoutMs: CLIENT_TIMEOUT_MS,
      authToken: credentials.adminJwt,
    });
    const watcher = new StatusWatcher(client);
    await client.connect();
    const devices = new FakeDevices(deviceDirOf(scratchDir), probe.nodeText);
    return { server, devices, log, client, watcher, credentials };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function stopRig(rig: Rig | undefined): Promise<void> {
  if (!rig) return;
  rig.watcher.cancelAll('the section is stopping');
  // A close handshake that stalls must not hold the run.
  await Promise.race([rig.client.close(), sleep(1000)]);
  await rig.server.stop();
}

function summaryOf(values: readonly (number | null)[]): LatencySummary | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : summarize(Float64Array.from(present));
}

interface DetectOptions {
  mode: 'events' | 'polling';
  samples: number;
  /** Before each plug, a random pause of up to this. */
  pauseMaxMs: number;
  plugTimeoutMs: number;
  unplugTimeoutMs: number;
}

/** One plug and unplug of node `number`, timed at the client; the stages are read later. */
async function plugCycle(
  rig: Rig,
  number: number,
  options: DetectOptions,
): Promise<{ sample: DetectionSample; plugWallMs: number }> {
  const { devices, watcher } = rig;
  const device = devices.path(number);
  await sleep(Math.random() * options.pauseMaxMs);
  const connected = watcher.wait(device, 'CONNECTED', options.plugTimeoutMs);
  let plug;
  try {
    plug = devices.plug(number);
  } catch (error) {
    connected.catch(() => undefined);
    throw error;
  }
  const plugToClientMs = (await connected) - plug.at;
  // The by-id link udev added right after the node is the camera's stable_id.
  const stableIdFound = watcher.stableIds.get(device) === devices.link(number);
  const disconnected = watcher.wait(device, 'DISCONNECTED', options.unplugTimeoutMs);
  let unplug;
  try {
    unplug = devices.unplug(number);
  } catch (error) {
    disconnected.catch(() => undefined);
    throw error;
  }
  const unplugToClientMs = (await disconnected) - unplug.at;
  return {
    sample: {
      node: device,
      plugToClientMs,
      unplugToClientMs,
      stableIdFound,
      renameToAddedMs: null,
      addedToConnectedMs: null,
      connectedToClientMs: null,
    },
    plugWallMs: plug.wallMs,
  };
}

/** Where the time went, from the server's log lines (epoch ms) and the client's arrival. */
async function fillStages(
  log: ServerLog,
  sample: DetectionSample,
  plugWallMs: number,
): Promise<void> {
  const added = await log.waitFor('device node added', sample.node, plugWallMs, 2000);
  if (added === null) return;
  const connected = log.find('camera connected', sample.node, added);
  sample.renameToAddedMs = added - plugWallMs;
  if (connected === null) return;
  sample.addedToConnectedMs = connected - added;
  sample.connectedToClientMs = plugWallMs + sample.plugToClientMs - connected;
}

async function detect(rig: Rig, options: DetectOptions): Promise<DetectionReport> {
  const coldMs: number[] = [];
  const measured: { sample: DetectionSample; plugWallMs: number }[] = [];
  const total = WARMUP_PLUGS + options.samples;
  for (let i = 0; i < total; i += 1) {
    // Nodes video0..video15 in turn: never more than one present, and the list ends with
    // those 16 (DISCONNECTED) rather than one entry per sample.
    const cycle = await plugCycle(rig, i % LIST_CAMERAS, options);
    if (i < WARMUP_PLUGS) coldMs.push(Math.round(cycle.sample.plugToClientMs * 1000) / 1000);
    else measured.push(cycle);
  }
  for (const { sample, plugWallMs } of measured) await fillStages(rig.log, sample, plugWallMs);
  const samples = measured.map((m) => m.sample);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    mode: options.mode,
    pollIntervalMs: POLL_INTERVAL_S * 1000,
    debounceMs: DEBOUNCE_MS,
    samples: samples.length,
    warmupSamples: WARMUP_PLUGS,
    coldMs,
    stableIdFound: samples.filter((s) => s.stableIdFound).length,
    plugToClient: summarize(Float64Array.from(samples.map((s) => s.plugToClientMs))),
    unplugToClient: summarize(Float64Array.from(samples.map((s) => s.unplugToClientMs))),
    stages: {
      renameToAdded: summaryOf(samples.map((s) => s.renameToAddedMs)),
      addedToConnected: summaryOf(samples.map((s) => s.addedToConnectedMs)),
      connectedToClient: summaryOf(samples.map((s) => s.connectedToClientMs)),
    },
    bound: null,
    perSample: samples.map((s) => ({
      node: s.node,
      plugToClientMs: round(s.plugToClientMs) ?? 0,
      unplugToClientMs: round(s.unplugToClientMs) ?? 0,
      stableIdFound: s.stableIdFound,
      renameToAddedMs: s.renameToAddedMs,
      addedToConnectedMs: s.addedToConnectedMs,
      connectedToClientMs: round(s.connectedToClientMs),
    })),
    serverProblems: rig.server.problems,
    serverProblemCount: rig.server.problemCount,
  };
}

/** Every one of `numbers` plugged at once, to the last CONNECTED. */
async function burst(rig: Rig, numbers: readonly number[]): Promise<BurstReport> {
  const waits = numbers.map((n) =>
    rig.watcher.wait(rig.devices.path(n), 'CONNECTED', PLUG_TIMEOUT_MS * 2),
  );
  let plug;
  try {
    plug = rig.devices.plugMany(numbers);
  } catch (error) {
    for (const wait of waits) wait.catch(() => undefined);
    throw error;
  }
  const arrivals = await Promise.all(waits);
  const times = Float64Array.from(arrivals.map((at) => at - plug.at));
  return {
    cameras: numbers.length,
    perCamera: summarize(times),
    allMs: Math.round(Math.max(...times) * 1000) / 1000,
  };
}

async function loadRun(
  context: SectionContext,
  rig: Rig,
  settings: Settings,
  mode: LoadMode,
  methods: BenchMethod[],
): Promise<RunRecord> {
  const params: LoadParams = {
    url: rig.server.wsUrl,
    clients: LIST_CLIENTS,
    mode,
    client: settings.client,
    warmupMs: WARMUP_MS,
    durationMs: settings.seconds * 1000,
    rate: mode === 'open' ? settings.rate : 0,
    drainMs: DRAIN_MS,
    serverPid: rig.server.pid,
    methods,
  };
  say(
    `${methods.join(', ')}, ${mode} loop, C=${LIST_CLIENTS}` +
      `${mode === 'open' ? ` at ${settings.rate} req/s` : ''} ` +
      `(${WARMUP_MS / 1000} s warm-up + ${settings.seconds} s)`,
  );
  const memory = watchMemory(rig.server.pid, MEMORY_SAMPLE_MS);
  let peakRssMb: number | null = null;
  const result = await runLoad(
    join(context.distDir, 'load.js'),
    params,
    rig.credentials.adminJwt,
  ).finally(() => {
    peakRssMb = memory.stop();
  });
  const after = readMemory(rig.server.pid);
  return {
    result,
    serverMemory: { peakRssMb, rssAfterMb: after?.rssMb ?? null, hwmAfterMb: after?.hwmMb ?? null },
  };
}

async function measureProbe(probe: ProbeReplay, dir: string): Promise<ProbeReport> {
  // A node file outside any device directory a server watches.
  const node = join(dir, 'probe-node');
  writeFileSync(node, probe.nodeText);
  say(`probe replay alone, ${PROBE_COST_RUNS} runs; v4l2-ctl start-up, ${PROBE_COST_RUNS} runs`);
  const replayCost = await timeCommand(probe.command, node, PROBE_COST_RUNS, true);
  let v4l2CtlStartCost: LatencySummary | null = null;
  try {
    // Fails at once ("Cannot open device"): only its start-up and argument parsing.
    v4l2CtlStartCost = await timeCommand(
      'v4l2-ctl',
      join(dir, 'no-such-video0'),
      PROBE_COST_RUNS,
      false,
    );
  } catch {
    // not installed: nothing to say about it
  }
  return {
    kind: 'replay',
    description:
      `camera.probe_command is a /bin/sh script that cats captured \`v4l2-ctl --all ` +
      `--list-formats-ext\` output (${PROBE_FIXTURES.join(' + ')}) named in the node file, ` +
      'like test/fixtures/fake-v4l2-ctl without its Node start-up.',
    fixtures: [...PROBE_FIXTURES],
    replayCost,
    v4l2CtlStartCost,
    note:
      'What probing a real camera costs (v4l2-ctl opening the device and its ioctls) is NOT measured: ' +
      'there is no V4L2 device on this machine.',
  };
}

async function measure(
  context: SectionContext,
  settings: Settings,
  report: CamerasReport,
): Promise<void> {
  const bin = join(context.repoRoot, 'packages', 'server', 'dist', 'src', 'bin.js');
  const loadScript = join(context.distDir, 'load.js');
  const missing = [bin, loadScript].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new UsageError(`${missing.join(' and ')} missing: build first (npx tsc -b)`);
  }
  const probeDir = join(context.scratchDir, 'probe');
  const probe = writeProbeReplay(context.repoRoot, probeDir);
  report.probe = await measureProbe(probe, probeDir);

  let rig: Rig | undefined;
  try {
    say('server with hot-plug events on');
    rig = await startRig(context, 'events', probe, {
      CAMERA_SERVICE_CAMERA_HOTPLUG_EVENTS: 'true',
    });
    say(`server pid ${rig.server.pid}; ${WARMUP_PLUGS} + ${settings.samples} plugs, one at a time`);
    report.events = await detect(rig, {
      mode: 'events',
      samples: settings.samples,
      pauseMaxMs: EVENTS_PAUSE_MAX_MS,
      plugTimeoutMs: PLUG_TIMEOUT_MS,
      unplugTimeoutMs: DEBOUNCE_MS + POLL_INTERVAL_S * 1000 + PLUG_TIMEOUT_MS,
    });

    const beforePlug = readMemory(rig.server.pid)?.rssMb ?? null;
    say(`${LIST_CAMERAS} cameras plugged at once`);
    report.burst = await burst(
      rig,
      Array.from({ length: LIST_CAMERAS }, (_, i) => i),
    );
    const listed = await rig.client.getCameraList();
    if (listed.connected !== LIST_CAMERAS || listed.total !== LIST_CAMERAS) {
      throw new Error(
        `get_camera_list lists ${listed.total} cameras, ${listed.connected} connected; expected ` +
          `${LIST_CAMERAS} and ${LIST_CAMERAS}: ${JSON.stringify(listed.cameras.map((c) => [c.device, c.status, c.error]))}`,
      );
    }
    const afterPlug = readMemory(rig.server.pid)?.rssMb ?? null;
    const list: ListReport = {
      cameras: LIST_CAMERAS,
      clients: LIST_CLIENTS,
      resultBytes: Buffer.byteLength(JSON.stringify(listed)),
      serverRssMb: { beforePlug, afterPlug, afterLoad: null },
      open: null,
      baseline: null,
      closed: null,
      serverProblems: [],
      serverProblemCount: 0,
    };
    report.list = list;
    list.open = await loadRun(context, rig, settings, 'open', LIST_METHODS);
    list.baseline = await loadRun(context, rig, settings, 'open', BASELINE_METHODS);
    list.closed = await loadRun(context, rig, settings, 'closed', LIST_METHODS);
    list.serverRssMb.afterLoad = readMemory(rig.server.pid)?.rssMb ?? null;
    list.serverProblems = rig.server.problems;
    list.serverProblemCount = rig.server.problemCount;
    await stopRig(rig);
    rig = undefined;

    say('server with polling only (camera.hotplug_events: false)');
    rig = await startRig(context, 'polling', probe, {
      CAMERA_SERVICE_CAMERA_HOTPLUG_EVENTS: 'false',
    });
    say(
      `server pid ${rig.server.pid}; ${WARMUP_PLUGS} + ${settings.pollSamples} plugs at random phases of the poll`,
    );
    const pollMs = POLL_INTERVAL_S * 1000;
    const polling = await detect(rig, {
      mode: 'polling',
      samples: settings.pollSamples,
      pauseMaxMs: pollMs,
      plugTimeoutMs: pollMs + PLUG_TIMEOUT_MS,
      unplugTimeoutMs: DEBOUNCE_MS + pollMs + PLUG_TIMEOUT_MS,
    });
    // The probe and the delivery, as measured with events on (the slowest plug there),
    // on top of one poll interval; the target when that run is missing.
    const events = report.events;
    const rest = events?.plugToClient.maxMs ?? TARGET_DETECT_P99_MS;
    const basis = events
      ? `poll_interval ${pollMs} ms + the slowest plug with events on (${rest.toFixed(1)} ms: discovery, probe, path, delivery)`
      : `poll_interval ${pollMs} ms + ${TARGET_DETECT_P99_MS} ms (the events target)`;
    const boundMs = pollMs + rest;
    polling.bound = {
      ms: Math.round(boundMs * 1000) / 1000,
      basis,
      met: polling.plugToClient.maxMs <= boundMs,
    };
    report.polling = polling;
  } finally {
    await stopRig(rig);
  }
}

export const camerasSection: Section = {
  name: 'cameras',
  summary:
    'camera hot-plug to camera_status_update (events and polling), and get_camera_list with 16 cameras and 100 clients',
  async run(context) {
    const settings = readSettings(context.env);
    const report: CamerasReport = {
      generatedAt: new Date().toISOString(),
      machine: {
        cores: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown CPU',
        node: process.version,
        platform: process.platform,
      },
      settings: {
        samples: settings.samples,
        pollSamples: settings.pollSamples,
        warmupSamples: WARMUP_PLUGS,
        seconds: settings.seconds,
        rate: settings.rate,
        client: settings.client,
        camerasForList: LIST_CAMERAS,
        clientsForList: LIST_CLIENTS,
        warmupSeconds: WARMUP_MS / 1000,
        drainSeconds: DRAIN_MS / 1000,
      },
      probe: {
        kind: 'replay',
        description: 'not run',
        fixtures: [...PROBE_FIXTURES],
        replayCost: null,
        v4l2CtlStartCost: null,
        note: '',
      },
      events: null,
      polling: null,
      burst: null,
      list: null,
      targets: [],
      error: null,
    };
    const started = performance.now();
    try {
      await measure(context, settings, report);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      report.error = error instanceof Error ? error.message : String(error);
    }
    say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    report.targets = evaluateTargets(report);
    return { report, text: formatCamerasReport(report), error: report.error };
  },
};
