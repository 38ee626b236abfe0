/**
 * How MediaMTX turns a command string (runOnDemand, runOnInit, ...) into a program and its
 * arguments: there is no shell. The string is split into words with POSIX-shell-like
 * quoting, as the go-shellquote library's Split does, and `$VAR` / `${VAR}` are replaced as
 * Go's os.Expand does, from the hook's variables first and MediaMTX's own environment
 * second (an unknown variable becomes the empty string). Redirections, pipes, `;`, `&&`
 * and `$(...)` mean nothing: they are characters of the words they are in.
 *
 * The order of the two steps changed between versions (internal/externalcmd/cmd.go):
 * - v1.18.2 and later split first and expand each word, so a value holding spaces or
 *   quotes stays one argument;
 * - v1.15.1 expanded the whole string first and split the result, so such a value is
 *   split (or, with a lone quote, makes the command unusable).
 * Either way quotes never stop a variable from being expanded.
 *
 * Pure functions: no process is started here.
 */

/** Raised for a command go-shellquote cannot split; MediaMTX then runs nothing. */
export class CommandSyntaxError extends Error {
  /** go-shellquote's own message, as MediaMTX logs it ("runOnDemand command exited: ..."). */
  readonly splitError: string;

  constructor(splitError: string, command: string, problem: string) {
    super(
      `The command ${JSON.stringify(command)} cannot be split into words: ${problem}. ` +
        'MediaMTX runs commands without a shell and would refuse it too; close the quote, ' +
        "or put shell syntax in a script or in sh -c '...'.",
    );
    this.name = 'CommandSyntaxError';
    this.splitError = splitError;
  }
}

/** Raised for a command with no words at all (MediaMTX would index an empty word list). */
export class EmptyCommandError extends Error {
  constructor(command: string) {
    super(
      `The command ${JSON.stringify(command)} has no program to run: give the program and its arguments.`,
    );
    this.name = 'EmptyCommandError';
  }
}

const SPLIT = new Set([' ', '\n', '\t']);
/** The characters a backslash escapes inside double quotes (as bash does). */
const DOUBLE_ESCAPES = new Set(['$', '`', '"', '\n', '\\']);

const UNTERMINATED = {
  single: ['Unterminated single-quoted string', 'a single-quoted string is not closed'],
  double: ['Unterminated double-quoted string', 'a double-quoted string is not closed'],
  escape: ['Unterminated backslash-escape', 'it ends with a backslash that escapes nothing'],
} as const;

function unterminated(kind: keyof typeof UNTERMINATED, command: string): CommandSyntaxError {
  const [goMessage, problem] = UNTERMINATED[kind];
  return new CommandSyntaxError(goMessage, command, problem);
}

/**
 * Splits `command` into words exactly as go-shellquote's Split: words are separated by
 * spaces, tabs and newlines; `'...'` is literal; in `"..."` a backslash escapes only
 * `$ \` " \ newline`; outside quotes a backslash escapes any character, and a
 * backslash-newline disappears. Throws CommandSyntaxError for an unclosed quote or a
 * trailing backslash.
 */
export function splitCommand(command: string): string[] {
  const chars = [...command];
  const words: string[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i] as string;
    if (SPLIT.has(c)) {
      i += 1;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= chars.length) throw unterminated('escape', command);
      if (chars[i + 1] === '\n') {
        i += 2;
        continue;
      }
    }
    let word = '';
    word: while (i < chars.length) {
      const ch = chars[i] as string;
      i += 1;
      if (SPLIT.has(ch)) break word;
      if (ch === "'") {
        const end = chars.indexOf("'", i);
        if (end < 0) throw unterminated('single', command);
        word += chars.slice(i, end).join('');
        i = end + 1;
      } else if (ch === '"') {
        let closed = false;
        while (i < chars.length) {
          const d = chars[i] as string;
          i += 1;
          if (d === '"') {
            closed = true;
            break;
          }
          if (d === '\\' && i < chars.length && DOUBLE_ESCAPES.has(chars[i] as string)) {
            if (chars[i] !== '\n') word += chars[i];
            i += 1;
          } else {
            word += d;
          }
        }
        if (!closed) throw unterminated('double', command);
      } else if (ch === '\\') {
        if (i >= chars.length) throw unterminated('escape', command);
        if (chars[i] !== '\n') word += chars[i];
        i += 1;
      } else {
        word += ch;
      }
    }
    words.push(word);
  }
  return words;
}

const SPECIAL = new Set('*#$@!?-0123456789');
const NAME = /^[A-Za-z0-9_]*/;

/**
 * Replaces `$NAME`, `${NAME}` and the one-character specials (`$1`, `$$`, `$!`, ...) in
 * `text` as Go's os.Expand does: `lookup` gives each value ("" when unknown); `${}` and an
 * unclosed `${` are removed; a `$` followed by anything else, or last, is kept.
 */
export function expandVariables(text: string, lookup: (name: string) => string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0 || dollar === text.length - 1) break;
    out += text.slice(i, dollar);
    const rest = text.slice(dollar + 1);
    let name = '';
    let width: number;
    if (rest[0] === '{') {
      const close = rest.indexOf('}', 1);
      if (rest.length > 2 && SPECIAL.has(rest[1] as string) && rest[2] === '}') {
        [name, width] = [rest[1] as string, 3];
      } else if (close < 0) {
        width = 1; // an unclosed "${": both characters are dropped
      } else {
        [name, width] = [rest.slice(1, close), close + 1]; // "${}" gives no name: dropped
      }
    } else if (SPECIAL.has(rest[0] as string)) {
      [name, width] = [rest[0] as string, 1];
    } else {
      name = NAME.exec(rest)?.[0] ?? '';
      width = name.length;
    }
    if (name !== '') out += lookup(name);
    else if (width === 0) out += '$';
    i = dollar + 1 + width;
  }
  return out + text.slice(i);
}

export type ExpansionOrder = 'split-then-expand' | 'expand-then-split';

/**
 * The program and arguments MediaMTX would run for `command`: `variables` are the hook's
 * (MTX_PATH, RTSP_PORT, ...), `environment` is the server's own, asked for any other name.
 * Throws CommandSyntaxError or EmptyCommandError when nothing can be run.
 */
export function commandArgv(
  command: string,
  variables: Record<string, string>,
  options: { order?: ExpansionOrder; environment?: Record<string, string | undefined> } = {},
): string[] {
  const environment = options.environment ?? process.env;
  const lookup = (name: string) =>
    Object.hasOwn(variables, name) ? (variables[name] as string) : (environment[name] ?? '');
  const argv =
    options.order === 'expand-then-split'
      ? splitCommand(expandVariables(command, lookup))
      : splitCommand(command).map((word) => expandVariables(word, lookup));
  if (argv.length === 0) throw new EmptyCommandError(command);
  return argv;
}
