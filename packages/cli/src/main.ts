/**
 * camera-cli's entry: parses the command line (node:util parseArgs), resolves the target
 * (--url/--token, CAMERA_URL/CAMERA_TOKEN, a profile), connects the SDK client once, runs
 * the command, and exits with the code the table in docs/clients/cli.md gives.
 */
import { parseArgs } from 'node:util';
import { CameraServiceClient } from '@camera-service/sdk';
import { COMMANDS, type Command, type Flags } from './commands.js';
import { completionScript } from './completion.js';
import { EXIT, UsageError, errorJson, exitCodeOf } from './exit-codes.js';
import { Output, type Io } from './output.js';
import { DEFAULT_URL, configPath, resolveTarget } from './profile.js';

export const VERSION = '0.1.0';

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  duration: { type: 'string' },
  detach: { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  device: { type: 'string' },
  sort: { type: 'string' },
  format: { type: 'string' },
  quality: { type: 'string' },
  filename: { type: 'string' },
  overwrite: { type: 'boolean' },
  segment: { type: 'string' },
  'policy-type': { type: 'string' },
  enabled: { type: 'string' },
  'max-age-days': { type: 'string' },
  'max-size-gb': { type: 'string' },
  count: { type: 'string' },
} as const;

const GLOBAL = ['url', 'token', 'profile', 'json', 'timeout', 'help', 'version'];

export function usage(command?: Command): string {
  if (command) {
    const own = command.options.map((o) => `--${o}`).join(' ');
    return [
      `Usage: camera-cli ${command.words.join(' ')}${command.args ? ` ${command.args}` : ''} [options]`,
      '',
      command.summary,
      own ? `\nOptions: ${own}` : '',
      'Global: --url URL --token TOKEN --profile NAME --json --timeout SECONDS',
    ]
      .filter((l) => l !== '')
      .join('\n');
  }
  const width = Math.max(...COMMANDS.map((c) => `${c.words.join(' ')} ${c.args}`.length));
  const lines = COMMANDS.map(
    (c) => `  ${`${c.words.join(' ')} ${c.args}`.padEnd(width)}  ${c.summary}`,
  );
  return [
    'Usage: camera-cli COMMAND [ARGS] [options]',
    '',
    'The MediaMTX Camera Service from a shell: every API method, tables for people, --json for scripts.',
    '',
    'Commands:',
    ...lines,
    `  ${'completion bash'.padEnd(width)}  Print the bash completion script (source <(camera-cli completion bash)).`,
    '',
    'Global options:',
    `  --url URL         The service's WebSocket URL (default ${DEFAULT_URL}; env CAMERA_URL).`,
    '  --token TOKEN     A JWT or API key (env CAMERA_TOKEN).',
    '  --profile NAME    A profile of the config file (env CAMERA_PROFILE).',
    '  --json            Print the result as JSON (errors as JSON on stderr).',
    '  --timeout SECONDS Per-call timeout (default 30).',
    "  -h, --help        This help, or a command's: camera-cli recordings ls --help.",
    '',
    `Config file: ~/.config/camera-cli/config.json (env CAMERA_CLI_CONFIG).`,
    'Exit codes: 0 ok, 1 server or other error, 2 usage or invalid argument, 3 authentication or permission, 4 camera or file not found, 5 busy or unavailable.',
  ].join('\n');
}

function findCommand(positionals: string[]): { command: Command; args: string[] } | null {
  let best: Command | null = null;
  for (const c of COMMANDS) {
    if (
      c.words.every((w, i) => positionals[i] === w) &&
      (!best || c.words.length > best.words.length)
    )
      best = c;
  }
  return best ? { command: best, args: positionals.slice(best.words.length) } : null;
}

export interface RunOptions {
  io?: Io;
  env?: NodeJS.ProcessEnv;
  /** Resolves to stop watch and timed recordings (default: SIGINT/SIGTERM). */
  interrupted?: Promise<void>;
}

/** Runs a command line; resolves with the exit code. */
export async function run(argv: string[], options: RunOptions = {}): Promise<number> {
  const io: Io = options.io ?? { stdout: process.stdout, stderr: process.stderr };
  const env = options.env ?? process.env;
  const json = argv.includes('--json');
  const out = new Output(io, json);
  let client: CameraServiceClient | undefined;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}. See camera-cli --help.`);
    }
    const { values, positionals } = parsed;
    if (values.version) {
      out.result({ version: VERSION }, () => VERSION);
      return EXIT.ok;
    }
    if (positionals[0] === 'completion') {
      if (positionals[1] !== 'bash')
        throw new UsageError('camera-cli completion supports bash: camera-cli completion bash.');
      io.stdout.write(completionScript());
      return EXIT.ok;
    }
    if (positionals.length === 0 || positionals[0] === 'help') {
      const found = findCommand(positionals.slice(1));
      if (positionals.length === 0 && !values.help) {
        io.stderr.write(`${usage()}\n`);
        return EXIT.usage;
      }
      io.stdout.write(`${usage(found?.command)}\n`);
      return EXIT.ok;
    }
    const found = findCommand(positionals);
    if (!found) {
      const group = COMMANDS.filter((c) => c.words[0] === positionals[0] && c.words.length > 1);
      throw new UsageError(
        group.length
          ? `camera-cli ${positionals[0]} needs one of: ${group.map((c) => c.words[1]).join(', ')}.`
          : `There is no command ${positionals[0]}. See camera-cli --help.`,
      );
    }
    const { command, args } = found;
    if (values.help) {
      io.stdout.write(`${usage(command)}\n`);
      return EXIT.ok;
    }
    const allowed = new Set<string>([...GLOBAL, ...command.options]);
    const stray = Object.keys(values).filter((k) => !allowed.has(k));
    if (stray.length) {
      throw new UsageError(
        `camera-cli ${command.words.join(' ')} takes no --${stray[0]}. See camera-cli ${command.words.join(' ')} --help.`,
      );
    }
    const maxArgs = (command.args.match(/[A-Z]+/g) ?? []).length;
    if (args.length < command.required || args.length > maxArgs) {
      throw new UsageError(
        `Usage: camera-cli ${command.words.join(' ')}${command.args ? ` ${command.args}` : ''}`,
      );
    }
    const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new UsageError(`--timeout ${values.timeout} is not a number of seconds.`);
    }
    const target = resolveTarget(values, env);
    const interrupted =
      options.interrupted ??
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    const ctx = {
      out,
      flags: values as Flags,
      interrupted,
      client: async () => {
        if (client) return client;
        client = new CameraServiceClient({
          url: target.url,
          authToken: target.token,
          requestTimeoutMs: timeoutSeconds * 1000,
          connectTimeoutMs: Math.min(10_000, timeoutSeconds * 1000),
          // One-shot commands fail fast; watch rides out restarts.
          reconnect: command.words[0] === 'watch' && { keepAlive: true },
        });
        await client.connect();
        return client;
      },
    };
    await command.run(ctx, args);
    return EXIT.ok;
  } catch (error) {
    const code = exitCodeOf(error);
    if (json) io.stderr.write(`${JSON.stringify(errorJson(error))}\n`);
    else io.stderr.write(`camera-cli: ${(error as Error).message ?? String(error)}\n`);
    if (code === EXIT.auth && !json) {
      io.stderr.write(
        `(credential from --token, CAMERA_TOKEN or a profile in ${configPath(env)})\n`,
      );
    }
    return code;
  } finally {
    await client?.close();
  }
}
