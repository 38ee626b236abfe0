/**
 * The path, query and track control an RTSP request URL names, split as gortsplib splits
 * them for MediaMTX. Clients append a track's control to the session URL, so with a query
 * it lands inside the query: ffmpeg reads `rtsp://h/cam?token=x` with SETUP
 * `rtsp://h/cam?token=x/trackID=0` and PLAY `rtsp://h/cam?token=x/`. Pure; never throws.
 */
import { unescape } from '../http-target.js';

export interface RtspTarget {
  /** Without leading or trailing slashes. */
  path: string;
  /** As sent, without the `?` (and without a track control appended to it). */
  query: string;
  /** A track control taken off the query or the path (SETUP only), else null. */
  control: string | null;
}

/**
 * `kind`: `announce` keeps path and query as sent; `setup` takes the track control off;
 * anything else drops the trailing slash clients put on the session URL.
 */
export function rtspTarget(uri: string, kind: 'announce' | 'setup' | 'other'): RtspTarget | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') return null;
  let rawPath = url.pathname;
  let query = url.search.slice(1);
  let control: string | null = null;
  if (kind === 'setup') {
    const inQuery = query.lastIndexOf('/');
    const inPath = rawPath.lastIndexOf('/trackID=');
    if (inQuery >= 0) {
      control = query.slice(inQuery + 1) || null;
      query = query.slice(0, inQuery);
    } else if (inPath >= 0) {
      control = rawPath.slice(inPath + 1);
      rawPath = rawPath.slice(0, inPath);
    }
  } else if (kind === 'other' && query.endsWith('/')) {
    query = query.slice(0, -1);
  }
  const path = unescape(rawPath, false);
  if (path === null) return null;
  return { path: path.replace(/^\/+|\/+$/g, ''), query, control };
}
