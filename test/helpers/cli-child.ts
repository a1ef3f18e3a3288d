/**
 * The built `ntstat` binary as a child process, for tests that need a real process boundary
 * (`serve` + `--socket`, signals). Output is collected whole; `done` resolves on close.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/cli/bin.js of this checkout (tests run from build/test/). */
export const ntstatBin = resolve(fileURLToPath(import.meta.url), '../../../../dist/cli/bin.js');

export interface ChildRun {
  done: Promise<{ code: number | null; out: string; err: string }>;
  kill(): void;
}

/** Run `ntstat ARGS` with NO_COLOR set; `kill()` sends SIGTERM. */
export function spawnNtstat(args: string[]): ChildRun {
  const child = spawn(process.execPath, [ntstatBin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return { done: new Promise((r) => child.on('close', (code) => r({ code, out, err }))), kill: () => child.kill('SIGTERM') };
}
