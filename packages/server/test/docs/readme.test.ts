/**
 * The README's code blocks work verbatim on this checkout: the Quick start's `npm start`
 * starts the service on its defaults (as a new user runs it), then every other block
 * runs against it in order, as a user would paste it into one shell: `sh` blocks in
 * bash (variables they export carry on), `ts` blocks type-checked and run with node, the
 * WebSocket transcript replayed line by line. A block the test cannot run says why in its
 * marker (see readme-blocks.ts).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { WebSocket } from 'ws';
import { waitForEvent } from '../helpers/wait.js';
import { REPO_ROOT, pendingInstall } from '../helpers/repo.js';
import { readmeBlocks, type ReadmeBlock } from './readme-blocks.js';

const ROOT = REPO_ROOT;
const README = join(ROOT, 'README.md');
/** Where a ts block is written: inside the repository, so that node finds the workspace packages. */
const SCRATCH = join(ROOT, 'node_modules', '.cache', 'readme-test');
/** The ports the README's URLs name: the service's defaults. */
const DEFAULT_PORTS = [8002, 8003, 8554, 8888, 9997];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** Runs a sh block in bash from the repository root; returns its output and what it exported. */
function runSh(block: ReadmeBlock, env: NodeJS.ProcessEnv) {
  const envFile = join(SCRATCH, 'env');
  const script = `set -eo pipefail\n${block.code}\nenv -0 > ${JSON.stringify(envFile)}\n`;
  const result = spawnSync('bash', ['-c', script], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const exported: NodeJS.ProcessEnv = {};
  if (result.status === 0) {
    for (const entry of readFileSync(envFile, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) exported[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, exported };
}

/** Type-checks a ts block as a module of this workspace, then runs it with node. */
function runTs(block: ReadmeBlock, env: NodeJS.ProcessEnv) {
  const file = join(SCRATCH, `block-${block.line}.mts`);
  writeFileSync(file, block.code);
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
  };
  const program = ts.createProgram([file], options);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, [], `the README's ts block at line ${block.line} does not type-check`);
  const js = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const out = join(SCRATCH, `block-${block.line}.mjs`);
  writeFileSync(out, js);
  return spawnSync(process.execPath, [out], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
}

/** Replays `> request` lines on a WebSocket and checks each `< answer` line's shape. */
async function runTranscript(block: ReadmeBlock, token: string): Promise<void> {
  const [command, ...lines] = block.code.split('\n');
  const url = /(ws:\/\/\S+)/.exec(command ?? '')?.[1];
  assert.ok(url, `the transcript at line ${block.line} names no ws:// URL`);
  const ws = new WebSocket(url);
  await waitForEvent(ws, 'open');
  try {
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i] as string;
      if (!line.startsWith('> ')) continue;
      const request = line.slice(2).replace('<token or key>', token);
      ws.send(request);
      const [data] = await waitForEvent<[Buffer]>(ws, 'message');
      const answer = JSON.parse(data.toString()) as Record<string, unknown>;
      const expected = JSON.parse(String(lines[i + 1] ?? '< {}').slice(2)) as Record<
        string,
        unknown
      >;
      // Same keys and literal values; "..." stands for what differs every time.
      assert.deepEqual(like(answer, expected), expected, `after ${request}`);
    }
  } finally {
    ws.close();
  }
}

/** `actual` with every value the transcript shows as "..." replaced by "...". */
function like(actual: unknown, expected: unknown): unknown {
  if (expected === '...') return '...';
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.map((v, i) => like(v, expected[i]));
  }
  if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected) {
    return Object.fromEntries(
      Object.entries(actual).map(([k, v]) => [
        k,
        like(v, (expected as Record<string, unknown>)[k]),
      ]),
    );
  }
  return actual;
}

describe('the README, verbatim', () => {
  const blocks = readmeBlocks(README);
  let service: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv = { ...process.env };
  let skipped: string | null = null;

  before(async () => {
    mkdirSync(SCRATCH, { recursive: true });
    skipped = pendingInstall();
    if (skipped) return;
    const busy = [];
    for (const port of DEFAULT_PORTS) if (!(await portFree(port))) busy.push(port);
    if (busy.length > 0) {
      skipped = `the README's default ports ${busy.join(', ')} are taken on this machine`;
      return;
    }
    // The service's own variables from the test runner's environment would change it.
    env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('CAMERA_SERVICE_')),
    );
    const start = blocks.find((b) => b.mode === 'start');
    assert.ok(start, 'the Quick start block is marked readme-test: start');
    const command = (start.code.split('\n')[0] ?? '').replace(/\s+#.*$/, '');
    service = spawn('bash', ['-c', `exec ${command}`], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/"msg":"listening"/.test(output)) resolve();
      };
      service!.stdout!.on('data', onData);
      service!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      service!.once('exit', (code) =>
        reject(new Error(`npm start exited with ${code}:\n${output}`)),
      );
      setTimeout(
        () => reject(new Error(`npm start did not listen within 90 s:\n${output}`)),
        90_000,
      );
    });
    await listening;
  });

  after(async () => {
    if (service?.pid && service.exitCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve));
      process.kill(-service.pid, 'SIGTERM');
      await exited;
    }
    rmSync(SCRATCH, { recursive: true, force: true });
    // What a block downloaded into the working directory.
    if (env.SNAPSHOT) rmSync(join(ROOT, env.SNAPSHOT), { force: true });
  });

  it('runs every block it can, in order, and names those it cannot', async (t) => {
    if (skipped) {
      t.skip(skipped);
      return;
    }
    for (const block of blocks) {
      if (block.mode === 'skip' || block.mode === 'start') {
        t.diagnostic(
          `line ${block.line} (${block.lang || 'plain'}): ${block.mode}${block.reason ? `: ${block.reason}` : ''}`,
        );
        continue;
      }
      if (block.mode === 'transcript') {
        await runTranscript(block, String(env.CAMERA_TOKEN));
        continue;
      }
      if (block.lang === 'ts') {
        const result = runTs(block, env);
        assert.equal(
          result.status,
          0,
          `ts block at line ${block.line}:\n${result.stdout}${result.stderr}`,
        );
        // The example prints the snapshot it took: `<file name> <tier> <ms>`.
        const shot = /^(\S+\.jpg) \d \d+$/m.exec(result.stdout);
        if (shot) env = { ...env, SNAPSHOT: shot[1] };
        continue;
      }
      const result = runSh(block, env);
      assert.equal(
        result.status,
        0,
        `sh block at line ${block.line}:\n${result.stdout}${result.stderr}`,
      );
      env = { ...env, ...result.exported };
    }
  });
});
