/**
 * The built dashboard (packages/web/dist) at `/` on the API port. Only files that exist
 * in the directory are served, found by plain names (no dot segments, no hidden files, no
 * backslashes or NULs, each segment decoded once) and checked to resolve inside it after
 * symlinks; anything else is not the dashboard's and gets the API port's 404. Every answer
 * carries a strict Content-Security-Policy (this origin only); hashed files under
 * /assets/ are cached for a year, the rest revalidated.
 */
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSegment, targetPath } from '../transport/index.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Where the web package's build lands, seen from this file (built or run from source). */
export function defaultDashboardDir(): string {
  const candidates = ['../../../../web/dist', '../../../web/dist'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.@~-]{0,199}$/;

/** The file under `root` a request names, or null when it names none it may have. */
export function dashboardFile(root: string, url: string | undefined): string | null {
  const raw = targetPath(url);
  if (raw === null) return null;
  const parts = raw === '/' ? ['index.html'] : raw.slice(1).split('/');
  const names: string[] = [];
  for (const part of parts) {
    const name = decodeSegment(part);
    if (name === null || !SEGMENT.test(name) || name.includes('..')) return null;
    names.push(name);
  }
  let real: string;
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
    real = realpathSync(join(rootReal, ...names));
  } catch {
    return null;
  }
  if (!real.startsWith(rootReal + sep)) return null;
  try {
    if (!statSync(real).isFile()) return null;
  } catch {
    return null;
  }
  return real;
}

/** Whether the dashboard is built in `root`. */
export function dashboardBuilt(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/**
 * Serves a dashboard file; returns false (nothing sent) when the request is not for one,
 * so the caller answers it. `/` without a build answers how to build.
 */
export function serveDashboard(root: string, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return false;
  const isRoot = targetPath(req.url) === '/';
  if (isRoot && !dashboardBuilt(root)) {
    const text = `The dashboard is not built: run \`npm run build\` in the checkout (it builds packages/web into ${root}), or set server.dashboard_dir to a built copy. The API is at /ws, downloads at /files/.\n`;
    res.writeHead(404, {
      ...SECURITY_HEADERS,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(method === 'HEAD' ? undefined : text);
    return true;
  }
  const file = dashboardFile(root, req.url);
  if (file === null) return false;
  const size = statSync(file).size;
  const hashed = (targetPath(req.url) ?? '').startsWith('/assets/');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (method === 'HEAD') {
    res.end();
    return true;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
  return true;
}
