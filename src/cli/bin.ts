#!/usr/bin/env node
import nodeModule from 'node:module';
import { main } from './main.js';
import { processIo } from './io.js';
import { watchStdoutPipe } from './pipe-watch.js';

// Node >= 22.1 keeps compiled code of the modules each command imports on disk (in the OS temp
// directory) for the next start; Node 20 has no such cache for ES modules, so this is a no-op there.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(sig));
// `ntstat json | head` closes our stdout early: exit quietly instead of throwing EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
watchStdoutPipe();
main(process.argv.slice(2), processIo(controller.signal)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`ntstat: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
