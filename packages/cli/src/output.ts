/**
 * What camera-cli prints: JSON for scripts (`--json`: one document on stdout, errors as
 * JSON on stderr), tables and key/value lists for people, sized to the terminal, and a
 * progress bar drawn on stderr only when it is a terminal.
 */

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  get width(): number {
    return this.io.stdout.columns ?? 100;
  }

  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The command's result: as JSON with --json, else as `human` renders it. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.print(JSON.stringify(value, null, 2));
    else this.print(human());
  }

  /** A JSON line (watch --json). */
  line(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A message for people, on stderr, never with --json. */
  note(text: string): void {
    if (!this.json) this.io.stderr.write(`${text}\n`);
  }

  /** A progress bar on stderr when it is a terminal; a no-op otherwise. */
  progress(label: string): Progress {
    const tty = this.io.stderr.isTTY === true;
    return new Progress(tty ? this.io.stderr : null, label, this.io.stderr.columns ?? 80);
  }
}

export class Progress {
  #last = 0;
  constructor(
    readonly out: NodeJS.WritableStream | null,
    readonly label: string,
    readonly columns: number,
  ) {}

  update(done: number, total: number | null, unit: (n: number) => string = String): void {
    if (!this.out) return;
    const now = Date.now();
    if (now - this.#last < 100 && (total === null || done < total)) return;
    this.#last = now;
    const tail = total ? ` ${unit(done)}/${unit(total)}` : ` ${unit(done)}`;
    const room = Math.max(10, this.columns - this.label.length - tail.length - 10);
    let bar = '';
    if (total) {
      const fraction = Math.min(1, done / total);
      const full = Math.round(fraction * room);
      bar = ` [${'#'.repeat(full)}${'.'.repeat(room - full)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
    }
    this.out.write(`\r${this.label}${bar}${tail}\x1b[K`);
  }

  end(): void {
    if (this.out) this.out.write('\n');
  }
}

/** A table sized to `width`: columns shrink (longest first) and cut with an ellipsis. */
export function table(
  headers: string[],
  rows: (string | number | null | undefined)[][],
  width: number,
): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const gap = 2;
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  while (total() > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= 6) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const fit = (text: string, w: number) =>
    text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text.padEnd(w);
  const line = (r: string[]) =>
    r
      .map((c, i) => fit(c, widths[i] ?? 0))
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `key: value` lines, nested objects indented. */
export function keyValues(value: unknown, indent = ''): string {
  if (typeof value !== 'object' || value === null) return `${indent}${String(value)}`;
  const lines: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      lines.push(`${indent}${key}:`, keyValues(v, `${indent}  `));
    } else if (Array.isArray(v)) {
      lines.push(
        `${indent}${key}: ${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}`,
      );
    } else {
      lines.push(`${indent}${key}: ${v === null ? '-' : String(v)}`);
    }
  }
  return lines.join('\n');
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
