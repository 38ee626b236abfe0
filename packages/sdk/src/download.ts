/**
 * File downloads over HTTP: GET /files/<kind>/<name> on the API port (the host and port
 * of the WebSocket URL), with the client's credential as `Authorization: Bearer`. The
 * body is streamed into a sink (a Blob in browsers, a file in Node), never held twice; a
 * connection that drops mid-body is resumed with `Range` and `If-Range` (the ETag), so a
 * file that changed meanwhile starts over instead of being spliced; the final size must
 * equal the file's. Uses the global fetch (browsers, Node 20).
 */
import { DownloadError, type DownloadErrorKind } from './errors.js';

export type FileKind = 'recordings' | 'snapshots';

export interface DownloadProgress {
  /** Bytes of the file held so far (counting resumeFrom). */
  received: number;
  /** The file's size, once the server said it. */
  total: number | null;
}

export interface DownloadOptions {
  /** Node only: write the file here (created or, with resumeFrom, continued). */
  to?: string;
  /** Told after each chunk. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborts the download (it rejects with a DownloadError of kind `aborted`). */
  signal?: AbortSignal;
  /** Start at this byte: the caller already holds the bytes before it (in `to`, in Node). */
  resumeFrom?: number;
  /** The ETag of the bytes already held, so a changed file starts over (If-Range). */
  etag?: string;
  /** Failed attempts in a row without progress before giving up; default 5. */
  retries?: number;
}

export interface DownloadResult {
  /** The file's size: every byte was received (checked). */
  size: number;
  etag: string | null;
  contentType: string | null;
  /** How many times the transfer was resumed after a failure. */
  resumes: number;
  /** In browsers (and in Node without `to`): the file. */
  blob?: Blob;
  /** In Node with `to`: where it was written. */
  path?: string;
}

/** Where the bytes go. */
export interface DownloadSink {
  /** Drops whatever follows `offset`, so writing continues there. */
  reset(offset: number): Promise<void>;
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<Pick<DownloadResult, 'blob' | 'path'>>;
  /** The download failed: release what is held (the file keeps its bytes for a resume). */
  close(): Promise<void>;
}

/** Holds the file in memory and ends as a Blob. */
export function blobSink(type: () => string | null): DownloadSink {
  let parts: Uint8Array[] = [];
  return {
    // Bytes before `offset` are the caller's (resumeFrom): the Blob holds what follows.
    async reset() {
      parts = [];
    },
    async write(chunk) {
      parts.push(chunk);
    },
    async finish() {
      const blob = new Blob(parts as BlobPart[], { type: type() ?? '' });
      parts = [];
      return { blob };
    },
    async close() {
      parts = [];
    },
  };
}

/** The HTTP URL of a file, from the WebSocket URL (ws → http, wss → https). */
export function fileUrl(wsUrl: string, kind: FileKind, name: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = `/files/${kind}/${encodeURIComponent(name)}`;
  url.search = '';
  url.hash = '';
  return url.href;
}

const KINDS: Record<number, DownloadErrorKind> = {
  400: 'invalid_filename',
  401: 'authentication_failed',
  403: 'permission_denied',
  404: 'file_not_found',
  429: 'busy',
  503: 'busy',
};

async function httpError(res: Response, name: string): Promise<DownloadError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: the status says it
  }
  const retry = res.headers.get('retry-after');
  return new DownloadError(
    `Cannot download ${name}: ${message}${retry ? ` (retry after ${retry} s)` : ''}`,
    KINDS[res.status] ?? 'http_error',
    res.status,
  );
}

function aborted(name: string): DownloadError {
  return new DownloadError(`The download of ${name} was aborted.`, 'aborted');
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The size in a Content-Range header (`bytes 0-9/100` or `bytes *\/100`). */
function rangeTotal(header: string | null): { start: number | null; total: number | null } {
  const match = /^bytes (?:(\d+)-\d+|\*)\/(\d+)$/.exec(header ?? '');
  if (!match) return { start: null, total: null };
  return { start: match[1] === undefined ? null : Number(match[1]), total: Number(match[2]) };
}

export async function downloadFile(
  wsUrl: string,
  token: string | undefined,
  kind: FileKind,
  name: string,
  options: DownloadOptions,
  makeSink: (type: () => string | null) => DownloadSink = blobSink,
): Promise<DownloadResult> {
  const url = fileUrl(wsUrl, kind, name);
  const { signal, onProgress } = options;
  const retries = options.retries ?? 5;
  let offset = options.resumeFrom ?? 0;
  let etag = options.etag ?? null;
  let contentType: string | null = null;
  let total: number | null = null;
  let failures = 0;
  let resumes = 0;
  const sink = makeSink(() => contentType);
  let finished = false;
  try {
    await sink.reset(offset);
    for (;;) {
      if (signal?.aborted) throw aborted(name);
      const headers: Record<string, string> = {};
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (etag) headers['if-range'] = etag;
      }
      const before = offset;
      let problem: unknown;
      try {
        const res = await fetch(url, { headers, signal });
        if (res.status === 416) {
          const { total: size } = rangeTotal(res.headers.get('content-range'));
          await res.body?.cancel();
          if (size !== null && size === offset) {
            total = size;
            break;
          }
          throw new DownloadError(
            `Cannot resume ${name} at byte ${offset}: the file has ${size ?? 'an unknown number of'} bytes.`,
            'size_mismatch',
            416,
          );
        }
        if (!res.ok) throw await httpError(res, name);
        contentType = res.headers.get('content-type');
        const length = Number(res.headers.get('content-length') ?? Number.NaN);
        if (res.status === 206) {
          const range = rangeTotal(res.headers.get('content-range'));
          if (range.start !== offset) {
            await res.body?.cancel();
            throw new DownloadError(
              `The server answered ${name} from byte ${range.start}, not ${offset}.`,
              'http_error',
              206,
            );
          }
          total = range.total;
        } else {
          // The whole file: a first request, or the file changed since (If-Range).
          if (offset > 0) {
            offset = 0;
            await sink.reset(0);
          }
          total = Number.isFinite(length) ? length : null;
        }
        const newEtag = res.headers.get('etag');
        if (newEtag) etag = newEtag;
        if (!res.body) throw new DownloadError(`The server sent no body for ${name}.`, 'network');
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await sink.write(value);
          offset += value.byteLength;
          onProgress?.({ received: offset, total });
        }
        if (total === null || offset === total) break;
        problem = new DownloadError(
          `The connection ended after ${offset} of ${total} bytes of ${name}.`,
          'network',
        );
      } catch (error) {
        if (signal?.aborted) throw aborted(name);
        if (error instanceof DownloadError && error.kind !== 'network') throw error;
        problem = error;
      }
      if (offset > before) failures = 0;
      failures += 1;
      if (failures > retries) {
        if (problem instanceof DownloadError) throw problem;
        throw new DownloadError(
          `The download of ${name} failed after ${offset} bytes: ${(problem as Error).message}.`,
          'network',
        );
      }
      resumes += 1;
      await pause(Math.min(2000, 100 * 2 ** (failures - 1)), signal);
    }
    if (total !== null && offset !== total) {
      throw new DownloadError(
        `${name} arrived with ${offset} bytes, not ${total}.`,
        'size_mismatch',
      );
    }
    const held = await sink.finish();
    finished = true;
    return { size: offset, etag, contentType, resumes, ...held };
  } finally {
    if (!finished) await sink.close();
  }
}
