import { readFileSync } from 'node:fs';

/** The server package's version (from its package.json, next to dist/). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The JSON-RPC API's version: bumped when a method or field changes incompatibly. */
export const API_VERSION = '1.0';
