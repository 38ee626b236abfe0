/**
 * Runs one workload in a fresh load-generator process (bench/dist/load.js) and returns
 * the result it prints. A fresh process per workload keeps runs independent: no
 * connections, timers or heap carried over from the previous one.
 */
import { spawn } from 'node:child_process';
import { Tail, terminate, track } from './children.js';
import type { LoadParams, LoadResult } from './protocol.js';

/** Beyond the workload's own timeline: process start, connecting, closing. */
const SLACK_MS = 15_000;

export async function runLoad(loadScript: string, params: LoadParams): Promise<LoadResult> {
  const child = spawn(process.execPath, [loadScript, JSON.stringify(params)], {
    // stdin stays an open pipe: the child exits when it closes, i.e. if this process dies.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  const stdout = new Tail(1_000_000);
  const stderr = new Tail();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const budgetMs = params.warmupMs + params.durationMs + params.drainMs + SLACK_MS;
  // 'close', not 'exit': only then is every byte of its stdout read.
  const finished = new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), budgetMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`load.js could not start: ${error.message}`));
    });
  });
  const exited = await finished.finally(() => terminate(child, 1000));
  const what = `load generator (${params.mode} loop, ${params.clients} clients)`;
  if (!exited) throw new Error(`${what} did not finish within ${budgetMs} ms; killed it`);
  if (child.exitCode !== 0) {
    throw new Error(
      `${what} failed (exit ${child.exitCode ?? child.signalCode}): ${stderr.toString() || '(no output)'}`,
    );
  }
  const last = stdout.toString().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as LoadResult;
  } catch {
    throw new Error(`${what} printed no JSON result; stdout ended with: ${last.slice(0, 200)}`);
  }
}
