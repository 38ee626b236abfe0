/**
 * The authentication hook, as MediaMTX's `authMethod: http` has it: for every publish,
 * read and API action the relay asks a hook with exactly the request MediaMTX POSTs to
 * `authHTTPAddress`, and allows the action when it answers yes. `httpAuthHook` is that
 * hook over HTTP: a 2xx answer allows; any other answer, an error or a timeout denies;
 * `exclude` lists actions (and paths) allowed without asking, as `authHTTPExclude` does.
 */

export type AuthAction = 'publish' | 'read' | 'playback' | 'api' | 'metrics' | 'pprof';
export type AuthProtocol = 'rtsp' | 'rtmp' | 'hls' | 'webrtc' | 'srt' | '';

/** Exactly the JSON body MediaMTX POSTs to authHTTPAddress. */
export interface AuthRequest {
  ip: string;
  user: string;
  password: string;
  token: string;
  action: AuthAction;
  path: string;
  protocol: AuthProtocol;
  id: string | null;
  query: string;
}

export type AuthHook = (request: AuthRequest) => Promise<boolean>;

/** One entry of `authHTTPExclude`: an action, and for publish/read/playback a path. */
export interface AuthExclusion {
  action: AuthAction;
  /** Empty or absent: any path; `~regexp`: paths the expression matches; else that path. */
  path?: string;
}

export const AUTH_ACTIONS: readonly AuthAction[] = [
  'publish',
  'read',
  'playback',
  'api',
  'metrics',
  'pprof',
];

const PATH_ACTIONS = new Set<AuthAction>(['publish', 'read', 'playback']);

/** Whether `request` is one of `exclusions`, with MediaMTX's matching of permissions. */
export function isExcluded(exclusions: readonly AuthExclusion[], request: AuthRequest): boolean {
  return exclusions.some((entry) => {
    if (entry.action !== request.action) return false;
    if (!PATH_ACTIONS.has(entry.action)) return true;
    const path = entry.path ?? '';
    if (path === '') return true;
    if (path.startsWith('~')) {
      try {
        return new RegExp(path.slice(1)).test(request.path);
      } catch {
        return false;
      }
    }
    return path === request.path;
  });
}

export interface HttpAuthHookOptions {
  /** Longest wait for the answer (MediaMTX uses its readTimeout, 10 s); past it, denied. */
  timeoutMs?: number;
  exclude?: AuthExclusion[];
}

/** The hook MediaMTX's `authMethod: http` is: POST the request as JSON to `address`. */
export function httpAuthHook(address: string, options: HttpAuthHookOptions = {}): AuthHook {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(
      `the authentication address "${address}" is not a URL; use http://host:port/path`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(
      `the authentication address "${address}" is not http:// or https://; MediaMTX POSTs to an HTTP server`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const exclude = options.exclude ?? [];
  return async (request) => {
    if (isExcluded(exclude, request)) return true;
    // The fields in MediaMTX's order, and no others.
    const body = JSON.stringify({
      ip: request.ip,
      user: request.user,
      password: request.password,
      token: request.token,
      action: request.action,
      path: request.path,
      protocol: request.protocol,
      id: request.id,
      query: request.query,
    });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.status >= 200 && response.status <= 299;
    } catch {
      return false;
    }
  };
}
