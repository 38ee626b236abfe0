/**
 * Holds the running configuration and reloads it (SIGHUP). A reload applies only the keys
 * that can change live (LIVE_KEYS); other changed keys are reported as waiting for a
 * restart, and an invalid file leaves the running configuration untouched.
 */
import { EventEmitter } from 'node:events';
import { loadConfig, type LoadedConfig, type LoadOptions } from './load.js';
import { LIVE_KEYS, type Config } from './schema.js';

export interface ConfigChange {
  previous: Config;
  current: Config;
  /** Dotted keys whose new values are now in effect. */
  applied: string[];
  /** Dotted keys that changed in the file but take effect only after a restart. */
  pendingRestart: string[];
}

export type ReloadResult = { ok: true; change: ConfigChange } | { ok: false; error: Error };

export class ConfigStore extends EventEmitter<{ change: [ConfigChange] }> {
  #current: Config;
  readonly #file: string | null;
  readonly #env: NodeJS.ProcessEnv | undefined;
  /** The service started from an empty file: an empty file on reload changes nothing. */
  readonly #startedEmpty: boolean;

  constructor(loaded: LoadedConfig, options: Pick<LoadOptions, 'env'> = {}) {
    super();
    this.#current = loaded.config;
    this.#file = loaded.file;
    this.#env = options.env;
    this.#startedEmpty = loaded.empty ?? false;
  }

  get current(): Config {
    return this.#current;
  }

  get file(): string | null {
    return this.#file;
  }

  /** Re-reads the same file and environment; emits 'change' when live keys changed. */
  reload(): ReloadResult {
    let next: Config;
    try {
      const loaded = loadConfig({ file: this.#file, env: this.#env ?? process.env });
      // A file emptied under the service is far more often a half-written or truncated
      // one (an editor, a full disk, a botched deploy) than a wish to reset every live
      // setting to its default: refuse it, as an invalid file is refused.
      if (loaded.empty && !this.#startedEmpty) {
        return {
          ok: false,
          error: new Error(
            `The configuration file ${this.#file} is empty (no settings, only whitespace or comments); the running configuration stays. To go back to the defaults, write the keys out or restart the service.`,
          ),
        };
      }
      next = loaded.config;
    } catch (error) {
      return { ok: false, error: error as Error };
    }
    const previous = this.#current;
    const changed = diffKeys(previous, next);
    const applied = changed.filter(isLive);
    const pendingRestart = changed.filter((key) => !isLive(key));
    const current = structuredClone(previous);
    for (const key of applied) setLeaf(current, key, getLeaf(next, key));
    this.#current = current;
    const change = { previous, current, applied, pendingRestart };
    if (applied.length > 0) this.emit('change', change);
    return { ok: true, change };
  }
}

function isLive(key: string): boolean {
  return LIVE_KEYS.some((live) => key === live || key.startsWith(`${live}.`));
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted paths of the leaves (scalars and lists) that differ between two configs. */
export function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (isTree(a) && isTree(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((key) => diffKeys(a[key], b[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

function getLeaf(tree: unknown, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((node, part) => (isTree(node) ? node[part] : undefined), tree);
}

function setLeaf(tree: unknown, key: string, value: unknown): void {
  const parts = key.split('.');
  const parent = parts.slice(0, -1).reduce<unknown>((node, part) => (node as Tree)[part], tree);
  (parent as Tree)[parts[parts.length - 1] as string] = structuredClone(value);
}
