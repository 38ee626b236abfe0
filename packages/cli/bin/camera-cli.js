#!/usr/bin/env node
// The `camera-cli` command as npm links it (npx camera-cli, npm exec, a global install).
// It is committed, so it exists when `npm ci` links the workspace's commands, before
// anything is built; it runs the built program, or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/src/bin.js', import.meta.url);
if (!existsSync(built)) {
  const root = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
  process.stderr.write(
    `camera-cli is not built yet (${fileURLToPath(built)} is missing). Build it with ` +
      `\`npm run build\` in ${root}, or run \`npm start\` there, which builds everything.\n`,
  );
  process.exit(1);
}
await import(built.href);
