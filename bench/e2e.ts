/**
 * End to end (issue: benchmark 5): CPU of the built CLI (`ntstat top` and `ntstat json`, 1 s
 * interval) as a share of one core, with ~2 000 live streams.
 *
 * Method: this process plays the kernel — a SimKernel with bench/world.ts longLivedWorld(2000)
 * (10 % of the streams move bytes each second), advanced in real time and served over a Unix
 * datagram socket exactly like `ntstat serve` (which only knows the shipped scenarios). The CLI
 * runs as a child, `node dist/cli/bin.js <top|json> --socket PATH --xnu X --tcp --udp
 * --interval 1`, with stdout piped (top then prints plain-text frames of 40 rows, json one line
 * per event) and drained by this process. The child's CPU is utime + stime from
 * /proc/<pid>/stat (all its threads, clock ticks) over a window of WINDOW_S seconds after a
 * warm-up, divided by the wall time of the window. The simulator's cost is in this process, not
 * in the child, so nothing has to be subtracted; it is reported for information. Off Linux the
 * child's figure is unavailable and the row says so.
 *
 *   npm run build && npm run build:test && node build/bench/e2e.js
 *   NTSTAT_BENCH_CLI_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node build/bench/e2e.js   (profile the CLI)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SendError, SimulationDriver } from '../src/simulator/index.js';
import { serveSimulatorOverFd, type FdServer } from '../src/simulator/fd-server.js';
import { listenUnixDatagram } from '../src/transport/unix.js';
import { FdEndpoint } from '../src/transport/socketpair.js';
import { BENCH_DIALECT, benchKernel } from './world.js';
import type { Row } from './client-cost.js';

const STREAMS = Number(process.env.NTSTAT_BENCH_E2E_STREAMS ?? 2000);
const WARMUP_S = 3;
const WINDOW_S = 10;
/** Issue 17: an always-on view costs at most 1 % of a core (`top`; json is held to the same). */
const GOAL_PCT = 1;
/** The CLI's default SO_RCVBUF request (client.ts), which on a Mac sizes the kernel queue. */
const CLI_RCVBUF = 4 << 20;

type E2eCommand = 'top' | 'json' | 'agent';

export interface E2eResult {
  command: E2eCommand;
  streams: number;
  windowSeconds: number;
  cpuPercent?: number;
  /** This process (simulator + socket server + draining the child's stdout) over the same window. */
  simulatorPercent: number;
  stdoutBytesPerSec: number;
  sweeps?: number;
  kernelDrops: number;
  /** agent: /metrics scrapes answered in the window. */
  scrapes?: number;
  note?: string;
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process in seconds (Linux /proc), or undefined. */
function procCpuSeconds(pid: number, hz: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised comm (which may contain spaces): state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / hz; // fields 14, 15
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Session {
  command: E2eCommand;
  scraper?: ReturnType<typeof setInterval>;
  scrapes?: number;
  child: ChildProcess;
  server?: FdServer;
  sim?: { groundTruth(o: { descriptors: boolean; counts: boolean }): { dropped: { total: number } } };
  bytes: number;
  dir: string;
  stderr: string;
}

/**
 * The always-on agent as issue 17 counts it: recording to a real SQLite file (10 s flushes) with
 * /metrics served on loopback and scraped once a second, as Prometheus would.
 */
function agentArgs(dir: string): string[] {
  return ['--db', join(dir, 'usage.db'), '--listen', '127.0.0.1:0'];
}

function scrapeEverySecond(s: Session): void {
  const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(s.stderr);
  if (!m) return;
  s.scrapes = 0;
  s.scraper = setInterval(() => {
    fetch(`${m[1]}/metrics`)
      .then((r) => r.text())
      .then(() => (s.scrapes = (s.scrapes ?? 0) + 1))
      .catch(() => undefined);
  }, 1000);
}

async function startSession(command: E2eCommand, cli: string, xnu: string, kernel: ReturnType<typeof benchKernel>): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-e2e-'));
  const path = join(dir, 'kernel.sock');
  const listener = listenUnixDatagram(path);
  // NTSTAT_BENCH_CLI_NODE_ARGS: extra node flags for the CLI child (e.g. --cpu-prof to profile it).
  const nodeArgs = (process.env.NTSTAT_BENCH_CLI_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const extra = command === 'agent' ? agentArgs(dir) : [];
  const child = spawn(process.execPath, [...nodeArgs, cli, command, '--socket', path, '--xnu', xnu, '--tcp', '--udp', '--interval', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const s: Session = { command, child, bytes: 0, dir, stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (s.bytes += d.length));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (s.stderr += d));
  const exited = new Promise<never>((_, reject) => child.once('exit', (c) => reject(new Error(`ntstat ${command} exited (${c}): ${s.stderr}`))));
  exited.catch(() => undefined);
  let accepted: { fd: number; first: Uint8Array };
  try {
    accepted = await Promise.race([listener.accept(), exited]);
  } catch (e) {
    listener.close();
    throw e;
  }
  // The accepted fd is the listener's own socket (connected to the client): from here the
  // FdEndpoint owns and closes it; listener.close() would close it a second time.
  const sim = kernel.connect({ root: false });
  sim.setReceiveBufferSize(CLI_RCVBUF);
  try {
    sim.send(accepted.first);
  } catch (e) {
    if (!(e instanceof SendError)) throw e;
  }
  s.server = serveSimulatorOverFd(sim, new FdEndpoint(accepted.fd), { pace: 'eager' });
  s.sim = sim;
  return s;
}

async function stopSession(s: Session): Promise<void> {
  if (s.scraper) clearInterval(s.scraper);
  const exited = new Promise<void>((r) => (s.child.exitCode !== null ? r() : s.child.once('exit', () => r())));
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
  s.server?.close();
  rmSync(s.dir, { recursive: true, force: true });
}

export async function benchE2e(): Promise<{ rows: Row[]; results: E2eResult[] }> {
  const cli = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
  if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build`);
  const hz = clockTicks();
  // One world per CLI (each is one kernel-control client of its own simulated Mac).
  const kernels = (['top', 'json', 'agent'] as const).map((c, i) => ({ command: c, kernel: benchKernel({ dialect: BENCH_DIALECT, scenario: 'long-lived', count: STREAMS, seed: 20 + i }) }));
  const drivers = kernels.map((k) => new SimulationDriver(k.kernel));
  const sessions = await Promise.all(kernels.map((k) => startSession(k.command, cli, k.kernel.profile.xnu.join('.'), k.kernel)));
  for (const d of drivers) d.startRealtime();
  const results: E2eResult[] = [];
  try {
    await sleep(WARMUP_S * 1000);
    for (const s of sessions) if (s.command === 'agent') scrapeEverySecond(s);
    const c0 = sessions.map((s) => procCpuSeconds(s.child.pid!, hz));
    const b0 = sessions.map((s) => s.bytes);
    const self0 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const wall = (performance.now() - w0) / 1000;
    const self = process.cpuUsage(self0);
    const c1 = sessions.map((s) => procCpuSeconds(s.child.pid!, hz));
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      const cpu = c0[i] !== undefined && c1[i] !== undefined ? ((c1[i]! - c0[i]!) / wall) * 100 : undefined;
      const r: E2eResult = {
        command: s.command,
        streams: STREAMS,
        windowSeconds: wall,
        simulatorPercent: ((self.user + self.system) / 1e6 / wall) * 100,
        stdoutBytesPerSec: (s.bytes - b0[i]) / wall,
        kernelDrops: s.sim!.groundTruth({ descriptors: false, counts: false }).dropped.total,
      };
      if (s.scrapes !== undefined) r.scrapes = s.scrapes;
      if (cpu !== undefined) r.cpuPercent = cpu;
      else r.note = 'no /proc: child CPU not measurable here';
      if (s.child.exitCode !== null) r.note = `exited early (${s.child.exitCode}): ${s.stderr.trim()}`;
      results.push(r);
    }
  } finally {
    for (const d of drivers) d.stop();
    await Promise.all(sessions.map(stopSession));
  }
  return { rows: e2eRows(results), results };
}

export function e2eRows(rs: E2eResult[]): Row[] {
  return rs.map((r) => ({
    figure: r.command === 'agent' ? `ntstat agent (SQLite + /metrics), ${r.streams} streams` : `ntstat ${r.command}, ${r.streams} streams, 1 s interval`,
    value:
      r.cpuPercent !== undefined && !r.note
        ? `${r.cpuPercent.toFixed(2)} % of a core over ${r.windowSeconds.toFixed(0)} s (${r.scrapes !== undefined ? `${r.scrapes} scrapes` : `${(r.stdoutBytesPerSec / 1024).toFixed(0)} KiB/s out`}${r.kernelDrops ? `, drops ${r.kernelDrops}` : ''})`
        : r.note ?? 'n/a',
    goal: `<= ${GOAL_PCT} %`,
    ...(r.cpuPercent !== undefined && !r.note ? { met: r.cpuPercent <= GOAL_PCT && r.kernelDrops === 0 } : {}),
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchE2e()
    .then(({ rows, results }) => {
      for (const r of rows) console.log(`${r.figure}: ${r.value}`);
      console.log(JSON.stringify(results, null, 1));
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
