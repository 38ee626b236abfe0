/**
 * The operations commands of the command line: `backup`, `restore` and `deploy`
 * (backup.ts, deploy.ts). Kept here so main.ts only registers them.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/index.js';
import { EXIT_CONFIG, EXIT_USAGE } from '../daemon.js';
import { BackupError, createBackup, restoreBackup } from './backup.js';
import { DeployError, deploy } from './deploy.js';

const io = {
  out: (t: string) => process.stdout.write(t),
  err: (t: string) => process.stderr.write(t),
};

/** A failure as an exit status, its message on stderr. */
function report(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`camera-service: ${error.message}\n`);
    if (error.hint) process.stderr.write(`${error.hint}\n`);
    return EXIT_CONFIG;
  }
  if (error instanceof BackupError || error instanceof DeployError) {
    process.stderr.write(`camera-service: ${error.message}\n`);
    return 1;
  }
  throw error;
}

function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`camera-service: ${name} expects a number above 0, not "${value}".\n`);
    process.exit(EXIT_USAGE);
  }
  return n;
}

export function registerOpsCommands(program: Command, done: (code: number) => void): void {
  const globalConfig = () => program.opts<{ config?: string }>().config;

  program
    .command('backup')
    .description(
      'Write a tar.gz of the configuration, API keys, JWT secret, retention policy and recording journals (with --with-media: recordings and snapshots), with a sha256 manifest.',
    )
    .requiredOption('--out <file>', 'the archive to write (mode 0600)')
    .option('--with-media', 'include the recordings and snapshots')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(async (options: { out: string; withMedia?: boolean; config?: string }) => {
      try {
        const loaded = loadConfig({ file: options.config ?? globalConfig() });
        await createBackup(loaded, { out: options.out, withMedia: options.withMedia === true }, io);
        done(0);
      } catch (error) {
        done(report(error));
      }
    });

  program
    .command('restore')
    .description(
      'Restore a backup: verify its manifest, then write every file back atomically (secret and keys 0600). Stop the service first.',
    )
    .argument('<file>', 'an archive made by camera-service backup')
    .option('--force', 'overwrite a state that is not empty')
    .option('-c, --config <file>', 'where the configuration file goes, and is read from')
    .action(async (file: string, options: { force?: boolean; config?: string }) => {
      try {
        const configFile =
          options.config ?? globalConfig() ?? process.env.CAMERA_SERVICE_CONFIG ?? null;
        await restoreBackup(file, { configFile, force: options.force === true }, io);
        done(0);
      } catch (error) {
        done(report(error));
      }
    });

  program
    .command('deploy')
    .description(
      'Install a release tarball under --root, switch current to it, restart, and roll back unless /health/ready answers within --timeout.',
    )
    .argument('<release>', 'camera-service-<version>.tar.gz (deploy/release/README.md)')
    .option('--root <dir>', 'where releases/ and current live', '/opt/camera-service')
    .option(
      '-c, --config <file>',
      'the configuration the release must accept (and that says the health port)',
    )
    .option(
      '--restart-command <sh>',
      'how to restart the service when systemd does not run (sh -c; $DEPLOY_RELEASE names the release, $DEPLOY_ROOT the root)',
    )
    .option('--unit <name>', 'the systemd unit to restart', 'camera-service')
    .option('--health-url <url>', 'the readiness URL (default: from health.host and health.port)')
    .option('--timeout <seconds>', 'how long to wait for ready', '60')
    .option('--keep <n>', 'releases to keep', '3')
    .action(
      async (
        release: string,
        options: {
          root: string;
          config?: string;
          restartCommand?: string;
          unit: string;
          healthUrl?: string;
          timeout: string;
          keep: string;
        },
      ) => {
        try {
          await deploy(
            release,
            {
              root: options.root,
              config: options.config ?? globalConfig() ?? process.env.CAMERA_SERVICE_CONFIG ?? null,
              restartCommand: options.restartCommand ?? null,
              unit: options.unit,
              healthUrl: options.healthUrl ?? null,
              timeoutSeconds: positiveNumber('--timeout', options.timeout),
              keep: Math.floor(positiveNumber('--keep', options.keep)),
            },
            io,
          );
          done(0);
        } catch (error) {
          done(report(error));
        }
      },
    );
}
