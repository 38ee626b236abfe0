import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { ServiceError } from '../../src/errors/index.js';
import { principalFor } from '../helpers/principal.js';
import {
  Dispatcher,
  MethodRegistry,
  defineMethod,
  type CallEvent,
  type Role,
  type RpcSession,
} from '../../src/rpc/index.js';

const echo = defineMethod({
  name: 'echo',
  summary: 'Returns its params.',
  access: 'viewer',
  params: z.strictObject({ device: z.string(), count: z.number().int().min(0).optional() }),
  result: z.object({ device: z.string(), count: z.number().optional() }),
  errors: {},
  examples: [{ params: { device: 'cam' }, result: { device: 'cam' } }],
});
const adminOnly = defineMethod({
  name: 'admin_only',
  summary: 'Needs admin.',
  access: 'admin',
  params: z.strictObject({}),
  result: z.literal('ok'),
  errors: {},
  examples: [{ params: {}, result: 'ok' }],
});
const open = defineMethod({
  name: 'open',
  summary: 'Public.',
  access: 'public',
  params: z.strictObject({}),
  result: z.literal('hi'),
  errors: {},
  examples: [{ params: {}, result: 'hi' }],
});
const failing = defineMethod({
  name: 'failing',
  summary: 'Throws.',
  access: 'viewer',
  params: z.strictObject({ typed: z.boolean() }),
  result: z.null(),
  errors: {},
  examples: [{ params: { typed: true }, result: null }],
});
const liar = defineMethod({
  name: 'liar',
  summary: 'Breaks its result contract.',
  access: 'viewer',
  params: z.strictObject({}),
  result: z.number(),
  errors: {},
  examples: [{ params: {}, result: 1 }],
});

function setup(options: { role?: Role | null; maxBatch?: number } = {}) {
  const registry = new MethodRegistry();
  const calls: string[] = [];
  registry.register(echo, (p) => {
    calls.push(`echo:${p.device}`);
    return p;
  });
  registry.register(adminOnly, () => 'ok' as const);
  registry.register(open, () => 'hi' as const);
  registry.register(failing, (p) => {
    if (p.typed)
      throw new ServiceError('camera_not_found', 'Camera /dev/video9 is not known.', {
        device: '/dev/video9',
      });
    throw new Error('secret internal detail at /opt/app/src/x.ts:12');
  });
  registry.register(liar, () => 'not a number' as unknown as number);
  const events: CallEvent[] = [];
  const dispatcher = new Dispatcher({
    registry,
    log: pino({ level: 'silent' }),
    maxBatch: options.maxBatch ?? 5,
    validateResults: true,
    onCall: (e) => events.push(e),
  });
  const role = options.role === undefined ? 'viewer' : options.role;
  const session: RpcSession = {
    id: 's1',
    remoteAddress: '127.0.0.1',
    host: 'localhost',
    principal: role === null ? null : principalFor(role),
  };
  const send = async (message: unknown) => {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    const reply = await dispatcher.handle(text, session);
    return reply === null ? null : (JSON.parse(reply) as unknown);
  };
  return { send, calls, events };
}

type Reply = {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
};

describe('JSON-RPC dispatcher', () => {
  it('answers a by-name request with its result and id', async () => {
    const { send } = setup();
    assert.deepEqual(
      await send({ jsonrpc: '2.0', id: 7, method: 'echo', params: { device: 'cam' } }),
      {
        jsonrpc: '2.0',
        id: 7,
        result: { device: 'cam' },
      },
    );
  });

  it('maps by-position params onto the declared parameter names', async () => {
    const { send } = setup();
    const reply = (await send({
      jsonrpc: '2.0',
      id: 'a',
      method: 'echo',
      params: ['cam', 3],
    })) as Reply;
    assert.deepEqual(reply.result, { device: 'cam', count: 3 });
  });

  const errorCases: [string, unknown, number, RegExp, unknown][] = [
    [
      'an id nested 100,000 deep is an invalid request, not a crash',
      `{"jsonrpc":"2.0","id":${'['.repeat(100_000)}${']'.repeat(100_000)},"method":"echo"}`,
      -32600,
      /"id" must be/,
      null,
    ],
    [
      'a message that is not JSON is a parse error',
      '{"jsonrpc": "2.0", "method": ',
      -32700,
      /not valid JSON/,
      null,
    ],
    ['a request that is not an object is invalid', '42', -32600, /must be a JSON object/, null],
    [
      'a wrong jsonrpc version is invalid',
      { jsonrpc: '1.0', id: 1, method: 'echo' },
      -32600,
      /"jsonrpc" must be exactly "2.0"/,
      1,
    ],
    [
      'a missing method is invalid',
      { jsonrpc: '2.0', id: 2 },
      -32600,
      /"method" must be a non-empty string/,
      2,
    ],
    ['a non-string method is invalid', { jsonrpc: '2.0', id: 3, method: 5 }, -32600, /"method"/, 3],
    [
      'an object id is invalid and answered with a null id',
      { jsonrpc: '2.0', id: { x: 1 }, method: 'echo' },
      -32600,
      /"id" must be/,
      null,
    ],
    [
      'scalar params are invalid',
      { jsonrpc: '2.0', id: 4, method: 'echo', params: 'cam' },
      -32600,
      /"params" must be an object/,
      4,
    ],
    [
      'an unknown method is -32601',
      { jsonrpc: '2.0', id: 5, method: 'nope' },
      -32601,
      /"nope" is not a method/,
      5,
    ],
    [
      'a missing param is named',
      { jsonrpc: '2.0', id: 6, method: 'echo', params: {} },
      -32602,
      /"device" is required/,
      6,
    ],
    [
      'a param of the wrong type is named',
      { jsonrpc: '2.0', id: 8, method: 'echo', params: { device: 1 } },
      -32602,
      /"device"/,
      8,
    ],
    [
      'a param out of range is named',
      { jsonrpc: '2.0', id: 9, method: 'echo', params: { device: 'c', count: -1 } },
      -32602,
      /"count"/,
      9,
    ],
    [
      'an unknown param is named',
      { jsonrpc: '2.0', id: 10, method: 'echo', params: { device: 'c', devcie: 'x' } },
      -32602,
      /unknown parameter "devcie"; echo takes device, count/,
      10,
    ],
    [
      'too many positional params are refused',
      { jsonrpc: '2.0', id: 11, method: 'echo', params: ['a', 1, 2] },
      -32602,
      /at most 2 positional parameters \(device, count\); 3 were given/,
      11,
    ],
    [
      'a non-string auth_token is refused',
      { jsonrpc: '2.0', id: 12, method: 'echo', params: { device: 'c', auth_token: 5 } },
      -32602,
      /auth_token/,
      12,
    ],
    [
      'a typed service error keeps its code and data',
      { jsonrpc: '2.0', id: 13, method: 'failing', params: { typed: true } },
      -1000,
      /not known/,
      13,
    ],
    ['an empty batch is one invalid-request error', [], -32600, /batch is empty/, null],
    [
      'a batch over the limit is refused whole',
      Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'open' })),
      -32600,
      /at most 5 requests; this one has 6/,
      null,
    ],
  ];
  for (const [name, message, code, pattern, id] of errorCases) {
    it(name, async () => {
      const { send } = setup();
      const reply = (await send(message)) as Reply;
      assert.equal(reply.jsonrpc, '2.0');
      assert.equal(reply.error?.code, code, JSON.stringify(reply));
      assert.match(reply.error.message, pattern);
      assert.deepEqual(reply.id, id);
      assert.equal('result' in reply, false);
    });
  }

  it('names the invalid param in error data', async () => {
    const { send } = setup();
    const reply = (await send({
      jsonrpc: '2.0',
      id: 1,
      method: 'echo',
      params: { device: 42 },
    })) as Reply;
    assert.equal(reply.error?.data?.param, 'device');
  });

  it('hides internal errors behind -32603 with a correlation id and no detail', async () => {
    const { send } = setup();
    const reply = (await send({
      jsonrpc: '2.0',
      id: 1,
      method: 'failing',
      params: { typed: false },
    })) as Reply;
    assert.equal(reply.error?.code, -32603);
    assert.doesNotMatch(JSON.stringify(reply), /secret|\/opt\/app|\.ts:/);
    assert.match(String(reply.error.data?.correlation_id), /^[0-9a-f]{16}$/);
    assert.match(reply.error.message, new RegExp(String(reply.error.data?.correlation_id)));
  });

  it('treats a result that breaks its contract as an internal error', async () => {
    const { send } = setup();
    const reply = (await send({ jsonrpc: '2.0', id: 1, method: 'liar' })) as Reply;
    assert.equal(reply.error?.code, -32603);
  });

  it('sends no reply to a notification, but runs it', async () => {
    const { send, calls } = setup();
    assert.equal(await send({ jsonrpc: '2.0', method: 'echo', params: { device: 'n' } }), null);
    assert.deepEqual(calls, ['echo:n']);
  });

  it('sends no reply to a failing notification either', async () => {
    const { send } = setup();
    assert.equal(await send({ jsonrpc: '2.0', method: 'nope' }), null);
    assert.equal(await send({ jsonrpc: '2.0', method: 'echo', params: {} }), null);
  });

  it('answers a batch mixing good, bad and notification entries, one reply per request', async () => {
    const { send } = setup();
    const replies = (await send(
      [
        { jsonrpc: '2.0', id: 1, method: 'echo', params: { device: 'a' } },
        { jsonrpc: '2.0', method: 'echo', params: { device: 'note' } },
        { jsonrpc: '2.0', id: 2, method: 'nope' },
        { foo: 'bar' },
        { jsonrpc: '2.0', id: 3, method: 'echo', params: { device: 7 } },
        1,
      ].slice(0, 5),
    )) as Reply[];
    assert.equal(replies.length, 4);
    const byId = new Map(replies.map((r) => [r.id, r]));
    assert.deepEqual(byId.get(1)?.result, { device: 'a' });
    assert.equal(byId.get(2)?.error?.code, -32601);
    assert.equal(byId.get(3)?.error?.code, -32602);
    assert.equal(byId.get(null)?.error?.code, -32600);
  });

  it('sends nothing back for a batch of notifications only', async () => {
    const { send } = setup();
    assert.equal(
      await send([
        { jsonrpc: '2.0', method: 'open' },
        { jsonrpc: '2.0', method: 'open' },
      ]),
      null,
    );
  });

  it('asks for authentication when the session has no role', async () => {
    const { send } = setup({ role: null });
    const reply = (await send({
      jsonrpc: '2.0',
      id: 1,
      method: 'echo',
      params: { device: 'a' },
    })) as Reply;
    assert.equal(reply.error?.code, -32001);
    assert.match(reply.error.message, /authenticate/);
    const publicReply = (await send({ jsonrpc: '2.0', id: 2, method: 'open' })) as Reply;
    assert.equal(publicReply.result, 'hi');
  });

  it('refuses a role below the method minimum with -32003 naming the role', async () => {
    const { send } = setup({ role: 'operator' });
    const reply = (await send({ jsonrpc: '2.0', id: 1, method: 'admin_only' })) as Reply;
    assert.equal(reply.error?.code, -32003);
    assert.match(reply.error.message, /needs the admin role/);
    assert.equal(reply.error.data?.required_role, 'admin');
  });

  it('checks access before params, so an anonymous caller learns nothing of the schema', async () => {
    const { send } = setup({ role: null });
    const positional = (await send({
      jsonrpc: '2.0',
      id: 2,
      method: 'echo',
      params: [1, 2, 3, 4],
    })) as Reply;
    assert.equal(positional.error?.code, -32001, 'not -32602 for too many positional params');
    const reply = (await send({
      jsonrpc: '2.0',
      id: 1,
      method: 'echo',
      params: { bogus: 1 },
    })) as Reply;
    assert.equal(reply.error?.code, -32001);
  });

  it('reports each call with a bounded method label and its outcome', async () => {
    const { send, events } = setup();
    await send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { device: 'a' } });
    await send({ jsonrpc: '2.0', id: 2, method: 'random-name-1234' });
    await send('not json');
    assert.deepEqual(
      events.map((e) => [e.method, e.outcome]),
      [
        ['echo', 'ok'],
        ['(unknown)', 'method_not_found'],
        ['(invalid)', 'parse_error'],
      ],
    );
  });
});
