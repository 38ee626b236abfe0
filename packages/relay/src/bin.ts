#!/usr/bin/env node
/** camera-relay: the embedded media server as a standalone daemon. */
import { Command } from 'commander';
import { RelayConfigError, loadRelayConfig } from './config.js';
import { RELAY_VERSION, Relay } from './relay.js';

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

const program = new Command()
  .name('camera-relay')
  .description('RTSP relay with the MediaMTX control API subset the camera service uses.')
  .version(RELAY_VERSION)
  .option(
    '-c, --config <file>',
    'YAML configuration (a subset of mediamtx.yml); defaults without it',
  )
  .action(async (options: { config?: string }) => {
    let loaded;
    try {
      loaded = loadRelayConfig(options.config);
    } catch (error) {
      const message =
        error instanceof RelayConfigError
          ? error.message
          : `cannot read ${options.config}: ${(error as Error).message}`;
      process.stderr.write(`camera-relay: ${message}\n`);
      process.exitCode = 78;
      return;
    }
    if (loaded.ignored.length > 0)
      log('ignoring keys the relay does not implement', { keys: loaded.ignored });
    const relay = new Relay({
      ...loaded.options,
      log: (level, fields, message) => log(message, { level, ...fields }),
    });
    let ports;
    try {
      ports = await relay.start();
    } catch (error) {
      // A port in use, an address not on this machine: one line, no stack trace.
      process.stderr.write(`camera-relay: cannot start: ${(error as Error).message}\n`);
      await relay.stop().catch(() => undefined);
      process.exitCode = 1;
      return;
    }
    log('listening', {
      rtsp_port: ports.rtspPort,
      api_port: ports.apiPort,
      hls_port: ports.hlsPort,
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(1);
      stopping = true;
      log('stopping', { signal });
      setTimeout(() => process.exit(1), 8000).unref();
      relay.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

await program.parseAsync();
