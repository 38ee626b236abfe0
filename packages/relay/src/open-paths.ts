/**
 * The simplest path directory: any path may be published once and read while published.
 * The relay's configured paths (runOnDemand, sources) build on the same interface.
 */
import { EventEmitter } from 'node:events';
import type { PathDirectory } from './rtsp/connection.js';
import { Stream } from './stream.js';

export class OpenPaths
  extends EventEmitter<{ published: [path: string, stream: Stream]; unpublished: [path: string] }>
  implements PathDirectory
{
  readonly streams = new Map<string, Stream>();

  async read(path: string): Promise<Stream | { status: number; reason: string }> {
    return this.streams.get(path) ?? { status: 404, reason: `no stream is published on ${path}` };
  }

  publish(path: string, sdp: string): Stream | { status: number; reason: string } {
    if (this.streams.has(path))
      return { status: 400, reason: `someone is already publishing to ${path}` };
    const stream = new Stream(sdp);
    this.streams.set(path, stream);
    this.emit('published', path, stream);
    return stream;
  }

  unpublish(path: string, stream: Stream): void {
    if (this.streams.get(path) === stream) this.streams.delete(path);
    stream.close('the publisher disconnected');
    this.emit('unpublished', path);
  }

  readerLeft(): void {}
}
