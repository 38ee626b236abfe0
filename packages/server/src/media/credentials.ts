/**
 * The service's own credentials for its media server, made anew at every start and never
 * written anywhere but the media server's path commands and the service's own reader URLs:
 *   publisher  the camera ffmpeg that publishes each path (runOnDemand)
 *   reader     the service's snapshots, recordings and readiness checks
 *   api        the control API (embedded and managed modes)
 * The stream authorization hook (auth/StreamAccess) accepts them, and the first two only
 * from this machine. Passwords are 256-bit random, URL-safe as they stand (base64url), so
 * they go into `rtsp://user:password@host/path` without escaping.
 */
import { randomBytes } from 'node:crypto';

export interface MediaCredential {
  user: string;
  password: string;
}

export interface MediaCredentials {
  publisher: MediaCredential;
  reader: MediaCredential;
  api: MediaCredential;
}

export function newMediaCredentials(): MediaCredentials {
  const secret = () => randomBytes(32).toString('base64url');
  return {
    publisher: { user: 'camera-service-publisher', password: secret() },
    reader: { user: 'camera-service-reader', password: secret() },
    api: { user: 'camera-service', password: secret() },
  };
}

/** `rtsp://host:port` → `rtsp://user:password@host:port`. */
export function withCredential(base: string, credential: MediaCredential): string {
  return base.replace(
    /^(rtsps?:\/\/)/,
    `$1${encodeURIComponent(credential.user)}:${encodeURIComponent(credential.password)}@`,
  );
}

/** A URL or command line with every `scheme://user:password@` made `scheme://user:***@`, for logs. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*):[^\s@/'"]*@/gi, '$1:***@');
}
