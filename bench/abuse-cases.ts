/**
 * The abuse cases of the "abuse" section, each against the real service (a child process
 * with the embedded relay), bounded in count and time. Each returns what it measured; the
 * section samples the server's RSS and open descriptors around it.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { CameraServiceClient } from '@camera-service/sdk';
import { WebSocket } from 'ws';
import type { BenchCredentials } from './auth.js';
import { track } from './children.js';
import { readMemory } from './proc.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

export interface Target {
  pid: number;
  wsUrl: string;
  healthUrl: string;
  apiPort: number;
  rtspPort: number;
  credentials: BenchCredentials;
  recordingsDir: string;
}

export type Outcome = Record<string, number | string | boolean | null | LatencySummary>;

/** Open file descriptors of a process (Linux), or null. */
export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Children of `pid` running `command` now (from /proc). */
export function childrenNamed(pid: number, command: string): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileText(`/proc/${entry}/stat`);
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid && name === command) count += 1;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

function readFileText(file: string): string {
  return readFileSync(file, 'utf8');
}

function raw(port: number, text: string, timeoutMs = 5000): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(got);
      resolve(match ? Number(match[1]) : null);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n\r\n')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

/** 1,000 upgrades to targets that used to end the process. */
export async function crashTargets(target: Target): Promise<Outcome> {
  const targets = ['//a:b', '//[', 'http://[::1/ws', '//x:99999/ws'];
  const statuses = new Map<number | null, number>();
  for (let i = 0; i < 1000; i += 1) {
    const status = await raw(
      target.apiPort,
      `GET ${targets[i % targets.length]} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  const live = await fetch(`${target.healthUrl}/health/live`).then((r) => r.status);
  const count = (test: (status: number | null) => boolean) =>
    [...statuses].filter(([status]) => test(status)).reduce((sum, [, n]) => sum + n, 0);
  return {
    answered_400: statuses.get(400) ?? 0,
    answered_404: statuses.get(404) ?? 0,
    answered_5xx: count((s) => s !== null && s >= 500),
    unanswered: statuses.get(null) ?? 0,
    alive_after: live === 200,
  };
}

/** A client pipelining `megabytes` of OPTIONS at the RTSP port and never reading. */
export async function rtspPipelined(target: Target, megabytes: number): Promise<Outcome> {
  const request = Buffer.from(
    `OPTIONS rtsp://127.0.0.1:${target.rtspPort}/test0 RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
  );
  const chunk = Buffer.concat(
    Array.from({ length: Math.ceil(65536 / request.length) }, () => request),
  );
  const socket = net.connect({ port: target.rtspPort, host: '127.0.0.1' });
  socket.pause(); // never reads a reply
  const started = performance.now();
  let written = 0;
  let peakRss = 0;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - started)),
  );
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const limit = megabytes * 1024 * 1024;
  const deadline = performance.now() + 30_000;
  while (written < limit && !socket.destroyed && performance.now() < deadline) {
    if (!socket.write(chunk)) {
      // The server stopped reading: wait for it to drain (it will not), or close us.
      const drained = await Promise.race([
        new Promise<boolean>((r) => socket.once('drain', () => r(true))),
        closed.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
      ]);
      peakRss = Math.max(peakRss, rssMb(target.pid) ?? 0);
      if (!drained && !socket.destroyed) continue;
    }
    written += chunk.length;
  }
  const closedAfter = await Promise.race([
    closed,
    new Promise<null>((r) => setTimeout(() => r(null), 20_000)),
  ]);
  socket.destroy();
  return {
    sent_mb: round(written / 1024 / 1024),
    peak_rss_mb: peakRss,
    closed_by_server_after_ms: closedAfter === null ? null : Math.round(closedAfter),
  };
}

/** `count` idle TCP connections to the RTSP port: how many the relay holds, and for how long. */
export async function rtspIdle(target: Target, count: number): Promise<Outcome> {
  const sockets: net.Socket[] = [];
  const closedTimes: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const socket = net.connect({ port: target.rtspPort, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.on('close', () => closedTimes.push(performance.now() - started));
    sockets.push(socket);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const peakFds = openFds(target.pid);
  const closedFirstSecond = closedTimes.length;
  // Every one is closed by the read timeout (MediaMTX's readTimeout).
  const deadline = performance.now() + 30_000;
  while (closedTimes.length < count && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const socket of sockets) socket.destroy();
  return {
    opened: count,
    closed_within_1s: closedFirstSecond,
    server_fds_while_held: peakFds,
    all_closed_after_ms: closedTimes.length >= count ? Math.round(Math.max(...closedTimes)) : null,
  };
}

/** 5 addresses holding 20 anonymous WebSocket connections each, then an admin. */
export async function anonymousHolders(target: Target): Promise<Outcome> {
  const held: WebSocket[] = [];
  let refused = 0;
  for (let host = 2; host <= 6; host += 1) {
    for (let i = 0; i < 20; i += 1) {
      const ws = new WebSocket(target.wsUrl, { localAddress: `127.0.0.${host}` });
      ws.on('error', () => undefined);
      const opened = await new Promise<boolean>((resolve) => {
        ws.once('open', () => resolve(true));
        ws.once('unexpected-response', () => resolve(false));
        ws.once('error', () => resolve(false));
      });
      if (opened) held.push(ws);
      else refused += 1;
    }
  }
  const started = performance.now();
  const admin = new CameraServiceClient({
    url: target.wsUrl,
    authToken: target.credentials.adminJwt,
    requestTimeoutMs: 5000,
  });
  let adminOk = false;
  try {
    await admin.connect();
    adminOk = (await admin.ping()) === 'pong';
  } catch {
    adminOk = false;
  }
  const adminMs = performance.now() - started;
  await admin.close().catch(() => undefined);
  const stillOpen = held.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  for (const ws of held) ws.terminate();
  return {
    attempted: 100,
    refused,
    anonymous_still_open: stillOpen,
    admin_connected: adminOk,
    admin_connect_ms: Math.round(adminMs),
  };
}

/** `count` concurrent get_recording_info on distinct files: how many ffprobe ran at once. */
export async function ffprobeFanout(
  target: Target,
  sample: string,
  count: number,
): Promise<Outcome> {
  for (let i = 0; i < count; i += 1) {
    const seconds = String(i % 60).padStart(2, '0');
    const minutes = String(Math.floor(i / 60)).padStart(2, '0');
    copyFileSync(
      sample,
      join(target.recordingsDir, `bench_2026-01-01_00-${minutes}-${seconds}.mp4`),
    );
  }
  const client = new CameraServiceClient({
    url: target.wsUrl,
    authToken: target.credentials.adminJwt,
    requestTimeoutMs: 60_000,
  });
  await client.connect();
  let maxProbes = 0;
  const sampler = setInterval(() => {
    maxProbes = Math.max(maxProbes, childrenNamed(target.pid, 'ffprobe'));
  }, 5);
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => {
      const seconds = String(i % 60).padStart(2, '0');
      const minutes = String(Math.floor(i / 60)).padStart(2, '0');
      return client.request('get_recording_info', {
        filename: `bench_2026-01-01_00-${minutes}-${seconds}.mp4`,
      });
    }),
  );
  clearInterval(sampler);
  await client.close();
  const refused = results.filter(
    (r) => r.status === 'rejected' && (r.reason as { code?: number }).code === -32002,
  ).length;
  return {
    requests: count,
    answered: results.filter((r) => r.status === 'fulfilled').length,
    refused_busy: refused,
    max_ffprobe_at_once: maxProbes,
    total_ms: Math.round(performance.now() - started),
  };
}

/** 16 downloads that never read, from one address; then one from another address. */
export async function pausedDownloads(target: Target, name: string): Promise<Outcome> {
  const url = `/files/recordings/${name}`;
  const statuses: (number | null)[] = [];
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 16; i += 1) {
    const socket = net.connect({ port: target.apiPort, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    sockets.push(socket);
    const status = await new Promise<number | null>((resolve) => {
      let got = '';
      const onData = (chunk: Buffer) => {
        got += chunk.toString('latin1');
        const match = /^HTTP\/1\.1 (\d{3})/.exec(got);
        if (match) {
          socket.off('data', onData);
          socket.pause(); // and never read the body
          resolve(Number(match[1]));
        }
      };
      socket.on('data', onData);
      socket.once('close', () => resolve(null));
      socket.write(
        `GET ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${target.credentials.adminJwt}\r\n\r\n`,
      );
    });
    statuses.push(status);
  }
  const peakRss = rssMb(target.pid);
  const started = performance.now();
  const other = await new Promise<number | null>((resolve) => {
    const socket = net.connect({
      port: target.apiPort,
      host: '127.0.0.1',
      localAddress: '127.0.0.2',
    });
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(bytes));
    socket.write(
      `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${target.credentials.adminJwt}\r\n\r\n`,
    );
  });
  const otherMs = performance.now() - started;
  const count = (s: number) => statuses.filter((x) => x === s).length;
  for (const socket of sockets) socket.destroy();
  return {
    paused_200: count(200),
    paused_429: count(429),
    paused_503: count(503),
    peak_rss_mb: peakRss,
    other_address_bytes: other,
    other_address_ms: Math.round(otherMs),
  };
}

/** 1,000 failed authentications from one address, then a valid token from it. */
export async function loginFlood(target: Target): Promise<Outcome> {
  const client = new CameraServiceClient({ url: target.wsUrl, requestTimeoutMs: 5000 });
  await client.connect();
  const codes = new Map<number, number>();
  for (let i = 0; i < 1000; i += 1) {
    const code = await client.request('authenticate', { auth_token: `wrong-${i}` }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    );
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const started = performance.now();
  const valid = await client
    .request('authenticate', { auth_token: target.credentials.adminJwt })
    .then(
      () => true,
      () => false,
    );
  const validMs = performance.now() - started;
  await client.close();
  return {
    failures_32001: codes.get(-32001) ?? 0,
    failures_32002: codes.get(-32002) ?? 0,
    valid_token_accepted: valid,
    valid_token_ms: round(validMs),
  };
}

/** Time to the first decoded frame through ffmpeg, `count` times (the stream kept running). */
export async function timeToFirstFrame(url: string, count: number): Promise<LatencySummary> {
  const recorder = new LatencyRecorder();
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const child = spawn(
      'ffmpeg',
      [
        ...[
          '-v',
          'error',
          '-rtsp_transport',
          'tcp',
          '-analyzeduration',
          '0',
          '-probesize',
          '32768',
        ],
        ...['-i', url, '-frames:v', '1', '-f', 'null', '-'],
      ],
      { stdio: 'ignore' },
    );
    track(child);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`ffmpeg could not read a frame from the stream (exit ${code})`);
    recorder.record(performance.now() - started);
  }
  return recorder.summary();
}

function rssMb(pid: number): number | null {
  const memory = readMemory(pid);
  return memory === null ? null : round(memory.rssMb);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
