/**
 * The stream authorization hook MediaMTX calls in managed and external mode
 * (`authMethod: http`, `authHTTPAddress: http://127.0.0.1:<port>/mediamtx/auth`): for
 * every publish, read, playback, api, metrics or pprof action it POSTs a small JSON
 * request, and allows the action on a 2xx answer. The service decides with the same
 * checker the embedded relay calls in-process.
 *
 * It listens on loopback only. Bodies are small and bounded; anything that is not a
 * well-formed request is refused (400), and no request can throw out of the handler.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamAuthRequest } from '../auth/index.js';
import type { Logger } from '../logging/index.js';
import { closeServer, createHttpServer, listen, sendJson, targetPath } from '../transport/index.js';

export const AUTH_HOOK_PATH = '/mediamtx/auth';
const MAX_BODY_BYTES = 16 * 1024;
const FIELDS = ['ip', 'user', 'password', 'token', 'action', 'path', 'protocol', 'query'] as const;

/** MediaMTX's request body (every field a string, `id` a UUID or null), and the answer. */
export type HookRequest = StreamAuthRequest;
/** What the checker answers; a StreamDecision is one. */
export type HookDecision = { allow: true } | { allow: false; status: number; reason: string };

/** Reads a body into a HookRequest, or null when it is not one. */
export function parseHookRequest(text: string): HookRequest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const body = value as Record<string, unknown>;
  const out: Record<string, string | null> = {};
  for (const field of FIELDS) {
    const v = body[field] ?? '';
    if (typeof v !== 'string') return null;
    out[field] = v;
  }
  const id = body.id ?? null;
  if (id !== null && typeof id !== 'string') return null;
  return { ...(out as Omit<HookRequest, 'id'>), id };
}

export class AuthHookServer {
  readonly #server: http.Server;
  #address: AddressInfo | null = null;

  constructor(options: { check: (request: HookRequest) => Promise<HookDecision>; log: Logger }) {
    const { check, log } = options;
    this.#server = createHttpServer(
      { cert: null, key: null },
      async (req, res) => {
        if (targetPath(req.url) !== AUTH_HOOK_PATH) {
          sendJson(res, 404, { error: `The authorization hook is at ${AUTH_HOOK_PATH}.` });
          return;
        }
        if (req.method !== 'POST') {
          sendJson(res, 405, { error: 'POST the request as JSON.' }, { allow: 'POST' });
          return;
        }
        const text = await readBody(req);
        const request = text === null ? null : parseHookRequest(text);
        if (!request) {
          sendJson(res, 400, { error: 'Expected MediaMTX authentication request JSON.' });
          return;
        }
        const decision = await check(request);
        if (decision.allow) {
          res.writeHead(200, { 'content-length': 0 }).end();
        } else {
          sendJson(res, decision.status, { error: decision.reason });
        }
      },
      { log, name: 'stream authorization hook', maxConnections: 256 },
    );
  }

  /** The URL MediaMTX posts to. */
  get url(): string {
    if (!this.#address) throw new Error('the authorization hook is not listening');
    return `http://127.0.0.1:${this.#address.port}${AUTH_HOOK_PATH}`;
  }

  async start(port: number): Promise<AddressInfo> {
    this.#address = await listen(this.#server, port, '127.0.0.1', 'stream authorization hook');
    return this.#address;
  }

  async stop(): Promise<void> {
    await closeServer(this.#server);
    this.#server.closeAllConnections();
  }
}

/** The body as text, or null when it is larger than MAX_BODY_BYTES (the request is drained). */
function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}
