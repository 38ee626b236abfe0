/**
 * Structured logging: JSON lines in production (and whenever output is not a terminal),
 * readable lines on a developer's terminal. Components take a child logger
 * ({component, ...}); requests carry a correlation id.
 *
 * pino children copy their level when created, so the root keeps weak references to
 * every child and `setLevel` (SIGHUP reload) updates them all.
 */
import { randomBytes } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggingOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  environment: 'development' | 'production';
  /** Defaults to stdout. */
  destination?: DestinationStream;
  /** For `auto`: whether the destination is a terminal (defaults to stdout's). */
  isTerminal?: boolean;
}

export interface LogControl {
  logger: Logger;
  setLevel(level: string): void;
}

export function resolveFormat(options: LoggingOptions): 'json' | 'pretty' {
  if (options.format !== 'auto') return options.format;
  const terminal = options.isTerminal ?? process.stdout.isTTY === true;
  return options.environment === 'development' && terminal ? 'pretty' : 'json';
}

export function createLogger(options: LoggingOptions): LogControl {
  const children = new Set<WeakRef<Logger>>();
  const format = resolveFormat(options);
  const destination =
    options.destination ??
    (format === 'pretty'
      ? pretty({
          sync: true,
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : pino.destination({ dest: 1, sync: true }));
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      onChild: (child) => {
        children.add(new WeakRef(child));
        if (children.size % 1024 === 0) prune(children);
      },
    },
    destination,
  );
  return {
    logger,
    setLevel(level) {
      logger.level = level;
      for (const ref of children) {
        const child = ref.deref();
        if (child) child.level = level;
        else children.delete(ref);
      }
    },
  };
}

function prune(children: Set<WeakRef<Logger>>): void {
  for (const ref of children) if (!ref.deref()) children.delete(ref);
}

const ID_PREFIX = randomBytes(4).toString('hex');
let idCounter = 0;

/**
 * A short id joining every log line of one request (and what it causes) together:
 * 16 hex digits, a random per-process prefix and a counter, so it costs next to nothing
 * on the hot path and stays unique across restarts.
 */
export function newCorrelationId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return ID_PREFIX + idCounter.toString(16).padStart(8, '0');
}
