/**
 * The decode figures alone (issue 17), and an A/B of two builds in the same minutes.
 *
 *   node build/bench/decode-ab.js                          this build: full decode + counters-only per dialect
 *   node build/bench/decode-ab.js --base OTHER/build [--rounds 3]
 *       alternates child processes of this build (A) and of OTHER's compiled tree (B, any commit:
 *       only its decodeDatagram, scanCounts and dialectFor are used), on the same capture bytes
 *       (this build's bench/capture.ts); prints min and median of the rounds for each.
 *   node build/bench/decode-ab.js --child ROOT             one measurement of ROOT's decoder, JSON
 *   options: --xnu 10002.1.13[,...] (dialects; default the three of issue 17), --full-only
 *
 * CPU time (bench/common.ts measure: median and best of 5 runs of ~0.4 s each), single core.
 * The whole `npm run bench` also prints these (benchDecode), with the native ratio.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from './common.js';
import { syntheticCapture } from './capture.js';
import { dialectFor as ownDialectFor } from '../src/protocol/dialect.js';
import { captureStats } from './decode.js';

const XNUS = ['4570.1.46', '7195.50.7.100.1', '10002.1.13'];

interface Figures {
  [xnu: string]: { full: number; fullBest: number; counts: number; countsBest: number };
}

async function child(root: string, xnus: string[], fullOnly: boolean): Promise<Figures> {
  const imp = (p: string) => import(resolve(root, p)) as Promise<Record<string, unknown>>;
  const { decodeDatagram } = (await imp('src/protocol/decode.js')) as { decodeDatagram: (b: Uint8Array, d: unknown) => unknown[] };
  const { scanCounts } = (await imp('src/protocol/counts-scan.js')) as {
    scanCounts: (b: Uint8Array, d: unknown, v: (t: number, lo: number, hi: number, f: number, c: Float64Array) => void) => number;
  };
  const { dialectFor } = (await imp('src/protocol/dialect.js')) as { dialectFor: (x: string) => unknown };
  const out: Figures = {};
  let sink = 0;
  // Warm every dialect's path first, so the first one measured is not also paying for compiles.
  const t0 = performance.now();
  while (performance.now() - t0 < 300) {
    for (const xnu of xnus) {
      const own = ownDialectFor(xnu);
      for (const dg of syntheticCapture(own, 200)) sink += decodeDatagram(dg, dialectFor(xnu)).length;
    }
  }
  for (const xnu of xnus) {
    const own = ownDialectFor(xnu);
    const capture = syntheticCapture(own);
    const { messages } = captureStats(capture, own);
    const d = dialectFor(xnu);
    const full = measure(() => {
      for (const dg of capture) sink += decodeDatagram(dg, d).length;
    });
    const counts = fullOnly
      ? full
      : measure(() => {
          for (const dg of capture) scanCounts(dg, d, (_t, lo, _hi, _f, c) => (sink += lo + c[1]));
        });
    out[xnu] = {
      full: (messages * full.iterations) / full.seconds,
      fullBest: (messages * full.iterations) / full.minSeconds,
      counts: (messages * counts.iterations) / counts.seconds,
      countsBest: (messages * counts.iterations) / counts.minSeconds,
    };
  }
  if (sink === 42) console.error('');
  return out;
}

function runChild(root: string, pass: string[]): Figures {
  const self = fileURLToPath(import.meta.url);
  return JSON.parse(execFileSync(process.execPath, [self, '--child', root, ...pass], { encoding: 'utf8' })) as Figures;
}

const M = (n: number) => (n / 1e6).toFixed(2);
function summary(label: string, runs: Figures[], xnus: string[]): string[] {
  const lines: string[] = [];
  for (const xnu of xnus) {
    const stat = (k: 'full' | 'counts') => {
      const v = runs.map((r) => r[xnu][k]).sort((a, b) => a - b);
      return `${M(v[0])}/${M(v[Math.floor(v.length / 2)])}/${M(v[v.length - 1])}`;
    };
    lines.push(`${label} ${xnu.padEnd(16)} full M msg/s min/med/max ${stat('full').padEnd(16)} counters-only ${stat('counts')}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const own = resolve(fileURLToPath(import.meta.url), '../..');
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const xnus = at('--xnu')?.split(',') ?? XNUS;
  const fullOnly = args.includes('--full-only');
  const pass = [...(at('--xnu') ? ['--xnu', at('--xnu')!] : []), ...(fullOnly ? ['--full-only'] : [])];
  const childRoot = at('--child');
  if (childRoot) {
    process.stdout.write(JSON.stringify(await child(childRoot, xnus, fullOnly)));
    return;
  }
  const base = at('--base');
  const rounds = Number(at('--rounds') ?? (base ? 3 : 1));
  const a: Figures[] = [];
  const b: Figures[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(runChild(own, pass));
    if (base) b.push(runChild(resolve(base), pass));
  }
  console.log(summary('A (this build)', a, xnus).join('\n'));
  if (base) console.log(summary(`B (${base})`, b, xnus).join('\n'));
}

await main();
