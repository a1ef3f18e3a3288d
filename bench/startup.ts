/**
 * Startup (issue 17): `ntstat --version` to exit, and `ntstat json --simulate --count 1` to its
 * first line on stdout (off macOS the simulator stands in for the kernel; on a Mac the live
 * kernel's first event depends on the traffic). Wall time from spawn to the first stdout byte,
 * min and median of RUNS runs, with the process's CPU (user + system, /proc, Linux) beside it.
 * The goals are wall times and are judged on the wall minimum. Each row shows bare `node -p 1`
 * (node printing one line: the floor no JS program can go below) measured in the same rounds:
 * the three commands run in turn, round after round, so a load that comes and goes on a shared
 * machine weighs on all three alike, and "ntstat's own" is the row's minimum minus the floor's.
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
  /** Bare node's wall time in the same rounds (the floor row has none). */
  floorWallMs?: { min: number; median: number };
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

/** Every command once per round, RUNS rounds (after one warm-up round for the file cache). */
async function figures(commands: { what: string; args: string[] }[]): Promise<StartupFigure[]> {
  const walls = commands.map(() => [] as number[]);
  const cpus = commands.map(() => [] as number[]);
  for (const c of commands) await once(c.args);
  for (let i = 0; i < RUNS; i++) {
    for (let j = 0; j < commands.length; j++) {
      const r = await once(commands[j].args);
      walls[j].push(r.wall);
      if (r.cpu !== undefined) cpus[j].push(r.cpu);
    }
  }
  return commands.map((c, j) => ({ what: c.what, wallMs: stats(walls[j]), ...(cpus[j].length === RUNS ? { cpuMs: stats(cpus[j]) } : {}) }));
}

export async function benchStartup(): Promise<StartupFigure[]> {
  // NTSTAT_BENCH_E2E_CLI: another build's bin.js (a before/after), as in bench/e2e.ts.
  const cli = process.env.NTSTAT_BENCH_E2E_CLI ?? fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
  if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build`);
  // `node -e` prints nothing: the floor is node printing one line.
  const [floor, ...rest] = await figures([
    { what: 'node -p 1 (floor)', args: ['-p', '1'] },
    { what: 'ntstat --version', args: [cli, '--version'] },
    { what: 'ntstat json --simulate --count 1', args: [cli, 'json', '--simulate', '--count', '1'] },
  ]);
  return [floor, ...rest.map((f) => ({ ...f, floorWallMs: floor.wallMs }))];
}

export function startupRows(fs: StartupFigure[]): Row[] {
  const goal: Record<string, number> = { 'ntstat --version': 150, 'ntstat json --simulate --count 1': 300 };
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return fs.map((f) => {
    const floor = f.floorWallMs ? `; node alone ${ms(f.floorWallMs.min)} min in the same rounds, so ntstat's own ${ms(f.wallMs.min - f.floorWallMs.min)}` : '';
    const cpu = f.cpuMs ? ` (CPU min ${ms(f.cpuMs.min)}, median ${ms(f.cpuMs.median)})` : '';
    return {
      figure: `startup: ${f.what}, first output`,
      value: `wall min ${ms(f.wallMs.min)}, median ${ms(f.wallMs.median)}${cpu}${floor}`,
      goal: goal[f.what] !== undefined ? `<= ${goal[f.what]} ms wall (min)` : '-',
      ...(goal[f.what] !== undefined ? { met: f.wallMs.min <= goal[f.what] } : {}),
    };
  });
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
