/** Commands split and expanded as MediaMTX does it (go-shellquote, then Go's os.Expand). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CommandSyntaxError,
  EmptyCommandError,
  commandArgv,
  expandVariables,
  parseMediamtxVersion,
  queryEscape,
  splitCommand,
} from '../src/index.js';

describe('splitting a command into words (go-shellquote Split)', () => {
  // go-shellquote's own table (unquote_test.go), then the shell syntax MediaMTX does not run.
  const cases: [input: string, words: string[]][] = [
    ['hello', ['hello']],
    ['hello goodbye', ['hello', 'goodbye']],
    ['hello   goodbye', ['hello', 'goodbye']],
    ['glob* test?', ['glob*', 'test?']],
    [
      "don\\'t you know the dewey decimal system\\?",
      ["don't", 'you', 'know', 'the', 'dewey', 'decimal', 'system?'],
    ],
    [
      "'don'\\''t you know the dewey decimal system?'",
      ["don't you know the dewey decimal system?"],
    ],
    ["one '' two", ['one', '', 'two']],
    ['text with\\\na backslash-escaped newline', ['text', 'witha', 'backslash-escaped', 'newline']],
    ['text "with\na" quoted newline', ['text', 'with\na', 'quoted', 'newline']],
    [
      '"quoted\\d\\\\\\" text with\\\na backslash-escaped newline"',
      ['quoted\\d\\" text witha backslash-escaped newline'],
    ],
    [
      'text with an escaped \\\n newline in the middle',
      ['text', 'with', 'an', 'escaped', 'newline', 'in', 'the', 'middle'],
    ],
    ['foo"bar"baz', ['foobarbaz']],
    // No shell: redirections, pipes, lists and substitutions are characters of words.
    ['sh -c "echo hi" 2>>/tmp/x.log', ['sh', '-c', 'echo hi', '2>>/tmp/x.log']],
    ['touch a && touch b', ['touch', 'a', '&&', 'touch', 'b']],
    ['a | b; c $(d) `e` > f', ['a', '|', 'b;', 'c', '$(d)', '`e`', '>', 'f']],
    // Only space, tab and newline separate words; a carriage return is part of one.
    ['a\tb\r c', ['a', 'b\r', 'c']],
    ['"\\$x \\`y\\` \\a"', ['$x `y` \\a']],
    ['\'a\\b\' "$MTX_PATH"', ['a\\b', '$MTX_PATH']],
    ['   ', []],
  ];
  for (const [input, words] of cases) {
    it(`splits ${JSON.stringify(input)}`, () => assert.deepEqual(splitCommand(input), words));
  }

  const errors: [input: string, goMessage: string][] = [
    ["don't worry", 'Unterminated single-quoted string'],
    ["'test'\\''ing", 'Unterminated single-quoted string'],
    ['"foo\'bar', 'Unterminated double-quoted string'],
    ['foo\\', 'Unterminated backslash-escape'],
    ['   \\', 'Unterminated backslash-escape'],
    ['"ends in a backslash\\', 'Unterminated double-quoted string'],
  ];
  for (const [input, goMessage] of errors) {
    it(`refuses ${JSON.stringify(input)} with go-shellquote's error`, () => {
      assert.throws(
        () => splitCommand(input),
        (e: unknown) =>
          e instanceof CommandSyntaxError &&
          e.splitError === goMessage &&
          /without a shell/.test(e.message),
      );
    });
  }
});

describe('expanding variables (Go os.Expand)', () => {
  const values: Record<string, string> = { MTX_PATH: 'cam0', RTSP_PORT: '8554', EMPTY: '' };
  const lookup = (name: string) => values[name] ?? '';
  const cases: [input: string, output: string][] = [
    ['rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH', 'rtsp://127.0.0.1:8554/cam0'],
    ['${MTX_PATH}_hd', 'cam0_hd'],
    ['$MTX_PATH_hd', ''], // the name runs to the last letter, digit or underscore
    ['[$UNKNOWN]', '[]'],
    ['$1$$$!$?$*$#$@$-', ''],
    ['${1}${}', ''],
    ['${unclosed', 'unclosed'],
    ['cost: 5$', 'cost: 5$'],
    ['$/x $ y $"', '$/x $ y $"'],
    ['${EMPTY}x', 'x'],
    ['${MTX PATH}', ''],
  ];
  for (const [input, output] of cases) {
    it(`expands ${JSON.stringify(input)}`, () =>
      assert.equal(expandVariables(input, lookup), output));
  }
});

describe('the program and arguments MediaMTX runs', () => {
  const variables = { MTX_PATH: 'cam0', RTSP_PORT: '8554', MTX_QUERY: "it's a b" };
  const environment = { HOME: '/home/relay', MTX_PATH: 'from-the-environment' };

  it('expands variables inside single and double quotes: quotes only group words', () => {
    assert.deepEqual(
      commandArgv(`ffmpeg -i 'rtsp://h:$RTSP_PORT/$MTX_PATH' "\${MTX_PATH}.log"`, variables, {
        environment,
      }),
      ['ffmpeg', '-i', 'rtsp://h:8554/cam0', 'cam0.log'],
    );
  });

  it("takes the hook's variables first, then the server's environment, else empty", () => {
    assert.deepEqual(commandArgv('echo $MTX_PATH $HOME x$NOPE', variables, { environment }), [
      'echo',
      'cam0',
      '/home/relay',
      'x',
    ]);
  });

  it('keeps a value with spaces and quotes one argument, splitting first (v1.18.2)', () => {
    assert.deepEqual(commandArgv('echo $MTX_QUERY', variables, { environment }), [
      'echo',
      "it's a b",
    ]);
  });

  it('splits the expanded string, expanding first (v1.15.1): a lone quote makes it unusable', () => {
    const order = 'expand-then-split';
    assert.deepEqual(commandArgv('echo $X', { X: 'a b' }, { order, environment }), [
      'echo',
      'a',
      'b',
    ]);
    assert.throws(
      () => commandArgv('echo $MTX_QUERY', variables, { order, environment }),
      CommandSyntaxError,
    );
  });

  it('refuses a command with no words, naming what to give', () => {
    assert.throws(
      () => commandArgv(' \t ', variables, { environment }),
      (e: unknown) => e instanceof EmptyCommandError && /give the program/.test(e.message),
    );
  });
});

describe('version helpers', () => {
  for (const [query, escaped] of [
    ['a=1&b=2', 'a%3D1%26b%3D2'],
    ['x y', 'x+y'],
    ["it's (ok)!*", 'it%27s+%28ok%29%21%2A'],
    ['~-_.AZaz09', '~-_.AZaz09'],
    ['é/?#', '%C3%A9%2F%3F%23'],
  ] as const) {
    it(`query-escapes ${JSON.stringify(query)} as Go's url.QueryEscape`, () =>
      assert.equal(queryEscape(query), escaped));
  }

  for (const [value, version] of [
    ['1.15', '1.15'],
    ['v1.18', '1.18'],
    ['1.15.1', '1.15'],
    [1.18, '1.18'],
    [1.15, '1.15'],
    ['1.16', null],
    ['latest', null],
    [true, null],
  ] as const) {
    it(`reads imitateVersion ${JSON.stringify(value)}`, () =>
      assert.equal(parseMediamtxVersion(value), version));
  }
});
