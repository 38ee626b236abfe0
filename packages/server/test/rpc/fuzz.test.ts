/**
 * Throws random and mutated messages at the dispatcher: it must never throw, and must
 * answer each with nothing (notifications) or well-formed JSON-RPC 2.0.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { Dispatcher, MethodRegistry, defineMethod } from '../../src/rpc/index.js';
import { principalFor } from '../helpers/principal.js';
import { prng } from '../helpers/prng.js';

const SEEDS = [
  '{"jsonrpc":"2.0","id":1,"method":"echo","params":{"device":"cam","count":2}}',
  '[{"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]},{"jsonrpc":"2.0","method":"echo"}]',
  '{"jsonrpc":"2.0","id":"x","method":"ping"}',
];
const ALPHABET = '{}[]",:0123456789.-eE truefalsnul\\u"jsonrpcidmethodparams\u0000\uffff';

function mutate(text: string, rand: () => number): string {
  const chars = [...text];
  const edits = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < edits; i += 1) {
    const pos = Math.floor(rand() * (chars.length + 1));
    const op = rand();
    const ch = ALPHABET[Math.floor(rand() * ALPHABET.length)] as string;
    if (op < 0.4) chars.splice(pos, 1);
    else if (op < 0.8) chars.splice(pos, 0, ch);
    else chars[pos] = ch;
  }
  return chars.join('');
}

it('survives 5,000 mutated and random messages with well-formed answers', async () => {
  const registry = new MethodRegistry();
  registry.register(
    defineMethod({
      name: 'echo',
      summary: 'Echo.',
      access: 'viewer',
      params: z.strictObject({ device: z.string(), count: z.number().optional() }),
      result: z.unknown(),
      errors: {},
      examples: [{ params: { device: 'cam' }, result: { device: 'cam' } }],
    }),
    (p) => p,
  );
  registry.register(
    defineMethod({
      name: 'ping',
      summary: 'Ping.',
      access: 'viewer',
      params: z.strictObject({}),
      result: z.literal('pong'),
      errors: {},
      examples: [{ params: {}, result: 'pong' }],
    }),
    () => 'pong' as const,
  );
  const dispatcher = new Dispatcher({ registry, log: pino({ level: 'silent' }), maxBatch: 50 });
  const session = { id: 'f', remoteAddress: '::1', host: null, principal: principalFor('viewer') };
  const rand = prng(20261122);
  for (let i = 0; i < 5000; i += 1) {
    const message =
      i % 10 === 0
        ? Array.from({ length: Math.floor(rand() * 40) }, () =>
            String.fromCharCode(Math.floor(rand() * 128)),
          ).join('')
        : mutate(SEEDS[i % SEEDS.length] as string, rand);
    const reply = await dispatcher.handle(message, session);
    if (reply === null) continue;
    const parsed = JSON.parse(reply) as unknown;
    for (const r of Array.isArray(parsed) ? parsed : [parsed]) {
      const response = r as Record<string, unknown>;
      assert.equal(response.jsonrpc, '2.0', `message ${JSON.stringify(message)} got ${reply}`);
      assert.ok('id' in response, reply);
      assert.notEqual('result' in response, 'error' in response, reply);
      if ('error' in response) {
        const error = response.error as { code: unknown; message: unknown };
        assert.equal(typeof error.code, 'number');
        assert.equal(typeof error.message, 'string');
        assert.ok([-32700, -32600, -32601, -32602].includes(error.code as number), reply);
      }
    }
  }
});
