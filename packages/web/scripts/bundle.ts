/**
 * Builds the dashboard with esbuild: src/main.tsx (and its CSS) into hashed files under
 * <out>/assets, and <out>/index.html naming them (no inline script or style, so the
 * service's Content-Security-Policy can be `self` only). Fails when the gzipped
 * JavaScript is over the budget. Run after `tsc -b` (the SDK's browser entry is its
 * compiled output): `node packages/web/dist/scripts/bundle.js [outDir]`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** The budget: gzipped JavaScript of the whole app. */
export const JS_BUDGET_GZIP_BYTES = 150 * 1024;

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_OUT_DIR = join(PACKAGE_DIR, 'dist');

export interface BundleReport {
  js: string;
  css: string;
  jsBytes: number;
  jsGzipBytes: number;
  cssBytes: number;
  cssGzipBytes: number;
  budgetGzipBytes: number;
}

const html = (js: string, css: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light" />
    <title>Camera service</title>
    <link rel="stylesheet" href="/assets/${css}" />
    <script type="module" src="/assets/${js}"></script>
  </head>
  <body>
    <div id="app"></div>
    <noscript>The dashboard needs JavaScript.</noscript>
  </body>
</html>
`;

/** Bundles into `outDir` (its index.html and assets/ are replaced) and reports the sizes. */
export async function bundle(outDir: string = DEFAULT_OUT_DIR): Promise<BundleReport> {
  const assets = join(outDir, 'assets');
  rmSync(assets, { recursive: true, force: true });
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: [join(PACKAGE_DIR, 'src', 'main.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: 'app-[hash]',
    outdir: assets,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const jsPath = outputs.find((p) => p.endsWith('.js'));
  const cssPath = outputs.find((p) => p.endsWith('.css'));
  if (!jsPath || !cssPath) throw new Error('esbuild wrote no JavaScript or no CSS.');
  const js = readFileSync(resolve(jsPath));
  const css = readFileSync(resolve(cssPath));
  writeFileSync(join(outDir, 'index.html'), html(basename(jsPath), basename(cssPath)));
  const report: BundleReport = {
    js: basename(jsPath),
    css: basename(cssPath),
    jsBytes: js.length,
    jsGzipBytes: gzipSync(js, { level: 9 }).length,
    cssBytes: css.length,
    cssGzipBytes: gzipSync(css, { level: 9 }).length,
    budgetGzipBytes: JS_BUDGET_GZIP_BYTES,
  };
  writeFileSync(join(outDir, 'bundle-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await bundle(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR);
  const line =
    `dashboard bundle: JS ${kb(report.jsBytes)} (${kb(report.jsGzipBytes)} gzipped, budget ` +
    `${kb(report.budgetGzipBytes)}), CSS ${kb(report.cssBytes)} (${kb(report.cssGzipBytes)} gzipped)`;
  if (report.jsGzipBytes > report.budgetGzipBytes) {
    process.stderr.write(`${line}: OVER BUDGET. Make the app smaller.\n`);
    process.exit(1);
  }
  process.stderr.write(`${line}\n`);
}
