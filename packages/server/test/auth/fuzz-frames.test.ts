/**
 * Thousands of malformed frames (garbage, deep nesting, huge numbers, wrong types, bad
 * UTF-8) at an anonymous and an authenticated connection: the server stays up and answers
 * each with exactly the right error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, type TestApp } from '../helpers/app.js';
import { connectRaw, onServerFrames, type RawClient } from '../helpers/raw-client.js';
import { within } from '../helpers/wait.js';
import { prng } from '../helpers/prng.js';

interface Case {
  frame: string;
  /** The reply expected: `${JSON.stringify(id)}:${code or 'ok'}` for each answer it yields. */
  expect: string[];
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const key = (id: unknown, code: number | 'ok') => `${JSON.stringify(id)}:${code}`;

/** Builds `count` frames with their expected answers; `authed` changes the answer to calls that need a role. */
function cases(count: number, authed: boolean, rand: () => number): Case[] {
  const needsRole = (id: number, wrongParams: boolean) =>
    key(id, authed ? (wrongParams ? -32602 : 'ok') : -32001);
  const out: Case[] = [];
  for (let i = 0; i < count; i += 1) {
    const id = i + 1;
    const kind = i % 10;
    if (kind === 0) {
      // Garbage that cannot parse (regenerated in the rare case it happens to be JSON, like "{}").
      let junk: string;
      do {
        junk = `{${Array.from({ length: 1 + Math.floor(rand() * 60) }, () =>
          String.fromCharCode(32 + Math.floor(rand() * 95)),
        ).join('')}`;
      } while (parses(junk));
      out.push({ frame: junk, expect: [key(null, -32700)] });
    } else if (kind === 1) {
      const depth = 2 + Math.floor(rand() * 20_000);
      out.push({ frame: '['.repeat(depth) + ']'.repeat(depth), expect: [key(null, -32600)] });
    } else if (kind === 2) {
      out.push({
        frame: `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`,
        expect: [key(null, -32600)],
      });
    } else if (kind === 3) {
      out.push({
        frame: `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"n":1e400,"m":-1e999}}`,
        expect: [needsRole(id, true)],
      });
    } else if (kind === 4) {
      // Members of the wrong type.
      const frames = [
        `{"jsonrpc":"2.0","id":${id},"method":${id}}`,
        `{"jsonrpc":"2.0","id":${id},"method":"ping","params":"x"}`,
        `{"jsonrpc":2,"id":${id},"method":"ping"}`,
      ];
      out.push({ frame: frames[i % 3]!, expect: [key(id, -32600)] });
    } else if (kind === 5) {
      out.push({
        frame: `{"jsonrpc":"2.0","id":${id},"method":"no_such_${id}"}`,
        expect: [key(id, -32601)],
      });
    } else if (kind === 6) {
      out.push({
        frame: `{"jsonrpc":"2.0","id":${id},"method":"ping"}`,
        expect: [needsRole(id, false)],
      });
    } else if (kind === 7) {
      out.push({
        frame: `{"jsonrpc":"2.0","id":${id},"method":"get_status","params":[1,2]}`,
        expect: [needsRole(id, true)],
      });
    } else if (kind === 8) {
      out.push({
        frame: `{"jsonrpc":"2.0","id":{"x":${id}},"method":"ping"}`,
        expect: [key(null, -32600)],
      });
    } else {
      // A batch mixing the above.
      out.push({
        frame: JSON.stringify([
          { jsonrpc: '2.0', id, method: 'ping' },
          { jsonrpc: '2.0', id: -id, method: 42 },
          { jsonrpc: '2.0', method: 'ping' },
          7,
        ]),
        expect: [needsRole(id, false), key(-id, -32600), key(null, -32600)],
      });
    }
  }
  return out;
}

async function fire(client: RawClient, list: Case[]): Promise<{ got: string[]; want: string[] }> {
  const want = list.flatMap((c) => c.expect).sort();
  const got: string[] = [];
  const done = new Promise<void>((resolve) => {
    onServerFrames(client.socket, ({ opcode, payload }) => {
      if (opcode !== 1) return;
      const message = JSON.parse(payload.toString('utf8')) as unknown;
      for (const r of Array.isArray(message) ? message : [message]) {
        const reply = r as { id: unknown; result?: unknown; error?: { code: number } };
        got.push(key(reply.id, reply.error ? reply.error.code : 'ok'));
      }
      if (got.length >= want.length) resolve();
    });
  });
  for (const c of list) client.sendText(c.frame);
  await within(done, 30_000, `${want.length} replies (got ${got.length})`);
  return { got: got.sort(), want };
}

async function authenticated(t: TestApp): Promise<RawClient> {
  const client = await connectRaw(t.wsUrl);
  const ready = new Promise<void>((resolve) => {
    onServerFrames(client.socket, () => resolve());
  });
  client.sendText(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'authenticate',
      params: { auth_token: await t.token('admin') },
    }),
  );
  await within(ready, 5000, 'authentication');
  client.socket.removeAllListeners('data');
  return client;
}

describe('frame fuzzing', () => {
  it('answers 3,000 malformed frames on an anonymous and on an authenticated connection, exactly', async () => {
    const t = await startApp({
      auth: { rate_limit: { requests_per_second: 1_000_000, burst: 1_000_000 } },
      server: { max_inflight_requests: 4096 },
      logging: { level: 'warn', format: 'json' },
    });
    try {
      const rand = prng(3);
      const anonymous = await connectRaw(t.wsUrl);
      const member = await authenticated(t);
      const [a, b] = await Promise.all([
        fire(anonymous, cases(3000, false, rand)),
        fire(member, cases(3000, true, rand)),
      ]);
      assert.deepEqual(a.got, a.want);
      assert.deepEqual(b.got, b.want);
      anonymous.socket.destroy();
      member.socket.destroy();
      const client = await t.connect();
      assert.equal(await client.ping(), 'pong', 'still serving');
    } finally {
      await t.stop();
    }
  });

  it('closes a connection that sends invalid UTF-8 with 1007, every time, and stays up', async () => {
    const t = await startApp();
    try {
      const rand = prng(7);
      for (let i = 0; i < 50; i += 1) {
        const client = await connectRaw(t.wsUrl);
        const closeCode = new Promise<number>((resolve) =>
          onServerFrames(
            client.socket,
            ({ opcode, payload }) => opcode === 8 && resolve(payload.readUInt16BE(0)),
          ),
        );
        // A lone continuation byte, an overlong encoding, or a surrogate: never valid UTF-8.
        const bad = [
          Buffer.from([0x80]),
          Buffer.from([0xc0, 0xaf]),
          Buffer.from([0xed, 0xa0, 0x80]),
        ][i % 3]!;
        const text = Buffer.from(
          `{"jsonrpc":"2.0","id":${Math.floor(rand() * 1e6)},"method":"ping"}`,
        );
        client.sendBytes(Buffer.concat([text.subarray(0, 10), bad, text.subarray(10)]));
        assert.equal(await within(closeCode, 3000, 'close frame'), 1007);
        client.socket.destroy();
      }
      const client = await t.connect();
      assert.equal(await client.ping(), 'pong');
    } finally {
      await t.stop();
    }
  });
});
