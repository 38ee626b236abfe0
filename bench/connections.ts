/**
 * One benchmark client connection, behind a small interface so the same workload can
 * run on the project's SDK (what users get) or on a bare `ws` socket (the floor the SDK
 * adds to). `BENCH_CLIENT=raw` selects the latter; comparing the two shows whether the
 * SDK, rather than the server, limits the numbers.
 *
 * Every method but `authenticate` needs a role, so a connection authenticates once as it
 * opens (the SDK's authToken option; the same `authenticate` call on the raw socket) and
 * only then counts as open: the workloads measure authenticated calls, not the handshake.
 */
import { CameraServiceClient } from '@camera-service/sdk';
import { WebSocket } from 'ws';
import type { BenchMethod, ClientKind } from './protocol.js';

export type { BenchMethod } from './protocol.js';

export interface RpcConnection {
  /** Resolves on a result; rejects on an error reply, a timeout or a lost connection. */
  call(method: BenchMethod, timeoutMs: number): Promise<void>;
  /** Calls `authenticate` with a JWT or an API key; the connection then acts with its role. */
  authenticate(token: string, timeoutMs: number): Promise<void>;
  readonly isOpen: boolean;
  /** Closes politely, but never waits longer than `withinMs`. */
  close(withinMs: number): Promise<void>;
}

/** Opens, then authenticates with `authToken`; each step may take up to `connectTimeoutMs`. */
export function openConnection(
  kind: ClientKind,
  url: string,
  connectTimeoutMs: number,
  authToken: string,
): Promise<RpcConnection> {
  return kind === 'sdk'
    ? openSdk(url, connectTimeoutMs, authToken)
    : openRaw(url, connectTimeoutMs, authToken);
}

async function openSdk(
  url: string,
  connectTimeoutMs: number,
  authToken: string,
): Promise<RpcConnection> {
  // connect() authenticates under the client's default request timeout; every other call
  // passes its own, so this only bounds that first authenticate.
  const client = new CameraServiceClient({
    url,
    connectTimeoutMs,
    requestTimeoutMs: connectTimeoutMs,
    authToken,
  });
  await client.connect();
  return {
    async call(method, timeoutMs) {
      await client.call(method, {}, { timeoutMs });
    },
    async authenticate(token, timeoutMs) {
      await client.authenticate(token, { timeoutMs });
    },
    get isOpen() {
      return client.connected;
    },
    close: (withinMs) => bounded(client.close(), withinMs),
  };
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The least a JSON-RPC client can do: encode, send, match the reply by id. No per-call
 * timer: the workload's deadline closes the socket, which fails whatever is pending (and
 * each child's own time budget bounds everything else).
 */
async function openRaw(
  url: string,
  connectTimeoutMs: number,
  authToken: string,
): Promise<RpcConnection> {
  const socket = new WebSocket(url, {
    handshakeTimeout: connectTimeoutMs,
    perMessageDeflate: false,
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {
    // 'close' follows and fails the pending calls; without a listener an error would throw.
  });
  socket.on('message', (data) => {
    const reply = JSON.parse(String(data)) as {
      id?: unknown;
      error?: { message?: string };
    };
    if (typeof reply.id !== 'number') return;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.error) waiter.reject(new Error(reply.error.message ?? 'error reply'));
    else waiter.resolve();
  });
  socket.on('close', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`connection closed (${code})`));
    pending.clear();
  });
  const send = (method: string, params: Record<string, unknown>): Promise<void> => {
    if (socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('connection closed'));
    }
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  };
  // The one raw call with a timer: a server that never answers it must not leave a
  // half-open connection behind (the SDK bounds its own the same way).
  const outcome = await settlesWithin(
    send('authenticate', { auth_token: authToken }),
    connectTimeoutMs,
  ).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (outcome !== true) {
    socket.terminate();
    const reason = outcome === false ? `no reply within ${connectTimeoutMs} ms` : outcome.message;
    throw new Error(`authenticate failed: ${reason}`);
  }
  return {
    call: (method) => send(method, {}),
    authenticate: (token) => send('authenticate', { auth_token: token }),
    get isOpen() {
      return socket.readyState === WebSocket.OPEN;
    },
    async close(withinMs) {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.close(1000, 'bench done');
      await bounded(closed, withinMs);
      socket.terminate();
    },
  };
}

/** true when `promise` resolves within `ms`, false when it has not by then; rejects as it does. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise`, or `ms` at most; a close that never completes must not hang the run. */
async function bounded(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
