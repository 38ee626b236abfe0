/**
 * The ffmpeg runner: its lifecycle against a stand-in ffmpeg (test/fixtures/stand-in/ffmpeg)
 * that can be told to ignore signals or fail on cue, and the -progress parser on the
 * blocks real ffmpeg writes. Media runs through real ffmpeg in capture.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseProgress, runFfmpeg, runningFfmpegCount } from '../../src/capture/index.js';
import { createLogger } from '../../src/logging/index.js';
import { LogSink } from '../helpers/log-sink.js';
import { within } from '../helpers/wait.js';

const STAND_IN = fileURLToPath(new URL('../../../test/fixtures/stand-in/ffmpeg', import.meta.url));
chmodSync(STAND_IN, 0o755);

function logger() {
  const sink = new LogSink();
  const { logger: log } = createLogger({
    level: 'debug',
    format: 'json',
    environment: 'development',
    destination: sink,
  });
  return { log, sink };
}

function standIn(mode: string, extra: Partial<Parameters<typeof runFfmpeg>[0]> = {}) {
  return runFfmpeg({
    name: `stand-in ${mode}`,
    args: ['-standin', mode],
    ffmpeg: STAND_IN,
    log: logger().log,
    graceMs: 300,
    ...extra,
  });
}

/** Whether a process runs: it exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the ffmpeg runner', () => {
  it('reports progress blocks as numbers, and a clean SIGINT stop as ok', async () => {
    const run = standIn('run');
    const progress = await within(
      new Promise<ReturnType<typeof parseProgress>>((resolve) => run.once('progress', resolve)),
      5000,
      'a progress block',
    );
    assert.equal(progress.state, 'continue');
    assert.ok((progress.frame ?? 0) >= 1);
    assert.equal(progress.fps, 10);
    assert.equal(progress.outTimeSeconds, (progress.frame ?? 0) * 0.1);
    const exit = await within(run.stop(), 5000, 'the stop');
    assert.equal(exit.code, 255);
    assert.equal(exit.stopped, true);
    assert.equal(exit.ok, true);
    assert.equal(exit.timedOut, false);
    assert.ok(exit.stderrTail.includes('Exiting normally, received signal 2.'));
  });

  it('escalates to SIGTERM when ffmpeg ignores SIGINT', async () => {
    const run = standIn('deaf-int');
    await new Promise((resolve) => run.once('progress', resolve));
    const exit = await within(run.stop(), 5000, 'the stop');
    assert.equal(exit.code, 255);
    assert.ok(exit.elapsedMs >= 300, `stopped after ${exit.elapsedMs} ms, before the grace`);
  });

  it('escalates to SIGKILL of the whole process group when nothing else works', async () => {
    const run = standIn('grandchild');
    const line = await within(
      new Promise<string>((resolve) => {
        const onLine = (l: string) => {
          if (!l.startsWith('grandchild ')) return;
          run.off('stderr', onLine);
          resolve(l);
        };
        run.on('stderr', onLine);
      }),
      5000,
      'the grandchild pid',
    );
    const grandchild = Number(line.split(' ')[1]);
    assert.ok(alive(grandchild));
    const exit = await within(run.stop(), 5000, 'the stop');
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.ok, false, 'a kill is not a clean stop');
    // The grandchild was in ffmpeg's group: the same SIGKILL ended it.
    const deadline = Date.now() + 5000;
    while (alive(grandchild) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(alive(grandchild), false, 'the grandchild outlived the stop');
  });

  it('stops a run that passes its time limit, and says so', async () => {
    const exit = await within(standIn('run', { timeoutMs: 200 }).done, 5000, 'the time limit');
    assert.equal(exit.timedOut, true);
    assert.equal(exit.stopped, true);
  });

  it('keeps the stderr tail of a failure, and is not ok', async () => {
    const exit = await within(standIn('fail').done, 5000, 'the exit');
    assert.equal(exit.code, 1);
    assert.equal(exit.ok, false);
    assert.deepEqual(exit.stderrTail, [
      '[in#0] Error opening input: No such file or directory',
      'Error opening input files: No such file or directory',
    ]);
  });

  it('collects stdout when asked (an image on pipe:1)', async () => {
    const run = standIn('image', { captureStdout: true });
    const exit = await within(run.done, 5000, 'the exit');
    assert.equal(exit.code, 0);
    assert.equal(run.stdout().toString(), 'JPEGDATA');
  });

  it('says ffmpeg is missing when it is not installed', async () => {
    const exit = await within(
      runFfmpeg({ name: 'missing', args: [], ffmpeg: '/nonexistent/ffmpeg', log: logger().log })
        .done,
      5000,
      'the exit',
    );
    assert.equal(exit.ok, false);
    assert.match(exit.stderrTail.join('\n'), /was not found: install ffmpeg/);
  });

  it('ends an ffmpeg whose service was killed outright (SIGKILL): no orphan', async () => {
    // A service in a process of its own, running the stand-in through the real runner.
    const runner = new URL('../../src/capture/index.js', import.meta.url).href;
    const logging = new URL('../../src/logging/index.js', import.meta.url).href;
    const script = [
      `const { runFfmpeg } = await import(${JSON.stringify(runner)});`,
      `const { createLogger } = await import(${JSON.stringify(logging)});`,
      "const { logger } = createLogger({ level: 'silent', format: 'json', environment: 'production' });",
      `const run = runFfmpeg({ name: 'orphan', args: ['-standin', 'run'], ffmpeg: ${JSON.stringify(STAND_IN)}, log: logger });`,
      "run.once('progress', () => process.stdout.write(`${run.pid}\\n`));",
    ].join('\n');
    const service = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await within(once(service.stdout, 'data'), 10_000, 'the ffmpeg pid')) as [
      Buffer,
    ];
    const pid = Number(line.toString().trim());
    assert.ok(alive(pid));
    service.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(alive(pid), false, 'the ffmpeg outlived its killed service');
  });

  it('counts no run once every run has ended', () => {
    assert.equal(runningFfmpegCount(), 0);
  });
});

describe('parseProgress', () => {
  it('reads a block as real ffmpeg writes it', () => {
    const block = [
      'frame=31',
      'fps=10.00',
      'stream_0_0_q=-1.0',
      'bitrate= 244.2kbits/s',
      'total_size=94256',
      'out_time_us=3088000',
      'out_time_ms=3088000',
      'out_time=00:00:03.088000',
      'dup_frames=0',
      'drop_frames=0',
      'speed=1.01x',
      'progress=continue',
      '',
    ].join('\n');
    assert.deepEqual(parseProgress(block), {
      frame: 31,
      fps: 10,
      outTimeSeconds: 3.088,
      totalSize: 94256,
      speed: 1.01,
      state: 'continue',
    });
  });

  it('reads N/A and missing values as null', () => {
    assert.deepEqual(parseProgress('total_size=N/A\nout_time_us=N/A\nspeed=N/A\nprogress=end\n'), {
      frame: null,
      fps: null,
      outTimeSeconds: null,
      totalSize: null,
      speed: null,
      state: 'end',
    });
  });

  it('never throws on garbage', () => {
    for (const text of ['', '=', '==\n=\n', 'frame=abc\nfps=\u0000', 'x'.repeat(10_000)]) {
      const parsed = parseProgress(text);
      assert.equal(parsed.frame, null);
    }
  });
});
