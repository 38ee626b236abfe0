/** Malformed requests from a seeded generator, sent over raw TCP, one connection each. */
import net from 'node:net';

/** A small seeded PRNG (mulberry32): the same seed gives the same cases. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = '%[]:@/?#&;=+\\.~ "\'<>{}|^`$!*()';
const PLAIN = 'abcxyzAZ09-_';

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** A string of `length` characters mostly from the nasty alphabet (`spaces`: with spaces). */
export function garbage(rand: () => number, length: number, spaces = true): string {
  const nasty = spaces ? [...NASTY] : [...NASTY.replace(' ', '')];
  let out = '';
  for (let i = 0; i < length; i += 1) {
    const r = rand();
    if (r < 0.45) out += pick(rand, nasty);
    else if (r < 0.9) out += pick(rand, [...PLAIN]);
    else if (r < 0.95) out += `%${Math.floor(rand() * 256).toString(16)}`;
    else out += String.fromCharCode(0x80 + Math.floor(rand() * 0x700));
  }
  return out;
}

/**
 * Sends `raw` on a fresh connection and resolves with the status code of the first
 * answer (null when the connection closed without one).
 */
export function exchange(
  port: number,
  raw: string | Buffer,
  timeoutMs = 5000,
): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let settled = false;
    const done = (status: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('error', () => done(statusOf(answer)));
    socket.on('close', () => done(statusOf(answer)));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      // Interim answers (100 Continue) come before the one that counts.
      while (/^HTTP\/1\.[01] 1\d\d [^\r]*\r\n\r\n/.test(answer))
        answer = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      if (answer.includes('\r\n') && !/^HTTP\/1\.[01] 1\d\d/.test(answer)) done(statusOf(answer));
    });
    socket.write(raw);
  });
}

function statusOf(answer: string): number | null {
  const match = /^(?:HTTP\/1\.[01]|RTSP\/1\.0) (\d{3})/.exec(answer);
  return match ? Number(match[1]) : null;
}

/** Runs `cases` through `exchange`, `parallel` at a time, keeping their order. */
export async function exchangeAll(
  port: number,
  cases: (string | Buffer)[],
  parallel = 32,
): Promise<(number | null)[]> {
  const results: (number | null)[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < cases.length) {
        const index = next;
        next += 1;
        results[index] = await exchange(port, cases[index] as string | Buffer);
      }
    }),
  );
  return results;
}
