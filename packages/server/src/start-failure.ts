/**
 * What a failed start says. A listener that cannot bind fails with Node's bare
 * `listen EADDRINUSE: address already in use 127.0.0.1:8554`, which names neither the
 * setting nor the likely cause; this names the configuration key that holds the port
 * (and the variable or file that set it) and what to do.
 */
import type { LoadedConfig } from './config/index.js';

/** What Node's errors from listen() carry (and the API and health servers' too). */
interface BindFailure {
  code?: unknown;
  port?: unknown;
  address?: unknown;
  /** The listener, when the error says ("API server"). */
  what?: unknown;
}

/** What each port key is for, to name the listener in a message. */
const LISTENERS: Record<string, string> = {
  'server.port': 'the API server',
  'health.port': 'the health server',
  'mediamtx.rtsp_port': "the media server's RTSP listener",
  'mediamtx.hls_port': "the media server's HLS listener",
  'mediamtx.webrtc_port': "the media server's WebRTC listener",
  'mediamtx.api_port': "the media server's control API",
  'mediamtx.auth_hook_port': 'the stream authorization hook',
};

export function describeStartFailure(error: unknown, loaded: LoadedConfig): string {
  const message = error instanceof Error ? error.message : String(error);
  const failure = (typeof error === 'object' && error !== null ? error : {}) as BindFailure;
  const code = failure.code;
  const port = typeof failure.port === 'number' ? failure.port : null;
  const host = typeof failure.address === 'string' ? failure.address : null;
  if (port === null || !['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'].includes(String(code))) {
    return message;
  }
  const ports = keysHolding(loaded, (key, value) => /(^|_)port$/.test(key) && value === port);
  const keys = ports.map((k) => setting(loaded, k)).join(' or ') || 'its port setting';
  const what =
    typeof failure.what === 'string'
      ? `the ${failure.what}`
      : (LISTENERS[ports[0] ?? ''] ?? 'a listener');
  const where = host ? `${host}:${port}` : `port ${port}`;
  if (code === 'EADDRINUSE') {
    return (
      `Cannot start ${what}: port ${port}${host ? ` on ${host}` : ''} (${keys}) is already in use, ` +
      'most likely by another camera-service or MediaMTX running on this machine. Stop it ' +
      `(\`ss -ltnp 'sport = :${port}'\` shows which process holds the port), or set ` +
      `${ports[0] ?? 'the port'} to another port (0 picks a free one).`
    );
  }
  if (code === 'EACCES') {
    return (
      `Cannot start ${what}: no permission to listen on ${where} (${keys}); ports below 1024 ` +
      `need root or CAP_NET_BIND_SERVICE. Set ${ports[0] ?? 'the port'} above 1023, or to 0 for a free one.`
    );
  }
  const hosts = keysHolding(loaded, (key, value) => /(^|_)host$/.test(key) && value === host);
  const hostKeys = hosts.map((k) => setting(loaded, k)).join(' or ') || 'its host setting';
  return (
    `Cannot start ${what}: ${host ?? 'the address'} (${hostKeys}) is not an address of this ` +
    'machine. Set it to one of its addresses (`ip -brief address` lists them), or to 0.0.0.0 for all.'
  );
}

/** The dotted keys whose value matches. */
function keysHolding(
  loaded: LoadedConfig,
  match: (key: string, value: unknown) => boolean,
): string[] {
  const found: string[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (match(key, value)) found.push([...path, key].join('.'));
      else walk(value, [...path, key]);
    }
  };
  walk(loaded.config, []);
  return found;
}

/** A key, and the variable that set it if one did: "mediamtx.rtsp_port, set by CAMERA_...". */
function setting(loaded: LoadedConfig, key: string): string {
  const variable = loaded.envOverrides[key];
  return variable ? `${key}, set by ${variable}` : key;
}
