/**
 * Startup (issue 17): `ntstat --version` to exit, and `ntstat json --simulate --count 1` to its
 * first line on stdout (off macOS the simulator stands in for the kernel; on a Mac the live
 * kernel's first event depends on the traffic). Wall time from spawn to the first stdout byte,
 * min and median of RUNS runs, with the process's CPU (user + system, /proc, Linux) beside it and
 * bare `node -e 0` as the floor. The goal is judged on the minimum: on a shared machine the
 * median mostly measures the other load (even bare node's median moves by hundreds of ms).
 *
 *   npm run build && npm run build:test && node build/bench/startup.js
 *   NTSTAT_BENCH_E2E_CLI=/other/checkout/dist/cli/bin.js node build/bench/startup.js   (another build)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Row } from './client-cost.js';

const RUNS = 7;

export interface StartupFigure {
  what: string;
  wallMs: { min: number; median: number };
  cpuMs?: { min: number; median: number };
}

function cpuOf(pid: number): number | undefined {
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(rest[11]) + Number(rest[12])) / 100) * 1000; // USER_HZ = 100 on Linux
  } catch {
    return undefined;
  }
}

/** One run: ms from spawn to the first stdout byte, and the child's CPU ms at that moment. */
function once(args: string[]): Promise<{ wall: number; cpu?: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NO_COLOR: '1' } });
    let done = false;
    child.stdout.once('data', () => {
      const wall = performance.now() - t0;
      const cpu = cpuOf(child.pid!);
      done = true;
      child.kill('SIGTERM');
      resolve(cpu === undefined ? { wall } : { wall, cpu });
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${args.join(' ')} exited (${code}) without output`));
    });
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
};

async function figure(what: string, args: string[]): Promise<StartupFigure> {
  const walls: number[] = [];
  const cpus: number[] = [];
  await once(args); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    const r = await once(args);
    walls.push(r.wall);
    if (r.cpu !== undefined) cpus.push(r.cpu);
  }
  return { what, wallMs: stats(walls), ...(cpus.length === RUNS ? { cpuMs: stats(cpus) } : {}) };
}

export async function benchStartup(): Promise<StartupFigure[]> {
  // NTSTAT_BENCH_E2E_CLI: another build's bin.js (a before/after), as in bench/e2e.ts.
  const cli = process.env.NTSTAT_BENCH_E2E_CLI ?? fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
  if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build`);
  // `node -e` prints nothing: the floor is node printing one line.
  return [
    await figure('node -p 1 (floor)', ['-p', '1']),
    await figure('ntstat --version', [cli, '--version']),
    await figure('ntstat json --simulate --count 1', [cli, 'json', '--simulate', '--count', '1']),
  ];
}

export function startupRows(fs: StartupFigure[]): Row[] {
  const goal: Record<string, number> = { 'ntstat --version': 150, 'ntstat json --simulate --count 1': 300 };
  return fs.map((f) => ({
    figure: `startup: ${f.what}, first output`,
    value: `min ${f.wallMs.min.toFixed(0)} ms, median ${f.wallMs.median.toFixed(0)} ms${f.cpuMs ? ` (CPU min ${f.cpuMs.min.toFixed(0)} ms, median ${f.cpuMs.median.toFixed(0)} ms)` : ''}`,
    goal: goal[f.what] !== undefined ? `<= ${goal[f.what]} ms (min)` : '-',
    ...(goal[f.what] !== undefined ? { met: f.wallMs.min <= goal[f.what] } : {}),
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchStartup()
    .then((fs) => {
      for (const r of startupRows(fs)) console.log(`${r.figure}: ${r.value} (goal ${r.goal})`);
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
