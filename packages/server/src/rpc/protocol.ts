/**
 * JSON-RPC 2.0 envelopes: pure checks and builders, no I/O.
 * https://www.jsonrpc.org/specification
 */

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
  /** Absent for a notification. */
  id?: JsonRpcId;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject };

export type EnvelopeCheck =
  | { ok: true; request: JsonRpcRequest; notification: boolean }
  | { ok: false; id: JsonRpcId; reason: string };

function isValidId(value: unknown): value is JsonRpcId {
  return (
    value === null ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Checks one request object of a message (or of a batch). */
export function checkEnvelope(value: unknown): EnvelopeCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, reason: 'a request must be a JSON object' };
  }
  const message = value as Record<string, unknown>;
  const hasId = Object.hasOwn(message, 'id');
  const id = hasId && isValidId(message.id) ? message.id : null;
  if (hasId && !isValidId(message.id)) {
    return { ok: false, id: null, reason: '"id" must be a string, a number or null' };
  }
  if (message.jsonrpc !== '2.0') {
    return { ok: false, id, reason: '"jsonrpc" must be exactly "2.0"' };
  }
  if (typeof message.method !== 'string' || message.method.length === 0) {
    return { ok: false, id, reason: '"method" must be a non-empty string' };
  }
  const params = message.params;
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    return {
      ok: false,
      id,
      reason: '"params" must be an object (by name) or an array (by position)',
    };
  }
  const request: JsonRpcRequest = { jsonrpc: '2.0', method: message.method };
  if (params !== undefined) request.params = params;
  if (hasId) request.id = id;
  return { ok: true, request, notification: !hasId };
}

export function success(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result };
}

export function failure(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error };
}

/** A server-to-client notification, serialised once for broadcast. */
export function encodeNotification(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}
