/** Node entry: the same client, with the `ws` package as its WebSocket. */
import { WebSocket } from 'ws';
import {
  CameraServiceClient as BaseClient,
  type ClientOptions,
  type WebSocketConstructor,
} from './client.js';

export * from './index.js';

export class CameraServiceClient extends BaseClient {
  constructor(options: ClientOptions) {
    super({ WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
  }
}
