/**
 * `camera-service`: parses the command line, loads the configuration, builds the app and
 * handles signals (SIGTERM/SIGINT: graceful stop; SIGHUP: reload).
 */
import { Command, CommanderError } from 'commander';
import YAML from 'yaml';
import { App } from './app.js';
import { keysCreate, keysList, keysRevoke, mintToken } from './auth/index.js';
import {
  ConfigError,
  ConfigStore,
  loadConfig,
  type Config,
  type LoadedConfig,
} from './config/index.js';
import { createLogger } from './logging/index.js';
import { VERSION } from './version.js';

/** Exit status for an invalid configuration (sysexits EX_CONFIG); systemd should not restart on it. */
export const EXIT_CONFIG = 78;
/** Exit status after an unexpected fatal error (sysexits EX_SOFTWARE). */
export const EXIT_SOFTWARE = 70;
/** A hard limit on shutdown, after which the process exits anyway. */
const SHUTDOWN_HARD_LIMIT_MS = 5000;

/** Runs the command line; resolves with an exit code, or undefined while the daemon runs. */
export async function run(argv: readonly string[]): Promise<number | undefined> {
  let result: number | undefined;
  const program = new Command()
    .name('camera-service')
    .description(
      'MediaMTX Camera Service: USB and declared cameras as live streams, with a JSON-RPC API.',
    )
    .version(VERSION)
    .exitOverride()
    .option(
      '-c, --config <file>',
      'YAML configuration file (default: $CAMERA_SERVICE_CONFIG, else embedded defaults)',
    )
    .action(async (options: { config?: string }) => {
      result = await startDaemon(options.config);
    });

  program
    .command('config')
    .description(
      'Validate the configuration and print it with every default filled in (secrets hidden).',
    )
    .option('-c, --config <file>', 'YAML configuration file')
    .action((options: { config?: string }) => {
      const loaded = loadOrReport(options.config ?? program.opts<{ config?: string }>().config);
      if (!loaded) {
        result = EXIT_CONFIG;
        return;
      }
      process.stdout.write(YAML.stringify(redact(loaded.config)));
      result = 0;
    });

  /** Runs a subcommand on the loaded configuration, turning failures into exit statuses. */
  const withConfig =
    <A extends unknown[]>(action: (config: Config, ...args: A) => unknown) =>
    async (...args: A) => {
      const options = args[args.length - 2] as { config?: string };
      const loaded = loadOrReport(options.config ?? program.opts<{ config?: string }>().config);
      if (!loaded) {
        result = EXIT_CONFIG;
        return;
      }
      try {
        const ok = await action(loaded.config, ...args);
        result = ok === false ? 1 : 0;
      } catch (error) {
        process.stderr.write(`camera-service: ${(error as Error).message}\n`);
        result = error instanceof ConfigError ? EXIT_CONFIG : 1;
      }
    };
  const io = {
    out: (t: string) => process.stdout.write(t),
    err: (t: string) => process.stderr.write(t),
  };
  const configOption = ['-c, --config <file>', 'YAML configuration file'] as const;

  const keys = program
    .command('keys')
    .description('Manage API keys (stored hashed in auth.api_keys_file).');
  keys
    .command('create')
    .description('Create a key and print it once on stdout.')
    .requiredOption('--role <role>', 'viewer, operator or admin')
    .requiredOption('--name <name>', 'who or what the key is for')
    .option(...configOption)
    .action(
      withConfig((config, options: { role: string; name: string }) =>
        keysCreate(config, options, io),
      ),
    );
  keys
    .command('list')
    .description('List keys (never their secrets).')
    .option('--json', 'print JSON')
    .option(...configOption)
    .action(withConfig((config, options: { json?: boolean }) => keysList(config, options, io)));
  keys
    .command('revoke')
    .description('Revoke a key by id or name; sessions using it fail on their next call.')
    .argument('<id-or-name>')
    .option(...configOption)
    .action(withConfig((config, idOrName: string) => keysRevoke(config, idOrName, io)));

  program
    .command('token')
    .description('Mint a JWT with the configured secret and print it.')
    .requiredOption('--role <role>', 'viewer, operator or admin')
    .option('--ttl <lifetime>', 'e.g. 3600, 30m, 1h, 7d (default: auth.jwt_expiry_hours)')
    .option('--sub <name>', 'the subject claim (default: cli-<role>)')
    .option(...configOption)
    .action(
      withConfig((config, options: { role: string; ttl?: string; sub?: string }) =>
        mintToken(config, options, io),
      ),
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  return result;
}

function loadOrReport(file: string | undefined): LoadedConfig | null {
  try {
    return loadConfig({ file });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`camera-service: ${error.message}\n`);
    process.stderr.write(
      'Fix the keys above, or run `camera-service config --config FILE` to check a file.\n',
    );
    return null;
  }
}

function redact(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return /secret|password/.test(key) && value !== null ? '<hidden>' : value;
}

async function startDaemon(file: string | undefined): Promise<number | undefined> {
  const loaded = loadOrReport(file);
  if (!loaded) return EXIT_CONFIG;
  const { config } = loaded;
  const logging = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    environment: config.service.environment,
  });
  const log = logging.logger;
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'unexpected error; exiting so the supervisor restarts the service');
    process.exit(EXIT_SOFTWARE);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal(
      { err: reason },
      'unhandled promise rejection; exiting so the supervisor restarts the service',
    );
    process.exit(EXIT_SOFTWARE);
  });

  log.info(
    {
      version: VERSION,
      node: process.version,
      environment: config.service.environment,
      config_file: loaded.file ?? '(embedded defaults)',
      env_overrides: Object.values(loaded.envOverrides),
    },
    'camera-service starting',
  );
  const store = new ConfigStore(loaded);
  let app: App;
  try {
    app = new App({ config: store, log, setLogLevel: logging.setLevel });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`camera-service: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    log.fatal({ err: (error as Error).message }, 'camera-service could not start');
    return 1;
  }
  try {
    await app.start();
  } catch (error) {
    log.fatal({ err: (error as Error).message }, 'camera-service could not start');
    await app.stop();
    return 1;
  }

  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the configuration');
    app.reload();
  });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_HARD_LIMIT_MS).unref();
    app.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return undefined;
}
