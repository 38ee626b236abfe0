/**
 * Node entry: the same client, with the `ws` package as its WebSocket, and downloads that
 * can stream into a file (`downloadFile(kind, name, { to })`).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { WebSocket } from 'ws';
import {
  CameraServiceClient as BaseClient,
  type ClientOptions,
  type WebSocketConstructor,
} from './client.js';
import type { DownloadOptions, DownloadSink } from './download.js';
import { DownloadError } from './errors.js';

export * from './index.js';

/** Writes a download into a file: created, or continued at resumeFrom. */
export function fileSink(path: string, resumeFrom: number): DownloadSink {
  let handle: FileHandle | undefined;
  let position = 0;
  const ensure = async () => {
    if (handle) return handle;
    try {
      handle = await open(path, resumeFrom > 0 ? 'r+' : 'w');
    } catch (error) {
      throw new DownloadError(
        `Cannot write ${path}: ${(error as Error).message}${resumeFrom > 0 ? ' (resumeFrom needs the partial file)' : ''}.`,
        'http_error',
      );
    }
    return handle;
  };
  return {
    async reset(offset) {
      const file = await ensure();
      await file.truncate(offset);
      position = offset;
    },
    async write(chunk) {
      const file = await ensure();
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await file.write(chunk, done, chunk.byteLength - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    },
    async finish() {
      await handle?.close();
      handle = undefined;
      return { path };
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}

export class CameraServiceClient extends BaseClient {
  constructor(options: ClientOptions) {
    super({ WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
  }

  protected override downloadSink(options: DownloadOptions) {
    const to = options.to;
    if (to === undefined) return super.downloadSink(options);
    return () => fileSink(to, options.resumeFrom ?? 0);
  }
}
