#!/usr/bin/env node
import { run } from './main.js';

// A reader that stops early (`camera-service --help | head`) ends the command quietly,
// as it would end any other command line tool, rather than with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const code = await run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
