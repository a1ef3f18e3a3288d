#!/usr/bin/env node
// `npm start`: the live kernel on macOS; elsewhere ntstat's simulated kernel, with a banner.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
const extra = process.argv.slice(2);
let args = extra;
if (process.platform !== 'darwin') {
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  if (/--simulate/.test(help.stdout) && !extra.includes('replay')) {
    process.stderr.write('ntstat: not macOS: running the SIMULATED kernel (ntstat --simulate). Ctrl-C to stop.\n');
    args = ['--simulate', ...extra];
  }
}
const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
