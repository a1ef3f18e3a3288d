#!/usr/bin/env node
// CI: run the randomised test files once per seed of test/fuzz-seeds.json plus one fresh seed, at a
// reduced scale (NTSTAT_FUZZ_SCALE, default 0.25). A failing run prints the seed that replays it:
//   NTSTAT_FUZZ_SEED=<seed> node --test build/test/<file>.test.js
// Needs `npm run build && npm run build:test` first.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const FILES = ['fuzz-client', 'fuzz-mutation', 'fuzz-readers', 'codec-roundtrip', 'decode-errors'].map((f) => `build/test/${f}.test.js`);
const { seeds } = JSON.parse(readFileSync(new URL('../test/fuzz-seeds.json', import.meta.url), 'utf8'));
const fresh = (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const scale = process.env.NTSTAT_FUZZ_SCALE ?? '0.25';
let failed = 0;
for (const seed of [...seeds, fresh]) {
  const r = spawnSync(process.execPath, ['--test', ...FILES], {
    env: { ...process.env, NTSTAT_FUZZ_SEED: String(seed), NTSTAT_FUZZ_SCALE: scale },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ok = r.status === 0;
  process.stdout.write(`fuzz seed ${seed}${seed === fresh ? ' (fresh)' : ''}: ${ok ? 'ok' : 'FAILED'}\n`);
  if (!ok) {
    failed++;
    process.stdout.write(`${r.stdout}\n${r.stderr}\nreplay: NTSTAT_FUZZ_SEED=${seed} NTSTAT_FUZZ_SCALE=${scale} node --test ${FILES.join(' ')}\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
