/** Waits for one event of an SDK client (its emitter is not Node's), with a timeout. */
import type { CameraServiceClient, ClientEvents } from '@camera-service/sdk';
import { within } from '../helpers/wait.js';

export function nextEvent<E extends keyof ClientEvents>(
  client: CameraServiceClient,
  event: E,
  timeoutMs = 5000,
  match: (...args: ClientEvents[E]) => boolean = () => true,
): Promise<ClientEvents[E]> {
  let off = () => {};
  const seen = new Promise<ClientEvents[E]>((resolve) => {
    off = client.on(event, (...args: ClientEvents[E]) => {
      if (!match(...args)) return;
      off();
      resolve(args);
    });
  });
  return within(seen, timeoutMs, `the client's ${String(event)} event`).finally(() => off());
}
