/**
 * The page's JSON-RPC connection (the SDK's browser client on /ws). The session cookie
 * authenticates it at the upgrade, so the page never calls `authenticate`. When it drops it
 * comes back by itself (with a growing pause); when the session has ended (sign-out
 * elsewhere, expiry, a revoked key), it says so instead of retrying.
 */
import { CameraServiceClient, type MethodName, type Methods } from '@camera-service/sdk';
import { currentSession } from './session.js';

export type ConnectionState = 'connecting' | 'open' | 'ended';

export interface ConnectionEvents {
  state(state: ConnectionState): void;
  /** A fresh connection: reload what the page shows. */
  open(): void;
  notification(method: string, params: unknown): void;
}

export class Connection {
  #client: CameraServiceClient | null = null;
  #closed = false;
  #delay = 500;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #retrying = false;
  readonly #events: ConnectionEvents;
  state: ConnectionState = 'connecting';

  constructor(events: ConnectionEvents) {
    this.#events = events;
    void this.#open();
  }

  call<M extends MethodName>(
    method: M,
    params?: Methods[M]['params'],
  ): Promise<Methods[M]['result']> {
    return this.request(method, params) as Promise<Methods[M]['result']>;
  }

  /** For the admin methods a generated SDK may not know yet. */
  request(method: string, params?: unknown): Promise<unknown> {
    const client = this.#client;
    if (!client || !client.connected) {
      return Promise.reject(new Error('Not connected to the service: it is reconnecting.'));
    }
    return client.request(method, params ?? {});
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    void this.#client?.close();
    this.#client = null;
  }

  #setState(state: ConnectionState): void {
    this.state = state;
    this.#events.state(state);
  }

  async #open(): Promise<void> {
    if (this.#closed) return;
    this.#setState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const client = new CameraServiceClient({ url: `${scheme}://${location.host}/ws` });
    client.on('notification', (method, params) => this.#events.notification(method, params));
    client.on('close', () => {
      if (this.#client === client) this.#client = null;
      void this.#retry();
    });
    try {
      await client.connect();
    } catch {
      await this.#retry();
      return;
    }
    if (this.#closed) {
      void client.close();
      return;
    }
    this.#client = client;
    this.#delay = 500;
    this.#setState('open');
    this.#events.open();
  }

  async #retry(): Promise<void> {
    if (this.#closed || this.#retrying) return;
    this.#retrying = true;
    let session = null;
    try {
      session = await currentSession();
    } catch {
      session = { role: 'viewer' }; // The service is unreachable: keep trying.
    }
    if (session === null) {
      this.#closed = true;
      this.#setState('ended');
      return;
    }
    this.#setState('connecting');
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#retrying = false;
      void this.#open();
    }, this.#delay);
    this.#delay = Math.min(10_000, this.#delay * 2);
  }
}
