/**
 * The "abuse" section: the real service (a child process, embedded relay, a declared
 * test pattern) under each abuse case a security review found, with its resident memory
 * and open file descriptors sampled before and after (and at the peak where it matters),
 * and what stream authentication costs a viewer: time to the first decoded frame over
 * RTSP with and without a credential check (anonymous viewing switched live by SIGHUP).
 *
 * Every case is bounded in count and time. Environment: BENCH_ABUSE_PIPELINE_MB (default
 * 60), BENCH_ABUSE_IDLE_RTSP (idle connections, default 2000), BENCH_ABUSE_PROBES
 * (default 200), BENCH_ABUSE_TTFF (first-frame samples per mode, default 20).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  anonymousHolders,
  crashTargets,
  ffprobeFanout,
  loginFlood,
  openFds,
  pausedDownloads,
  rtspIdle,
  rtspPipelined,
  timeToFirstFrame,
  type Outcome,
  type Target,
} from './abuse-cases.js';
import { makeCredentials } from './auth.js';
import { terminate, track } from './children.js';
import { fmtMs } from './format.js';
import { readMemory } from './proc.js';
import { envNumber, measured, type Section, type SectionContext } from './section.js';
import { startServer, type ServerHandle } from './server-process.js';
import type { LatencySummary } from './stats.js';

interface Sample {
  rssMb: number | null;
  fds: number | null;
}

interface CaseResult {
  name: string;
  before: Sample;
  after: Sample;
  outcome: Outcome | null;
  error: string | null;
}

export interface AbuseReport {
  settings: { pipelineMb: number; idleRtsp: number; probes: number; ttffSamples: number };
  cases: CaseResult[];
  firstFrame: {
    anonymous: LatencySummary | null;
    queryToken: LatencySummary | null;
    keyAsPassword: LatencySummary | null;
  };
  error: string | null;
}

const config = (dir: string) =>
  [
    'cameras:',
    '  - id: test0',
    '    test_pattern: { size: 320x240, fps: 10, clock: false }',
    'server:',
    '  download_idle_timeout_seconds: 3',
    'mediamtx:',
    '  read_timeout_seconds: 3',
    '  write_timeout_seconds: 3',
    'auth:',
    `  anonymous_viewing: ${dir === 'anonymous' ? 'true' : 'false'}`,
    '',
  ].join('\n');

function sample(pid: number): Sample {
  return { rssMb: readMemory(pid)?.rssMb ?? null, fds: openFds(pid) };
}

async function measure(context: SectionContext, report: AbuseReport): Promise<void> {
  const say = (text: string) => process.stderr.write(`[bench] abuse: ${text}\n`);
  const dir = context.scratchDir;
  const configFile = join(dir, 'abuse.yml');
  writeFileSync(configFile, config('protected'));
  const credentials = await makeCredentials(join(dir, 'api-keys.json'));
  const recordingsDir = join(dir, 'recordings');
  mkdirSync(recordingsDir, { recursive: true });
  // One small real recording (2 s, 320x240), copied for the ffprobe fan-out.
  const sampleFile = join(dir, 'sample.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-t', '2'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', sampleFile],
  ]);
  const bigFile = 'bench_2026-01-02_00-00-00.mp4';
  execFileSync('dd', [
    'if=/dev/zero',
    `of=${join(recordingsDir, bigFile)}`,
    'bs=1M',
    'count=64',
    'status=none',
  ]);
  let server: ServerHandle | undefined;
  let reader: ChildProcess | undefined;
  let onReload: (() => void) | undefined;
  try {
    server = await startServer({
      onLog: (entry) => {
        if (entry.msg === 'configuration reloaded') onReload?.();
      },
      repoRoot: context.repoRoot,
      scratchDir: dir,
      maxConnections: 100,
      maxConnectionsPerIp: 20,
      startTimeoutMs: 20_000,
      jwtSecret: credentials.jwtSecret,
      apiKeysFile: credentials.apiKeysFile,
      rateLimit: { requestsPerSecond: 2000, burst: 2000 },
      configFile,
    });
    const health = (await (await fetch(`${server.healthUrl}/health/mediamtx`)).json()) as {
      details: { ports: { rtsp: number } };
    };
    const target: Target = {
      pid: server.pid,
      wsUrl: server.wsUrl,
      healthUrl: server.healthUrl,
      apiPort: Number(new URL(server.wsUrl).port),
      rtspPort: health.details.ports.rtsp,
      credentials,
      recordingsDir,
    };
    const cases: [string, () => Promise<Outcome>][] = [
      ['upgrade targets that used to crash it (x1,000)', () => crashTargets(target)],
      [
        `RTSP: ${report.settings.pipelineMb} MB of pipelined OPTIONS, never read`,
        () => rtspPipelined(target, report.settings.pipelineMb),
      ],
      [
        `RTSP: ${report.settings.idleRtsp} idle connections`,
        () => rtspIdle(target, report.settings.idleRtsp),
      ],
      ['WebSocket: 5 addresses x 20 anonymous, then an admin', () => anonymousHolders(target)],
      [
        `${report.settings.probes} concurrent get_recording_info`,
        () => ffprobeFanout(target, sampleFile, report.settings.probes),
      ],
      [
        '16 downloads that never read, then another address',
        () => pausedDownloads(target, bigFile),
      ],
      ['1,000 failed logins, then a valid token', () => loginFlood(target)],
    ];
    for (const [name, run] of cases) {
      say(name);
      const before = sample(server.pid);
      let outcome: Outcome | null = null;
      let error: string | null = null;
      try {
        outcome = await run();
      } catch (e) {
        error = (e as Error).message;
      }
      // Let closes and timers settle before the after-sample.
      await new Promise((r) => setTimeout(r, 1000));
      report.cases.push({ name, before, after: sample(server.pid), outcome, error });
    }

    say(`${report.settings.ttffSamples} first frames per mode, with and without stream auth`);
    // A reader keeps the stream running, so both modes measure the same warm path.
    const token = credentials.adminJwt;
    const url = `rtsp://127.0.0.1:${target.rtspPort}/test0`;
    const withToken = `rtsp://127.0.0.1:${target.rtspPort}/test0?token=${token}`;
    const withKey = `rtsp://bench:${credentials.apiKey}@127.0.0.1:${target.rtspPort}/test0`;
    reader = spawn(
      'ffmpeg',
      ['-v', 'error', '-rtsp_transport', 'tcp', '-i', withToken, '-f', 'null', '-'],
      {
        stdio: 'ignore',
      },
    );
    track(reader);
    await timeToFirstFrame(withToken, 1); // waits until the stream is up
    report.firstFrame.queryToken = await timeToFirstFrame(withToken, report.settings.ttffSamples);
    report.firstFrame.keyAsPassword = await timeToFirstFrame(withKey, report.settings.ttffSamples);
    writeFileSync(configFile, config('anonymous'));
    const reloaded = new Promise<void>((resolve) => (onReload = resolve));
    process.kill(server.pid, 'SIGHUP');
    await reloaded;
    report.firstFrame.anonymous = await timeToFirstFrame(url, report.settings.ttffSamples);
  } finally {
    if (reader) await terminate(reader, 2000);
    await server?.stop();
  }
}

function format(report: AbuseReport): string {
  const mb = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));
  const lines = [
    'abuse',
    '-----',
    'The real service (embedded relay) under each abuse case; RSS in MB and open descriptors',
    'before -> after.',
  ];
  for (const c of report.cases) {
    lines.push(
      `  ${c.name}: RSS ${mb(c.before.rssMb)} -> ${mb(c.after.rssMb)} MB, fds ${c.before.fds ?? 'n/a'} -> ${c.after.fds ?? 'n/a'}`,
    );
    if (c.outcome) {
      const parts = Object.entries(c.outcome).map(([k, v]) =>
        typeof v === 'object' && v !== null ? `${k} p50 ${fmtMs(v.p50Ms)} ms` : `${k} ${String(v)}`,
      );
      lines.push(`      ${parts.join(', ')}`);
    }
    if (c.error) lines.push(`      FAILED: ${c.error}`);
  }
  const ttff = (label: string, s: LatencySummary | null) =>
    s === null
      ? `  ${label}: n/a`
      : `  ${label}: p50 ${fmtMs(s.p50Ms)} ms, p90 ${fmtMs(s.p90Ms)} ms, max ${fmtMs(s.maxMs)} ms (N = ${s.count})`;
  lines.push(
    'Time to first frame over RTSP (ffmpeg, stream running):',
    ttff('anonymous viewing (no check)', report.firstFrame.anonymous),
    ttff('a JWT in ?token= (checked, then cached)', report.firstFrame.queryToken),
    ttff('an API key as the password (401, then Basic)', report.firstFrame.keyAsPassword),
  );
  if (report.error !== null) lines.push(`  FAILED: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

export const abuseSection: Section = {
  name: 'abuse',
  summary: 'memory and descriptors under each abuse case; the cost of stream authentication',
  async run(context) {
    const report: AbuseReport = {
      settings: {
        pipelineMb: Math.round(envNumber(context.env, 'BENCH_ABUSE_PIPELINE_MB', 60, 1000)),
        idleRtsp: Math.round(envNumber(context.env, 'BENCH_ABUSE_IDLE_RTSP', 2000, 20_000)),
        probes: Math.round(envNumber(context.env, 'BENCH_ABUSE_PROBES', 200, 2000)),
        ttffSamples: Math.round(envNumber(context.env, 'BENCH_ABUSE_TTFF', 20, 200)),
      },
      cases: [],
      firstFrame: { anonymous: null, queryToken: null, keyAsPassword: null },
      error: null,
    };
    return measured(context, report, measure, format);
  },
};
