/**
 * The benchmark's credentials, and what verifying one costs inside the process.
 *
 * Every run makes its own: a random JWT secret (given to the server in its environment,
 * so a token minted here verifies there, and dies with the run), an admin JWT, and an
 * admin API key written with ApiKeyStore.create into the keys file the server will read
 * (before it starts, so it is there on its first load).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ApiKeyStore, JwtService } from '@camera-service/server';
import { startCpuMeter } from './proc.js';
import { LatencyRecorder, summarizeMicros, type MicroSummary } from './stats.js';

export interface BenchCredentials {
  jwtSecret: string;
  apiKeysFile: string;
  /** Admin, so every benchmarked method (get_metrics included) is allowed. */
  adminJwt: string;
  apiKey: string;
}

/** Outlasts any run BENCH_SECONDS allows; the token is useless after anyway (its secret is gone). */
const TOKEN_TTL_SECONDS = 24 * 3600;

export async function makeCredentials(apiKeysFile: string): Promise<BenchCredentials> {
  // 48 random bytes as the server's docs suggest (`openssl rand -base64 48`); base64url
  // keeps it a plain environment-variable string of 64 bytes, above the 32-byte minimum.
  const jwtSecret = randomBytes(48).toString('base64url');
  const adminJwt = await new JwtService(jwtSecret).mint({
    role: 'admin',
    subject: 'bench',
    ttlSeconds: TOKEN_TTL_SECONDS,
  });
  const { key } = new ApiKeyStore({ file: apiKeysFile }).create({ name: 'bench', role: 'admin' });
  return { jwtSecret, apiKeysFile, adminJwt, apiKey: key };
}

export interface VerifyCost {
  calls: number;
  warmupCalls: number;
  /** JwtService.verify (HS256 signature and claims), awaited as the server awaits it. */
  jwt: MicroSummary;
  /** ApiKeyStore.verify (HMAC-SHA256 of the secret, constant-time compare). */
  apiKey: MicroSummary;
  /** Every other process's CPU over the measurement, in percent of one core. */
  otherCpuPercent: number | null;
  /** Hypervisor steal over the measurement, same unit. */
  stealCpuPercent: number | null;
}

/**
 * Times each verification one call at a time. rpc-bench.ts calls it before starting the
 * server, so no other part of the benchmark competes with it (other processes on the
 * machine may: their CPU is reported). Every result is checked, so a wrong setup fails
 * here instead of timing the rejection path.
 */
export async function measureVerifyCost(
  credentials: BenchCredentials,
  calls: number,
  warmupCalls: number,
): Promise<VerifyCost> {
  const jwt = new JwtService(credentials.jwtSecret);
  const keys = new ApiKeyStore({ file: credentials.apiKeysFile });
  keys.load();
  const verifyJwt = async () => {
    const token = await jwt.verify(credentials.adminJwt);
    if (token.role !== 'admin') throw new Error(`the bench JWT verified as ${token.role}`);
  };
  const verifyKey = () => {
    const check = keys.verify(credentials.apiKey);
    if (!check.ok) throw new Error(`the bench API key did not verify: ${check.reason}`);
  };

  // Watching this process as "the process" too: other = the machine minus this one.
  const stopCpu = startCpuMeter(process.pid);
  for (let i = 0; i < warmupCalls; i += 1) await verifyJwt();
  const jwtTimes = new LatencyRecorder();
  for (let i = 0; i < calls; i += 1) {
    const t0 = performance.now();
    await verifyJwt();
    jwtTimes.record((performance.now() - t0) * 1000);
  }
  for (let i = 0; i < warmupCalls; i += 1) verifyKey();
  const keyTimes = new LatencyRecorder();
  for (let i = 0; i < calls; i += 1) {
    const t0 = performance.now();
    verifyKey();
    keyTimes.record((performance.now() - t0) * 1000);
  }
  const cpu = stopCpu();
  return {
    calls,
    warmupCalls,
    jwt: summarizeMicros(jwtTimes),
    apiKey: summarizeMicros(keyTimes),
    otherCpuPercent: cpu.otherPercent,
    stealCpuPercent: cpu.stealPercent,
  };
}
