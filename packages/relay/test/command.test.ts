/** Commands run as MediaMTX runs them: real processes, no shell. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CommandSupervisor, type CommandExit, type CommandOptions } from '../src/index.js';

/** A program that writes the arguments it was given, as JSON, to the file named first. */
const RECORD_ARGS =
  `${process.execPath} -e ` +
  `'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))'`;

const ENV = { MTX_PATH: 'cam0', RTSP_PATH: 'cam0', RTSP_PORT: '8554', MTX_QUERY: 'a%3D1' };

/** Runs a command to its end; resolves with how it ended. */
async function runToEnd(options: Partial<CommandOptions>): Promise<CommandExit> {
  const command = new CommandSupervisor({ env: ENV, restart: false, ...options });
  const exited = once(command, 'exited', { signal: AbortSignal.timeout(20_000) });
  command.start();
  const [exit] = (await exited) as [CommandExit];
  await command.stop();
  return exit;
}

const scratch = () => mkdtempSync(join(tmpdir(), 'relay-command-'));

describe('commands without a shell', () => {
  it('passes redirections, pipes, && and $(...) to the program as arguments', async () => {
    const out = join(scratch(), 'args.json');
    const exit = await runToEnd({
      command: `${RECORD_ARGS} ${out} a && b | c; d > e 2>>f $(g)`,
    });
    assert.equal(exit.code, 0, exit.stderrTail);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), [
      'a',
      '&&',
      'b',
      '|',
      'c;',
      'd',
      '>',
      'e',
      '2>>f',
      '$(g)',
    ]);
  });

  it('never creates the file of a 2>> redirection (sh -c "echo hi" 2>>file)', async () => {
    const log = join(scratch(), 'x.log');
    const exit = await runToEnd({ command: `sh -c "echo hi" 2>>${log}` });
    assert.equal(exit.code, 0);
    assert.equal(existsSync(log), false, 'the redirection was an argument of sh, not done');
  });

  it('expands $MTX_PATH and ${RTSP_PORT} inside quotes, after splitting', async () => {
    const out = join(scratch(), 'args.json');
    await runToEnd({
      command: `${RECORD_ARGS} ${out} '$MTX_PATH' "rtsp://h:\${RTSP_PORT}/$RTSP_PATH" $MTX_QUERY $NO_SUCH_VARIABLE_X`,
    });
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), [
      'cam0',
      'rtsp://h:8554/cam0',
      'a%3D1',
      '',
    ]);
  });

  it('gives the program the variables in its environment too', async () => {
    const out = join(scratch(), 'env.json');
    await runToEnd({
      argv: [
        process.execPath,
        '-e',
        'require("fs").writeFileSync(process.argv[1], JSON.stringify([process.env.MTX_PATH, process.env.RTSP_PORT, process.env.MTX_QUERY, process.env.PATH === undefined]))',
        out,
      ],
    });
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ['cam0', '8554', 'a%3D1', false]);
  });

  it('runs argv exactly: nothing split or expanded', async () => {
    const out = join(scratch(), 'args.json');
    await runToEnd({
      argv: [
        process.execPath,
        '-e',
        'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))',
        out,
        '$MTX_PATH',
        'a b',
        "'q'",
      ],
    });
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ['$MTX_PATH', 'a b', "'q'"]);
  });
});

describe('commands that cannot run', () => {
  it('a program not in PATH exits at once, with a sentence saying there is no shell', async () => {
    const exit = await runToEnd({ command: 'no-such-program-relay-test --flag' });
    assert.equal(exit.code, null);
    assert.match(
      exit.error ?? '',
      /cannot run "no-such-program-relay-test": no such program in PATH/,
    );
    assert.match(exit.error ?? '', /without a shell/);
  });

  it('a shell built-in is not a program: `cd /tmp && ffmpeg ...` cannot run', async () => {
    const exit = await runToEnd({ command: 'cd /tmp && ffmpeg -version' });
    assert.match(exit.error ?? '', /cannot run "cd"/);
  });

  it('a file that is not executable is named as such', async () => {
    const file = join(scratch(), 'script.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const exit = await runToEnd({ command: file });
    assert.match(exit.error ?? '', /not an executable file/);
  });

  it('an executable file without #! is refused, as Go refuses it (exec format error)', async () => {
    const out = join(scratch(), 'ran');
    const file = join(scratch(), 'script');
    writeFileSync(file, `touch ${out}\n`, { mode: 0o755 });
    const exit = await runToEnd({ command: file });
    assert.match(exit.error ?? '', /exec format error/);
    assert.equal(existsSync(out), false, 'no shell ran the file');
  });

  it('an unterminated quote exits at once, names the problem, and is retried with restart', async () => {
    const command = new CommandSupervisor({
      command: "ffmpeg -i 'rtsp://h/$MTX_PATH",
      env: ENV,
      restart: true,
      restartDelayMs: 20,
    });
    const exits: CommandExit[] = [];
    const twice = new Promise<void>((resolve) =>
      command.on('exited', (exit) => {
        exits.push(exit);
        if (exits.length === 2) resolve();
      }),
    );
    let started = 0;
    command.on('started', () => (started += 1));
    command.start();
    await Promise.race([twice, once(command, 'never', { signal: AbortSignal.timeout(10_000) })]);
    await command.stop();
    assert.equal(started, 0, 'no process was started');
    assert.match(
      exits[0]?.error ?? '',
      /cannot be split into words: a single-quoted string is not closed/,
    );
  });

  it('refuses a supervisor given both a command string and argv', () => {
    assert.throws(
      () => new CommandSupervisor({ command: 'a', argv: ['a'], env: {}, restart: false }),
      /either command or argv/,
    );
  });
});
