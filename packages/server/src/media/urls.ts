/**
 * Stream URLs: those a client is given (on the host name it used to reach the service,
 * since 127.0.0.1 means nothing on the client's machine), and the addresses the service's
 * own processes use to reach a media server it runs.
 */
import { hostname } from 'node:os';

export interface StreamUrls {
  rtsp: string;
  /** null when the media server has no WebRTC (the embedded relay, or turned off). */
  webrtc: string | null;
  hls: string;
  /** What reading them takes: a credential of this role, or null when anyone may watch. */
  credential: 'viewer' | null;
  /**
   * The same URLs carrying a credential, `{token}` standing for a JWT or API key, as
   * `?token=` (MediaMTX reads it on all three; ffmpeg cuts an RTSP password of more than
   * 127 bytes, and a JWT is longer). Null when none is needed.
   */
  token_urls: { rtsp: string; webrtc: string | null; hls: string } | null;
}

/** Where a viewer's own address for the service came from: the Host it used, and TLS. */
export interface ClientView {
  host: string | null;
  secure?: boolean;
}

export interface UrlPorts {
  rtsp: number;
  hls: number;
  webrtc: number | null;
}

export interface UrlOptions {
  ports: UrlPorts;
  /** server.public_host: the host name for every client, when set. */
  publicHost: string | null;
  /** mediamtx.listen_host: the fallback when neither is known. */
  listenHost: string;
  /** auth.anonymous_viewing: no credential needed. */
  anonymous: boolean;
}

/** A host as it goes into a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * Where this machine's processes (ffmpeg, the readiness check) reach a media server that
 * listens on `listenHost`: loopback when that is every address, else that address only
 * (where loopback reaches nothing).
 */
export function localHost(listenHost: string): string {
  return isWildcard(listenHost) ? '127.0.0.1' : listenHost;
}

/** The stream URLs of `path` for a client; https when it reached the service over TLS. */
export function streamUrls(path: string, client: ClientView, options: UrlOptions): StreamUrls {
  const fallback = isWildcard(options.listenHost) ? hostname() : options.listenHost;
  const host = urlHost(options.publicHost ?? client.host ?? fallback);
  const { ports } = options;
  // A page served over https cannot play http streams.
  const http = client.secure ? 'https' : 'http';
  const rtsp = `rtsp://${host}:${ports.rtsp}/${path}`;
  const webrtc = ports.webrtc === null ? null : `${http}://${host}:${ports.webrtc}/${path}/`;
  const hls = `${http}://${host}:${ports.hls}/${path}/index.m3u8`;
  return {
    rtsp,
    webrtc,
    hls,
    credential: options.anonymous ? null : 'viewer',
    token_urls: options.anonymous
      ? null
      : {
          rtsp: `${rtsp}?token={token}`,
          webrtc: webrtc === null ? null : `${webrtc}?token={token}`,
          hls: `${hls}?token={token}`,
        },
  };
}
