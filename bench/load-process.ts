/**
 * Runs one workload in a fresh child process (bench/dist/load.js, auth-load.js or
 * relay-load.js) and returns the result it prints. A fresh process per workload keeps
 * runs independent: no connections, timers or heap carried over from the previous one.
 */
import { spawn } from 'node:child_process';
import { Tail, terminate, track } from './children.js';
import {
  AUTH_TOKEN_ENV,
  type AuthWireParams,
  type AuthWireResult,
  type LoadParams,
  type LoadResult,
} from './protocol.js';
import { relayLoadBudgetMs, type RelayLoadParams, type RelayLoadResult } from './relay-protocol.js';

/**
 * Beyond the workload's own timeline: process start, connecting, authenticating,
 * closing. More than load.ts allows itself, so that it gives up first and says why.
 */
const SLACK_MS = 20_000;

export function runLoad(
  loadScript: string,
  params: LoadParams,
  authToken: string,
): Promise<LoadResult> {
  return runChild<LoadResult>(loadScript, params, {
    what: `load generator (${params.mode} loop, ${params.clients} clients)`,
    budgetMs: params.warmupMs + params.durationMs + params.drainMs + SLACK_MS,
    env: { [AUTH_TOKEN_ENV]: authToken },
  });
}

export function runAuthLoad(
  script: string,
  params: AuthWireParams,
  env: Record<string, string>,
  budgetMs: number,
): Promise<AuthWireResult> {
  return runChild<AuthWireResult>(script, params, {
    what: 'authenticate benchmark',
    budgetMs,
    env,
  });
}

export function runRelayLoad(script: string, params: RelayLoadParams): Promise<RelayLoadResult> {
  return runChild<RelayLoadResult>(script, params, {
    what: `relay readers (${params.paths.length} paths x ${params.readersPerPath})`,
    budgetMs: relayLoadBudgetMs(params) + SLACK_MS,
    env: {},
  });
}

interface ChildRun {
  /** Names the child in error messages. */
  what: string;
  /** Killed when it has not finished by then. */
  budgetMs: number;
  /** Added to this process's environment (credentials: see protocol.ts). */
  env: Record<string, string>;
}

async function runChild<T>(script: string, params: object, run: ChildRun): Promise<T> {
  const child = spawn(process.execPath, [script, JSON.stringify(params)], {
    env: { ...process.env, ...run.env },
    // stdin stays an open pipe: the child exits when it closes, i.e. if this process dies.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  const stdout = new Tail(1_000_000);
  const stderr = new Tail();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  // 'close', not 'exit': only then is every byte of its stdout read.
  const finished = new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), run.budgetMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${script} could not start: ${error.message}`));
    });
  });
  const exited = await finished.finally(() => terminate(child, 1000));
  const { what } = run;
  if (!exited) throw new Error(`${what} did not finish within ${run.budgetMs} ms; killed it`);
  if (child.exitCode !== 0) {
    throw new Error(
      `${what} failed (exit ${child.exitCode ?? child.signalCode}): ${stderr.toString() || '(no output)'}`,
    );
  }
  const last = stdout.toString().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${what} printed no JSON result; stdout ended with: ${last.slice(0, 200)}`);
  }
}
