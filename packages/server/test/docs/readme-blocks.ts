/**
 * The README's code blocks, as the README test runs them. A block may be preceded by a
 * marker comment saying how: `<!-- readme-test: skip <why> -->`, `<!-- readme-test:
 * transcript -->` (lines `> request` and `< answer` of a WebSocket session), or
 * `<!-- readme-test: start -->` (its first line starts the service). Unmarked `sh` and
 * `ts` blocks are run as they are.
 */
import { readFileSync } from 'node:fs';

export type BlockMode = 'run' | 'start' | 'transcript' | 'skip';

export interface ReadmeBlock {
  /** The fence's language (sh, ts, yaml...), '' when none. */
  lang: string;
  code: string;
  mode: BlockMode;
  /** For skip: why the test does not run it. */
  reason: string;
  /** 1-based line of the opening fence. */
  line: number;
}

const MARKER = /^<!--\s*readme-test:\s*(skip|transcript|start)\b\s*(.*?)\s*-->$/;

export function readmeBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] as string); i += 1) {
      body.push(lines[i] as string);
    }
    // The marker is the nearest non-empty line above the fence.
    let above = start - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above -= 1;
    const marker = above >= 0 ? MARKER.exec((lines[above] as string).trim()) : null;
    const lang = open[1] ?? '';
    const mode: BlockMode = marker
      ? (marker[1] as BlockMode)
      : lang === 'sh' || lang === 'ts'
        ? 'run'
        : 'skip';
    blocks.push({
      lang,
      code: body.join('\n'),
      mode,
      reason: marker?.[2] ?? (mode === 'skip' ? `a ${lang || 'plain'} block is not a command` : ''),
      line: start + 1,
    });
  }
  return blocks;
}
