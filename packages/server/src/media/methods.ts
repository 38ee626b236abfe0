/** The media plane's JSON-RPC methods. */
import { ServiceError } from '../errors/index.js';
import type { MethodRegistry } from '../rpc/index.js';
import { MediaServerError } from './client.js';
import { getStreams } from './contracts.js';
import type { MediaPlane } from './plane.js';

/** A media server failure as the client sees it: -1003 with the media server's answer. */
export function mediaServerError(error: unknown): unknown {
  if (error instanceof MediaServerError) {
    return new ServiceError('media_server_error', error.message, {
      reason: error.reason,
      ...(error.status !== null && { status: error.status }),
    });
  }
  return error;
}

export function registerMediaMethods(methods: MethodRegistry, plane: MediaPlane): void {
  methods.register(getStreams, async (_params, ctx) => {
    if (!plane.breaker.allows()) {
      throw new ServiceError(
        'media_server_error',
        'The media server is not answering; the service keeps retrying. Check /health/mediamtx for the reason.',
      );
    }
    try {
      const paths = await plane.client.listPaths({ correlationId: ctx.correlationId });
      return paths.map((p) => ({
        name: p.name,
        source: p.source?.type ?? null,
        ready: p.ready,
        readers: p.readers.length,
        bytes_sent: p.bytesSent,
      }));
    } catch (error) {
      throw mediaServerError(error);
    }
  });
}
