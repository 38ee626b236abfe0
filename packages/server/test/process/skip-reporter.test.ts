/**
 * scripts/skip-reporter.mjs, which lets run-tests.mjs name every skip: it reports a
 * skipped test and a skipped suite (which Node's summary does not count), with reasons.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { tempDir, writeFile } from '../helpers/files.js';
import { REPO_ROOT } from '../helpers/repo.js';

it('reports each skipped test and suite with its file and reason, and nothing else', () => {
  const dir = tempDir();
  const file = writeFile(
    dir,
    'fixture.test.mjs',
    `import { describe, it } from 'node:test';
     describe('needs a file', { skip: 'the file is absent' }, () => { it('a', () => {}); });
     it('inside', (t) => { t.skip('no birth time here'); });
     it('bare', { skip: true }, () => {});
     it('runs', () => {});`,
  );
  const run = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-reporter=${join(REPO_ROOT, 'scripts', 'skip-reporter.mjs')}`,
      '--test-reporter-destination=stdout',
      file,
    ],
    { encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  assert.equal(run.status, 0, run.stderr);
  const skips = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  assert.deepEqual(skips, [
    { file, name: 'bare', reason: '(no reason given)', suite: false },
    { file, name: 'inside', reason: 'no birth time here', suite: false },
    { file, name: 'needs a file', reason: 'the file is absent', suite: true },
  ]);
});
