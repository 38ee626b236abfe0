import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory for one test. */
export function tempDir(prefix = 'camera-service-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a file into a directory and returns its path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
