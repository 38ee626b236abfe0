/**
 * How MediaMTX turns a command line into a process (internal/externalcmd): the line is
 * split into words with go-shellquote's rules, then `$VAR` and `${VAR}` are expanded in
 * each word with Go's os.Expand (the hook's variables first, then MediaMTX's own
 * environment), and the first word is executed without a shell.
 *
 * Written from those rules, to check that the service's commands give the argv it means:
 *   - words are separated by spaces, tabs and newlines;
 *   - outside quotes a backslash takes the next character as it is (a backslash-newline
 *     is dropped); a trailing backslash is an error;
 *   - single quotes keep everything up to the next single quote;
 *   - in double quotes a backslash escapes only $ ` " \ and newline, and is kept before
 *     anything else; an unterminated quote is an error;
 *   - nothing else is special: no redirections, pipes, `;`, globs, `~` or comments.
 */

export class SplitError extends Error {}

const BLANK = ' \n\t';
const DOUBLE_ESCAPES = '$`"\n\\';

/** go-shellquote's Split. */
export function splitWords(input: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (BLANK.includes(c)) {
      i += 1;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= input.length) throw new SplitError('unterminated backslash-escape');
      if (input[i + 1] === '\n') {
        i += 2;
        continue;
      }
    }
    const [word, next] = splitWord(input, i);
    words.push(word);
    i = next;
  }
  return words;
}

function splitWord(input: string, start: number): [string, number] {
  let word = '';
  let i = start;
  while (i < input.length) {
    const c = input[i]!;
    if (BLANK.includes(c)) return [word, i + 1];
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end === -1) throw new SplitError('unterminated single-quoted string');
      word += input.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      for (;;) {
        if (i >= input.length) throw new SplitError('unterminated double-quoted string');
        const d = input[i]!;
        if (d === '"') {
          i += 1;
          break;
        }
        if (d === '\\' && i + 1 < input.length && DOUBLE_ESCAPES.includes(input[i + 1]!)) {
          if (input[i + 1] !== '\n') word += input[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i += 1;
      }
    } else if (c === '\\') {
      if (i + 1 >= input.length) throw new SplitError('unterminated backslash-escape');
      if (input[i + 1] !== '\n') word += input[i + 1];
      i += 2;
    } else {
      word += c;
      i += 1;
    }
  }
  return [word, i];
}

const SPECIAL = '*#$@!?-0123456789';
const NAME = /^[A-Za-z0-9_]*/;

/** Go's os.Expand: `${name}`, `$name` and `$<special>`; a lone `$` stays. */
export function expandWord(word: string, lookup: (name: string) => string): string {
  let out = '';
  for (let i = 0; i < word.length; i += 1) {
    const c = word[i]!;
    if (c !== '$' || i + 1 >= word.length) {
      out += c;
      continue;
    }
    const rest = word.slice(i + 1);
    if (rest[0] === '{') {
      if (rest.length > 2 && SPECIAL.includes(rest[1]!) && rest[2] === '}') {
        out += lookup(rest[1]!);
        i += 3;
        continue;
      }
      const close = rest.indexOf('}');
      if (close === -1) {
        i += 1; // bad syntax: "${" is eaten
      } else if (close === 1) {
        i += 2; // "${}" is eaten
      } else {
        out += lookup(rest.slice(1, close));
        i += close + 1;
      }
      continue;
    }
    if (SPECIAL.includes(rest[0]!)) {
      out += lookup(rest[0]!);
      i += 1;
      continue;
    }
    const name = NAME.exec(rest)![0];
    if (name === '') {
      out += '$';
      continue;
    }
    out += lookup(name);
    i += name.length;
  }
  return out;
}

/** The argv MediaMTX executes for `command`, given the hook's variables. */
export function mediamtxArgv(
  command: string,
  vars: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  return splitWords(command).map((word) =>
    expandWord(word, (name) => vars[name] ?? env[name] ?? ''),
  );
}
