/**
 * The client docs' examples work verbatim: every `ts` and `sh` block of
 * docs/clients/typescript.md, docs/clients/cli.md and packages/sdk/README.md runs, in
 * order, against the real service (started by the test with the test-pattern camera
 * test0), with CAMERA_URL and CAMERA_TOKEN set as the docs say. ts blocks are type-checked
 * and run with node; sh blocks run in bash (`set -eo pipefail`, exports carry on). The
 * blocks are found by the README test's extractor (test/docs/readme-blocks.ts); a block
 * it cannot run says why in its marker.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { JwtService } from '../../src/index.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { killService, serviceEnv, startService, type ServiceProcess } from '../helpers/process.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { readmeBlocks, type ReadmeBlock } from '../docs/readme-blocks.js';

const DOCS = ['docs/clients/typescript.md', 'docs/clients/cli.md', 'packages/sdk/README.md'];
/** Inside the repository, so that node and npx find the workspace packages. */
const SCRATCH = join(REPO_ROOT, 'node_modules', '.cache', 'clients-docs-test');

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: SCRATCH, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Type-checks every ts block at once, as modules of this workspace. */
function typeCheck(blocks: { file: string; block: ReadmeBlock; path: string }[]): string[] {
  for (const b of blocks) writeFileSync(b.path, b.block.code);
  const program = ts.createProgram(
    blocks.map((b) => b.path),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
    },
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = blocks.find((b) => b.path === d.file?.fileName);
    const line =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    return `${where?.file}:${(where?.block.line ?? 0) + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('the client docs, verbatim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'camera-clients-docs-'));
  let service: (ServiceProcess & { wsUrl: string }) | undefined;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    rmSync(SCRATCH, { recursive: true, force: true });
    mkdirSync(SCRATCH, { recursive: true });
    service = await startService(
      [],
      serviceEnv(dir, {
        CAMERA_SERVICE_CAMERAS: '[{id: test0, test_pattern: {size: 320x240, fps: 10}}]',
      }),
    );
    const token = await new JwtService(TEST_JWT_SECRET).mint({
      role: 'admin',
      subject: 'docs-test',
      ttlSeconds: 3600,
    });
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('CAMERA_')),
    );
    env = { ...inherited, HOME: dir, CAMERA_URL: service.wsUrl, CAMERA_TOKEN: token };
  });
  after(async () => {
    if (service) await killService(service);
    rmSync(dir, { recursive: true, force: true });
    rmSync(SCRATCH, { recursive: true, force: true });
  });

  it('every ts block type-checks', () => {
    const blocks = DOCS.flatMap((file) =>
      readmeBlocks(join(REPO_ROOT, file))
        .filter((block) => block.mode === 'run' && block.lang === 'ts')
        .map((block) => ({
          file,
          block,
          path: join(SCRATCH, `${file.replace(/\W/g, '_')}-${block.line}.mts`),
        })),
    );
    assert.ok(blocks.length >= 7, `${blocks.length} ts blocks`);
    assert.deepEqual(typeCheck(blocks), []);
  });

  for (const file of DOCS) {
    it(`runs every block of ${file}, in order`, async (t) => {
      const blocks = readmeBlocks(join(REPO_ROOT, file));
      assert.ok(
        blocks.some((b) => b.mode === 'run'),
        `${file} has blocks to run`,
      );
      for (const block of blocks) {
        if (block.mode !== 'run') {
          t.diagnostic(
            `line ${block.line} (${block.lang || 'plain'}): ${block.mode}: ${block.reason}`,
          );
          continue;
        }
        if (block.lang === 'ts') {
          const js = ts.transpileModule(block.code, {
            compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
          }).outputText;
          const out = join(SCRATCH, `${file.replace(/\W/g, '_')}-${block.line}.mjs`);
          writeFileSync(out, js);
          const result = await run(process.execPath, [out], env);
          assert.equal(
            result.code,
            0,
            `${file}:${block.line} (ts):\n${result.stdout}${result.stderr}`,
          );
          continue;
        }
        const envFile = join(SCRATCH, 'env');
        const script = `set -eo pipefail\n${block.code}\nenv -0 > ${JSON.stringify(envFile)}\n`;
        const result = await run('bash', ['-c', script], env);
        assert.equal(
          result.code,
          0,
          `${file}:${block.line} (sh):\n${result.stdout}${result.stderr}`,
        );
        for (const entry of readFileSync(envFile, 'utf8').split('\0')) {
          const eq = entry.indexOf('=');
          if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
      }
    });
  }
});
