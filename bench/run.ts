/**
 * `npm run bench [section...]`: the performance figures of the service, by section.
 *
 *   rpc      WebSocket JSON-RPC throughput and latency, and what authenticating costs
 *   relay    the embedded RTSP relay's fan-out
 *   media    the media plane: camera path create latency, path creation to stream ready
 *   cameras  hot-plug detection latency (events, polling), get_camera_list under load
 *   capture  snapshot latency (active, idle stream), recording start, first fragment, stop
 *   files    list_recordings on 10,000 files, download throughput beside nginx
 *   abuse    memory and descriptors under each abuse case; the cost of stream authentication
 *   python   the Python SDK: ping calls/s at C=1 and C=10, download_file beside curl
 *   sdk      the TypeScript SDK over a raw WebSocket (C=1, C=100), its downloads beside curl
 *   live     the dashboard's MSE path: server CPU per live viewer, first fragment, latency
 *   dashboard  the dashboard in Chromium: first frame and glass-to-glass latency per player
 *            path, server CPU per MSE viewer, bundle size
 *
 * With no names, every section runs, one after the other (never at the same time: each
 * measures CPU, and two would disturb each other). Each writes .bench/<section>.json and
 * prints its report. Exits 0 when every section ran, whether or not its targets were
 * met; 1 when one could not run (the others still run and are written); 2 on bad usage.
 * Each section's settings come from the environment: see its file (rpc-bench.ts,
 * relay-bench.ts, media-bench.ts, cameras-bench.ts, capture-bench.ts, files-bench.ts,
 * abuse-bench.ts, python-bench.ts, sdk-bench.ts, live-bench.ts, dashboard-bench.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abuseSection } from './abuse-bench.js';
import { camerasSection } from './cameras-bench.js';
import { captureSection } from './capture-bench.js';
import { dashboardSection } from './dashboard-bench.js';
import { filesSection } from './files-bench.js';
import { killTracked } from './children.js';
import { liveSection } from './live-bench.js';
import { mediaSection } from './media-bench.js';
import { pythonSection } from './python-bench.js';
import { relaySection } from './relay-bench.js';
import { rpcSection } from './rpc-bench.js';
import { sdkSection } from './sdk-bench.js';
import { UsageError, type Section } from './section.js';

/** bench/dist/run.js → the repository root. */
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');
const OUTPUT_DIR = join(REPO_ROOT, '.bench');

const SECTIONS: readonly Section[] = [
  rpcSection,
  relaySection,
  mediaSection,
  camerasSection,
  captureSection,
  filesSection,
  abuseSection,
  pythonSection,
  sdkSection,
  liveSection,
  dashboardSection,
];

function usage(): string {
  const width = Math.max(...SECTIONS.map((s) => s.name.length));
  return [
    'usage: npm run bench [-- section...]',
    '',
    'sections (all when none is named):',
    ...SECTIONS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
  ].join('\n');
}

function chooseSections(args: readonly string[]): Section[] {
  if (args.length === 0) return [...SECTIONS];
  return args.map((name) => {
    const section = SECTIONS.find((s) => s.name === name);
    if (!section) throw new UsageError(`unknown section "${name}"\n${usage()}`);
    return section;
  });
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const sections = chooseSections(args);
  const scratchRoot = mkdtempSync(join(tmpdir(), 'camera-service-bench-'));
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`[bench] ${signal}: stopping every process the bench started\n`);
      killTracked();
      rmSync(scratchRoot, { recursive: true, force: true });
      process.exit(128 + number);
    });
  }
  const failed: string[] = [];
  try {
    for (const section of sections) {
      process.stderr.write(`[bench] section ${section.name}\n`);
      const scratchDir = join(scratchRoot, section.name);
      mkdirSync(scratchDir);
      let result;
      try {
        result = await section.run({
          repoRoot: REPO_ROOT,
          distDir: HERE,
          scratchDir,
          env: process.env,
        });
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        failed.push(`${section.name}: ${message}`);
        continue;
      } finally {
        killTracked();
      }
      const output = join(OUTPUT_DIR, `${section.name}.json`);
      mkdirSync(OUTPUT_DIR, { recursive: true });
      writeFileSync(output, `${JSON.stringify(result.report, null, 2)}\n`);
      process.stdout.write(`\n${result.text}Full results: ${output}\n`);
      if (result.error !== null) failed.push(`${section.name}: ${result.error}`);
    }
  } finally {
    rmSync(scratchRoot, { recursive: true, force: true });
  }
  for (const failure of failed) process.stderr.write(`[bench] could not run ${failure}\n`);
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    killTracked();
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[bench] failed: ${message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
