/**
 * The service as a process: loads the configuration, builds and starts the app, and
 * handles signals (SIGTERM/SIGINT: graceful stop; SIGHUP: reload). Under `npm start` it
 * also stops when npm is gone (see DaemonOptions). A start that fails says which
 * setting to change (start-failure.ts).
 */
import { App } from './app.js';
import { ConfigError, ConfigStore, loadConfig, type LoadedConfig } from './config/index.js';
import { createLogger, type Logger } from './logging/index.js';
import { describeStartFailure } from './start-failure.js';
import { VERSION } from './version.js';

/** Exit status for an invalid configuration (sysexits EX_CONFIG); systemd should not restart on it. */
export const EXIT_CONFIG = 78;
/** Exit status after an unexpected fatal error (sysexits EX_SOFTWARE). */
export const EXIT_SOFTWARE = 70;
/** Exit status for a command line it does not understand (sysexits EX_USAGE). */
export const EXIT_USAGE = 64;
/** A hard limit on shutdown, after which the process exits anyway. */
const SHUTDOWN_HARD_LIMIT_MS = 5000;
/**
 * A stop signal repeated within this time is the same request: Ctrl-C in a terminal
 * reaches both npm and the service (one process group), and npm passes its copy on.
 */
const REPEAT_WINDOW_MS = 1000;
/** How often the parent is looked for, when the service stops with it. */
const PARENT_CHECK_MS = 250;

export interface DaemonOptions {
  /**
   * Stop cleanly once this process (the parent when the caller started: npm, for
   * `npm start`) is no longer the parent, rather than run on as an orphan holding the
   * ports: npm may be killed with SIGKILL, or end on a SIGHUP it does not pass on.
   */
  parentPid?: number;
}

/** Loads the configuration, or says on stderr what is wrong and what to do; null then. */
export function loadOrReport(file: string | undefined): LoadedConfig | null {
  try {
    return loadConfig({ file });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`camera-service: ${error.message}\n`);
    if (error.hint) process.stderr.write(`${error.hint}\n`);
    return null;
  }
}

/** Runs the service; resolves with an exit code when it cannot start, else undefined. */
export async function startDaemon(
  file: string | undefined,
  options: DaemonOptions = {},
): Promise<number | undefined> {
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
  // Signals are taken from here on (a SIGHUP's default would end the process), and
  // those that come while the service starts are acted on once it has.
  let started = false;
  let reloadWhenStarted = false;
  let stopWhenStarted: string | null = null;
  let stopAskedAt = 0;
  process.on('SIGHUP', () => {
    if (!started) {
      reloadWhenStarted = true;
      log.info('SIGHUP while starting: reloading the configuration once started');
      return;
    }
    log.info('SIGHUP: reloading the configuration');
    app.reload();
  });
  const onStop = (reason: string) => {
    if (started) {
      shutdown(reason);
    } else if (stopWhenStarted === null) {
      stopWhenStarted = reason;
      stopAskedAt = Date.now();
      log.info({ signal: reason }, 'stopping once started');
    } else if (Date.now() - stopAskedAt >= REPEAT_WINDOW_MS) {
      log.warn({ signal: reason }, 'second signal while starting: exiting now');
      process.exit(1);
    }
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  try {
    await app.start();
  } catch (error) {
    log.fatal({ err: describeStartFailure(error, loaded) }, 'camera-service could not start');
    await app.stop();
    return 1;
  }
  started = true;

  let stopping: { reason: string; at: number } | null = null;
  const shutdown = (reason: string) => {
    if (stopping) {
      if (reason === stopping.reason && Date.now() - stopping.at < REPEAT_WINDOW_MS) {
        log.debug({ signal: reason }, 'the same stop request again (npm passes Ctrl-C on)');
        return;
      }
      log.warn({ signal: reason }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = { reason, at: Date.now() };
    log.info({ signal: reason }, 'shutting down');
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
  log.info(
    `running as pid ${process.pid}: kill -HUP ${process.pid} reloads the configuration, kill ${process.pid} stops the service`,
  );
  if (stopWhenStarted !== null) {
    shutdown(stopWhenStarted);
    return undefined;
  }
  if (reloadWhenStarted) app.reload();
  if (options.parentPid !== undefined) {
    watchParent(options.parentPid, log, () => shutdown('parent gone'));
  }
  return undefined;
}

/** Calls `gone` once `parent` is no longer this process's parent (it ended: init adopts). */
function watchParent(parent: number, log: Logger, gone: () => void): void {
  const check = () => {
    if (process.ppid === parent) return false;
    clearInterval(timer);
    log.warn(
      { parent_pid: parent },
      `the process that started the service (pid ${parent}, e.g. npm) is gone: stopping`,
    );
    gone();
    return true;
  };
  const timer = setInterval(check, PARENT_CHECK_MS);
  timer.unref();
  check(); // gone already while the service was starting
}
