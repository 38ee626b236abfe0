/**
 * `camera-service`: parses the command line. With no command it runs the service
 * (daemon.ts); `config`, `keys` and `token` act on the files the configuration names and
 * exit; `mediamtx install` installs a MediaMTX binary (mediamtx-install/). Every message is a sentence saying what to do.
 */
import { Command, CommanderError } from 'commander';
import YAML from 'yaml';
import { keysCreate, keysList, keysRevoke, mintToken } from './auth/index.js';
import { ConfigError, type Config } from './config/index.js';
import {
  EXIT_CONFIG,
  EXIT_USAGE,
  loadOrReport,
  startDaemon,
  type DaemonOptions,
} from './daemon.js';
import { InstallError, installMediaMtx, type InstallOptions } from './mediamtx-install/index.js';
import { registerOpsCommands } from './ops/commands.js';
import { VERSION } from './version.js';

export { EXIT_CONFIG, EXIT_SOFTWARE, EXIT_USAGE } from './daemon.js';

const COMMANDS = ['config', 'keys', 'token', 'mediamtx', 'backup', 'restore', 'deploy'];

const HELP_AFTER = `
With no command, camera-service runs the service (cameras, streams, the JSON-RPC API and
health) in the foreground until SIGTERM or SIGINT; SIGHUP reloads the configuration.
The commands act on the files the configuration names and exit: give them the service's
--config.

Exit status: 0 done, or the service stopped cleanly; 1 the command failed, or the service
could not start (a port in use, say); 64 a command line it does not understand; 70 an
unexpected error; 78 an invalid configuration.`;

/**
 * Runs the command line; resolves with an exit code, or undefined while the daemon runs.
 * `daemon` is for `npm start` (see DaemonOptions).
 */
export async function run(
  argv: readonly string[],
  daemon: DaemonOptions = {},
): Promise<number | undefined> {
  let result: number | undefined;
  const program = new Command()
    .name('camera-service')
    .usage('[--config FILE] [command]')
    .description(
      'MediaMTX Camera Service: USB and declared cameras as live streams, with a JSON-RPC API.',
    )
    .version(VERSION)
    // Options of the program only before a command: `mediamtx install --version vX.Y.Z`
    // is that command's own option, not a request for this program's version.
    .enablePositionalOptions()
    .exitOverride()
    // Commander's own errors ("unknown option") as ours, with where to look next.
    .configureOutput({
      outputError: (text, write) => write(text.replace(/^error: /, 'camera-service: ')),
    })
    .showHelpAfterError('Run camera-service --help for the commands and options.')
    .option(
      '-c, --config <file>',
      'YAML configuration file (default: $CAMERA_SERVICE_CONFIG, else embedded defaults)',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (options: { config?: string }, command: Command) => {
      const [word] = command.args;
      if (word !== undefined) {
        process.stderr.write(`${unknownCommand(word)}\n`);
        result = EXIT_USAGE;
        return;
      }
      result = await startDaemon(options.config, daemon);
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
    .description('Create a key and print it once on stdout; it works at once.')
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

  const mediamtx = program
    .command('mediamtx')
    .description('Install the MediaMTX binary that managed mode runs.');
  mediamtx
    .command('install')
    .description(
      'Install MediaMTX from a release (checked against its SHA-256) or from a file, atomically.',
    )
    .option('--from <file>', 'a release archive (.tar.gz) or a mediamtx binary you have')
    .option('--version <vX.Y.Z>', 'the release to download')
    .option('--sha256 <hex>', "the archive's SHA-256 (required with --version)")
    .option('--url-base <url>', 'where releases are downloaded from (a mirror)')
    .option('--arch <name>', "the release's architecture (default: this machine's)")
    .option('--to <path>', 'where to install it (default: /usr/local/bin/mediamtx)')
    .action(async (options: InstallOptions) => {
      try {
        await installMediaMtx(options, io);
        result = 0;
      } catch (error) {
        if (!(error instanceof InstallError)) throw error;
        process.stderr.write(`camera-service: ${error.message}\n`);
        result = 1;
      }
    });

  registerOpsCommands(program, (code) => (result = code));

  // A word after the options is no command (checked in the root action); set last, so
  // the commands keep refusing extra arguments.
  program.allowExcessArguments();
  // A first word that is no command, before commander reads the options meant for it.
  const [first, ...rest] = argv;
  // `camera-service help [command]`: the service has an action of its own, so commander
  // adds no help command.
  const words = first === 'help' ? [...rest, '--help'] : [...argv];
  if (
    first !== undefined &&
    first !== 'help' &&
    !first.startsWith('-') &&
    !COMMANDS.includes(first)
  ) {
    process.stderr.write(`${unknownCommand(first)}\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(words, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
  return result;
}

/** The message for a first word that is no command: what the commands are, the closest. */
function unknownCommand(word: string): string {
  const closest = COMMANDS.map((c) => ({ c, d: distance(word, c) })).sort((a, b) => a.d - b.d)[0];
  const guess = closest && closest.d <= 2 ? ` Did you mean \`camera-service ${closest.c}\`?` : '';
  return (
    `camera-service: "${word}" is not a command; the commands are ${COMMANDS.join(', ')}, ` +
    `and with no command camera-service runs the service.${guess} ` +
    'Run camera-service --help for more.'
  );
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function redact(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return /secret|password/.test(key) && value !== null ? '<hidden>' : value;
}
