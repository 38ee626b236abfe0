/**
 * The relay under test, in a process of its own so that its CPU and memory are its own:
 *
 *   node bench/dist/relay-server.js
 *
 * Starts `new Relay({rtspPort: 0, apiPort: 0, allowUnconfigured: true})` on 127.0.0.1,
 * prints a `listening` JSON line with its ports, then a `stats` line every STATS_EVERY_MS
 * (see relay-protocol.ts). Stops on SIGTERM or SIGINT, or when stdin (a pipe from the
 * orchestrator) closes, printing one last `stats` line first.
 *
 * The counters come from Stream.stats() rather than the control API, which has neither
 * packet counts nor readersDropped.
 */
import { Relay, type Stream } from '@camera-service/relay';
import { exitWithParent, fail as failAs } from './child-side.js';
import { STATS_EVERY_MS, type RelayServerLine, type RelayServerStats } from './relay-protocol.js';

/** relay.stop() closes every socket at once; this is only a guard against a hang. */
const STOP_WITHIN_MS = 3000;

const fail = (message: string): never => failAs('relay-server', message);

function print(line: RelayServerLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const relay = new Relay({ rtspPort: 0, apiPort: 0, allowUnconfigured: true });
  const { rtspPort, apiPort } = await relay.start();

  // Every stream the relay has had: an ended stream's counts stay in the totals.
  const streams = new Set<Stream>();
  const stats = (): RelayServerStats => {
    let publishing = 0;
    for (const name of relay.paths.names()) {
      const stream = relay.paths.state(name)?.stream;
      if (!stream) continue;
      publishing += 1;
      streams.add(stream);
    }
    const totals: RelayServerStats = {
      kind: 'stats',
      at: Date.now(),
      publishing,
      readers: 0,
      readersDropped: 0,
      bytesReceived: 0,
      bytesSent: 0,
      packetsReceived: 0,
      packetsSent: 0,
    };
    for (const stream of streams) {
      const s = stream.stats();
      totals.readers += s.readers;
      totals.readersDropped += s.readersDropped;
      totals.bytesReceived += s.bytesReceived;
      totals.bytesSent += s.bytesSent;
      totals.packetsReceived += s.packetsReceived;
      totals.packetsSent += s.packetsSent;
    }
    return totals;
  };

  const timer = setInterval(() => print(stats()), STATS_EVERY_MS);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    print(stats());
    setTimeout(() => fail(`relay.stop() took over ${STOP_WITHIN_MS} ms`), STOP_WITHIN_MS).unref();
    relay.stop().then(
      () => process.stdout.write('', () => process.exit(0)),
      (error: unknown) => fail(`relay.stop() failed: ${String(error)}`),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  exitWithParent('relay-server', stop);
  print({ kind: 'listening', pid: process.pid, rtspPort, apiPort });
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
