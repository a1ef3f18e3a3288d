// Copies the dashboard's page (src/web/static: HTML, plain JS modules, CSS) next to the compiled
// server (tsc only emits .ts files): `node scripts/copy-web-static.mjs OUTDIR`.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = process.argv[2];
if (!out) {
  console.error('usage: copy-web-static.mjs OUTDIR');
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/${out}`, { recursive: true, force: true });
cpSync(`${root}/src/web/static`, `${root}/${out}`, { recursive: true });
