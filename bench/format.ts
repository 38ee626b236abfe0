/** Number and table formatting shared by the report sections. */

/** Above this, other processes took a noticeable share of a 2-core machine. */
export const DISTURBED_CPU_PERCENT = 15;

/** A plain-text table; column `leftColumn` is left-aligned, the numbers right-aligned. */
export function formatColumns(header: string[], rows: string[][], leftColumn: number): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === leftColumn ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function fmtUs(us: number): string {
  return us < 100 ? us.toFixed(2) : us.toFixed(1);
}

export function fmtPercent(percent: number | null): string {
  return percent === null ? 'n/a' : percent.toFixed(0);
}

export function fmtMb(mb: number | null): string {
  return mb === null ? 'n/a' : mb.toFixed(1);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** For sub-millisecond round trips, where 0.01 ms steps would hide the differences. */
export function fmtMs3(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : fmtMs(ms);
}

export function fmtMbit(bitsPerSecond: number): string {
  return (bitsPerSecond / 1e6).toFixed(1);
}
