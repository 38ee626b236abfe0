/**
 * Loads the configuration: defaults, then the YAML file, then CAMERA_SERVICE_<SECTION>_<KEY>
 * environment overrides, validated by the schema. Every problem is reported at once,
 * naming the key, what was expected and where the bad value came from.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, defaultConfig, type Config } from './schema.js';

export const ENV_PREFIX = 'CAMERA_SERVICE_';
/** The environment variable naming the config file (like --config). */
export const CONFIG_FILE_ENV = 'CAMERA_SERVICE_CONFIG';

export interface LoadOptions {
  /** The YAML file; falls back to $CAMERA_SERVICE_CONFIG, then to the defaults alone. */
  file?: string | null | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, or null when running on defaults. */
  file: string | null;
  /** Dotted keys set from the environment, with the variable that set each. */
  envOverrides: Record<string, string>;
  /** The file holds no settings at all (empty, or only whitespace and comments). */
  empty?: boolean;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  /**
   * What to do next, for a command line ("Fix the keys above ..."); empty when each
   * problem says it. Not in the message, which log lines carry too.
   */
  readonly hint: string;

  /** `source` completes "The configuration ... is invalid", or is the whole header. */
  constructor(problems: string[], source: string, hint = '') {
    const header = /[.:]$/.test(source) ? source : `The configuration ${source} is invalid:`;
    super(`${header}\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.hint = hint;
  }
}

/** What was wrong with the file: it could not be read, did not parse, or had bad keys. */
type FileState = 'unreadable' | 'syntax' | 'keys';

/**
 * The error for the problems of one load, headed by where they came from (the file, the
 * environment, or both) and followed by what to do, so that no message points at keys
 * that are not there.
 */
function loadError(
  fileProblems: string[],
  envProblems: string[],
  file: string | null,
  state: FileState,
): ConfigError {
  const check = file
    ? `\`camera-service config --config ${file}\` checks it without starting the service.`
    : '`camera-service config` checks the configuration without starting the service.';
  const listVariables = '`env | grep ^CAMERA_SERVICE_` lists them';
  if (state === 'unreadable' && envProblems.length === 0) {
    return new ConfigError(fileProblems, `The configuration file ${file} cannot be read:`);
  }
  if (state === 'syntax' && envProblems.length === 0) {
    return new ConfigError(
      fileProblems,
      `The configuration file ${file} is not valid YAML:`,
      `Fix the lines above; ${check}`,
    );
  }
  if (envProblems.length === 0) {
    return new ConfigError(fileProblems, `file ${file}`, `Fix the keys above; ${check}`);
  }
  if (fileProblems.length === 0) {
    return new ConfigError(
      envProblems,
      `The ${ENV_PREFIX}* environment variables are invalid:`,
      `Fix or unset the variables above (${listVariables}); ${check}`,
    );
  }
  return new ConfigError(
    [...fileProblems, ...envProblems],
    `The configuration file ${file} and the ${ENV_PREFIX}* environment variables are invalid:`,
    `Fix the file and the variables above (${listVariables}); ${check}`,
  );
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const fileOption = options.file ?? env[CONFIG_FILE_ENV] ?? null;
  const file = fileOption ? resolve(fileOption) : null;
  const fileProblems: string[] = [];
  const envProblems: string[] = [];

  const named = options.file ? 'the --config path' : CONFIG_FILE_ENV;
  const read = file ? readYamlFile(file, named, fileProblems) : { tree: {} };
  const raw: Tree = read.tree;
  // Before the environment adds to it: whether the file itself said anything.
  const empty = file !== null && fileProblems.length === 0 && Object.keys(raw).length === 0;
  const envOverrides = applyEnvOverrides(raw, env, envProblems);
  if (read.failed) throw loadError(fileProblems, envProblems, file, read.failed);

  // Validated even when a variable names no key, so that every problem is told at once.
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    for (const { line, variable } of formatIssues(result.error.issues, envOverrides)) {
      (variable ? envProblems : fileProblems).push(line);
    }
  }
  if (!result.success || envProblems.length > 0) {
    throw loadError(fileProblems, envProblems, file, 'keys');
  }
  return { config: result.data, file, envOverrides, empty };
}

/** `named` says where the path came from, for a file that is not there. */
function readYamlFile(
  file: string,
  named: string,
  problems: string[],
): { tree: Tree; failed?: FileState } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(
      code === 'ENOENT'
        ? `it does not exist; check ${named}`
        : code === 'EISDIR'
          ? `it is a directory; name the YAML file in it`
          : `it cannot be read (${code ?? 'unknown error'}); check its permissions (the service runs as ${userName()})`,
    );
    return { tree: {}, failed: 'unreadable' };
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0];
      const where = pos ? `line ${pos.line}, column ${pos.col}` : 'somewhere';
      problems.push(`YAML syntax error at ${where}: ${error.message.split(' at line')[0]}`);
    }
    return { tree: {}, failed: 'syntax' };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { tree: {} };
  if (!isTree(value)) {
    problems.push('expected a YAML mapping of sections (server:, auth:, ...) at the top level');
    return { tree: {}, failed: 'keys' };
  }
  return { tree: value };
}

/**
 * Maps CAMERA_SERVICE_<SECTION>_<KEY> variables onto the raw tree. Key names contain
 * underscores too, so the variable is matched against the known keys (the defaults tree),
 * not split blindly. Values take the type of the key they set.
 */
function applyEnvOverrides(
  raw: Tree,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Record<string, string> {
  const defaults = defaultConfig() as unknown as Tree;
  const applied: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_ENV || value === undefined) continue;
    const keyPath = matchKeyPath(defaults, name.slice(ENV_PREFIX.length).toLowerCase());
    if (!keyPath) {
      problems.push(
        `${name}: not a configuration key (expected CAMERA_SERVICE_<SECTION>_<KEY>, e.g. CAMERA_SERVICE_SERVER_PORT)`,
      );
      continue;
    }
    const template = keyPath.reduce<unknown>((node, key) => (node as Tree)[key], defaults);
    setPath(raw, keyPath, coerce(value, template));
    applied[keyPath.join('.')] = name;
  }
  return applied;
}

function matchKeyPath(node: Tree, rest: string): string[] | null {
  // Longest key first, so `max_connections` is not taken for `max` + `connections`.
  const keys = Object.keys(node).sort((a, b) => b.length - a.length);
  for (const key of keys) {
    if (rest === key) return [key];
    const child = node[key];
    if (isTree(child) && rest.startsWith(`${key}_`)) {
      const tail = matchKeyPath(child, rest.slice(key.length + 1));
      if (tail) return [key, ...tail];
    }
  }
  return null;
}

function coerce(value: string, template: unknown): unknown {
  if (typeof template === 'string') return value;
  if (typeof template === 'number') {
    const n = Number(value);
    return value.trim() !== '' && Number.isFinite(n) ? n : value;
  }
  if (typeof template === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(value)) return true;
    if (/^(false|0|no|off)$/i.test(value)) return false;
    return value;
  }
  // Nullable keys and lists (e.g. cameras) take YAML/JSON syntax.
  if (value.trim() === '') return null;
  try {
    return YAML.parse(value) as unknown;
  } catch {
    return value;
  }
}

function setPath(tree: Tree, keyPath: string[], value: unknown): void {
  let node = tree;
  keyPath.slice(0, -1).forEach((key) => {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  });
  node[keyPath[keyPath.length - 1] as string] = value;
}

const SECRET_KEY = /secret|password|token|(^|_)key$/;

/** One line per issue, and the variable that set the bad value, if one did. */
function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  envOverrides: Record<string, string>,
): { line: string; variable?: string }[] {
  const defaults = defaultConfig() as unknown as Tree;
  const lines: { line: string; variable?: string }[] = [];
  for (const issue of issues) {
    const keyPath = issue.path.map(String);
    const dotted = keyPath.join('.') || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const parent = keyPath.reduce<unknown>(
        (node, key) => (isTree(node) ? node[key] : undefined),
        defaults,
      );
      const known = isTree(parent) ? Object.keys(parent).join(', ') : '';
      for (const key of issue.keys) {
        const full = [...keyPath, key].join('.');
        lines.push({ line: `${full}: unknown key${known ? `; expected one of ${known}` : ''}` });
      }
      continue;
    }
    const last = keyPath[keyPath.length - 1] ?? '';
    const shown =
      'input' in issue && issue.input !== undefined && !SECRET_KEY.test(last)
        ? `, got ${JSON.stringify(issue.input)}`
        : '';
    const variable = envOverrides[dotted];
    const from = variable ? ` (set by ${variable})` : '';
    lines.push({
      line: `${dotted}: ${issue.message}${shown}${from}`,
      ...(variable && { variable }),
    });
  }
  return lines;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
