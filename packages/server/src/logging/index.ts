/**
 * Structured logging: JSON lines in production (and whenever output is not a terminal),
 * readable lines on a developer's terminal, coloured only there. Components take a child
 * logger ({component, ...}); requests carry a correlation id.
 *
 * Each line has each key once. pino writes a child's bindings after its parent's, so a
 * key bound again would appear twice ("component":"cameras","component":"discovery"), and
 * a JSON parser keeps only the last. So a component's child component becomes its
 * `subcomponent` (deeper ones join with a dot: `discovery.probe`), and any other key bound
 * again takes the child's value, once (see `bindOnce`).
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
  /** Whether the destination is a terminal (defaults to stdout's): `auto` and colours. */
  isTerminal?: boolean;
}

export interface LogControl {
  logger: Logger;
  setLevel(level: string): void;
}

const isTerminal = (options: LoggingOptions) => options.isTerminal ?? process.stdout.isTTY === true;

export function resolveFormat(options: LoggingOptions): 'json' | 'pretty' {
  if (options.format !== 'auto') return options.format;
  return options.environment === 'development' && isTerminal(options) ? 'pretty' : 'json';
}

export function createLogger(options: LoggingOptions): LogControl {
  const children = new Set<WeakRef<Logger>>();
  const format = resolveFormat(options);
  const destination =
    format === 'pretty'
      ? pretty({
          sync: true,
          // Colour codes are for a terminal; in a file or a pipe they are noise.
          colorize: isTerminal(options),
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          ...(options.destination && { destination: options.destination }),
        })
      : (options.destination ?? pino.destination({ dest: 1, sync: true }));
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
  bindOnce(logger);
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

/**
 * Makes every child of `root` (and theirs, which inherit its `child`) bind each key once:
 * `component` under a component becomes `subcomponent`, and a key its parent bound already
 * is bound anew from the root with all the others, the child's value winning. Children
 * are made with bindings only (no per-child serializers or prefixes), so nothing is lost
 * by making one from the root.
 */
function bindOnce(root: Logger): void {
  const original = root.child;
  const bound = new WeakMap<Logger, Record<string, unknown>>();
  const bindingsOf = (logger: Logger) => {
    let known = bound.get(logger);
    if (!known) bound.set(logger, (known = logger.bindings()));
    return known;
  };
  root.child = function child(this: Logger, bindings, childOptions) {
    const parent = bindingsOf(this);
    const own: Record<string, unknown> = { ...bindings };
    if (own.component !== undefined && parent.component !== undefined) {
      const outer = parent.subcomponent;
      own.subcomponent =
        typeof outer === 'string' ? `${outer}.${String(own.component)}` : own.component;
      delete own.component;
    }
    if (!Object.keys(own).some((key) => key in parent)) {
      return original.call(this, own, childOptions);
    }
    return original.call(root, { ...parent, ...own }, childOptions);
  } as Logger['child'];
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
