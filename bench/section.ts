/**
 * What a benchmark section is to run.ts: a name, and a function that measures and
 * returns its report (written to .bench/<name>.json) with the text printed for it.
 */

export interface SectionContext {
  /** The repository root (for packages/server/dist/..., packages/relay/dist/...). */
  repoRoot: string;
  /** bench/dist, where the child scripts are. */
  distDir: string;
  /** A directory of its own, removed after the run. */
  scratchDir: string;
  env: NodeJS.ProcessEnv;
}

export interface SectionResult {
  /** Written as JSON to .bench/<name>.json. */
  report: unknown;
  /** Printed. */
  text: string;
  /** Why the section could not run (its partial results are still written), or null. */
  error: string | null;
}

export interface Section {
  name: string;
  /** One line for `npm run bench -- --help`. */
  summary: string;
  run(context: SectionContext): Promise<SectionResult>;
}

/** Bad settings: exit 2 with the message. */
export class UsageError extends Error {}

/** A positive number from the environment, or the default. */
export function envNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  max: number,
): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`${name}=${text}: expected a number above 0 and at most ${max}`);
  }
  return value;
}

/**
 * Runs a section's measurement into its report and formats it: a failure is kept in the
 * report (with what was measured before it), so the section's partial results are
 * still written and printed.
 */
export async function measured<R extends { error: string | null }>(
  context: SectionContext,
  report: R,
  measure: (context: SectionContext, report: R) => Promise<void>,
  format: (report: R) => string,
): Promise<SectionResult> {
  try {
    await measure(context, report);
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  }
  return { report, text: format(report), error: report.error };
}
