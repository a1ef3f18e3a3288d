/**
 * The "done when" over --socket with real processes: the simulated kernel lives in this
 * test (so its ground truth is at hand) and is served over a Unix datagram socket as `ntstat
 * serve` does; `ntstat agent --socket … --db …` runs as a child process; `ntstat usage --by
 * process --json` must equal the ground truth after a clean stop (SIGTERM), and after a kill -9
 * and a restart nothing counts twice and at most the growth around the last flush interval is
 * missing. World time is frozen before each stop so the final counters are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { serveSimulatorOverFd, type FdServer } from '../src/simulator/fd-server.js';
import { FdEndpoint } from '../src/transport/socketpair.js';
import { listenUnixDatagram } from '../src/transport/unix.js';
import { kernelName, trackFlows, type FlowTracker } from './helpers/usage-truth.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-agent-sock-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const MACOS = 13;

function kernel() {
  const k = new SimKernel({ dialect: String(MACOS), scenario: 'idle-laptop', seed: 21, scale: 0.3 });
  return { k, truth: trackFlows(k), driver: new SimulationDriver(k), xnu: k.profile.xnu.join('.') };
}

/** Serve the kernel on a fresh socket path; resolves the server once a client connected. */
function serve(k: SimKernel, path: string): Promise<FdServer> {
  const listener = listenUnixDatagram(path);
  return listener.accept().then(({ fd, first }) => {
    // The agent asks for a 4 MiB receive buffer, as on a Mac (the socket relay cannot pass SO_RCVBUF on).
    const sim = k.connect({ root: false, recvspace: 4 << 20 });
    try {
      sim.send(first);
    } catch {
      // a failing first request is the client's to see
    }
    return serveSimulatorOverFd(sim, new FdEndpoint(fd));
  });
}

function agent(sock: string, xnu: string, db: string): { child: ChildProcess; recording: Promise<void>; exit: Promise<number | null>; err: () => string } {
  const child = spawn(process.execPath, [bin, 'agent', '--socket', sock, '--xnu', xnu, '--db', db, '--flush', '1', '--interval', '0.25'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const recording = new Promise<void>((r) => child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('agent recording')) r();
  }));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, recording, exit, err: () => err };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function usageByProcess(db: string): Map<string, { rx: number; tx: number }> {
  const r = spawnSync(process.execPath, [bin, 'usage', '--db', db, '--by', 'process', '--json', '--since', '2000-01-01T00:00:00Z', '--until', '2100-01-01T00:00:00Z'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, { rx: number; tx: number }>();
  for (const l of r.stdout.trim().split('\n').filter(Boolean)) {
    const row = JSON.parse(l) as { key: string; rxBytes: number; txBytes: number };
    if (row.rxBytes || row.txBytes) out.set(row.key, { rx: row.rxBytes, tx: row.txBytes });
  }
  return out;
}

function truthByName(t: FlowTracker): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const f of t.flows()) {
    const k = kernelName(f.proc.name, MACOS);
    const a = out.get(k) ?? { rx: 0, tx: 0 };
    a.rx += f.counts.rxBytes;
    a.tx += f.counts.txBytes;
    out.set(k, a);
  }
  for (const [k, v] of out) if (v.rx === 0 && v.tx === 0) out.delete(k);
  return out;
}

const total = (m: Map<string, { rx: number; tx: number }>) => [...m.values()].reduce((s, v) => s + v.rx + v.tx, 0);

test('over --socket: clean stop (SIGTERM) -> usage --by process --json equals the ground truth', async () => {
  const w = kernel();
  const db = join(dir, 'clean.db');
  const sock = join(dir, 'a.sock');
  const server = serve(w.k, sock);
  const a = agent(sock, w.xnu, db);
  await a.recording;
  w.driver.startRealtime({ speed: 4 });
  await sleep(3000);
  w.driver.stop(); // time frozen: the agent's last sweep sees the final counters
  await sleep(700);
  a.child.kill('SIGTERM');
  assert.equal(await a.exit, 0, a.err());
  (await server).close();
  assert.ok(w.truth.flows().some((f) => f.closed), 'flows closed during the run');
  assert.doesNotMatch(a.err(), /kernel messages were lost/, 'no kernel drops (they would lose final counters)');
  assert.deepEqual(usageByProcess(db), truthByName(w.truth), a.err());
});

test('over --socket: kill -9 + restart: nothing counts twice; at most the last flush interval is missing', async () => {
  const w = kernel();
  const db = join(dir, 'crash.db');
  const serverA = serve(w.k, join(dir, 'b1.sock'));
  const a = agent(join(dir, 'b1.sock'), w.xnu, db);
  await a.recording;
  // The world's total bytes over time, to bound what a crash may lose.
  const samples: { at: number; bytes: number }[] = [];
  const sample = () => samples.push({ at: Date.now(), bytes: w.truth.flows().reduce((s, f) => s + f.counts.rxBytes + f.counts.txBytes, 0) });
  const sampler = setInterval(sample, 100);
  w.driver.startRealtime({ speed: 4 });
  await sleep(3300);
  const killedAt = Date.now();
  a.child.kill('SIGKILL');
  await a.exit;
  w.driver.stop(); // nothing moves while no agent runs (a sleeping laptop)
  (await serverA).close();
  const serverB = serve(w.k, join(dir, 'b2.sock'));
  const b = agent(join(dir, 'b2.sock'), w.xnu, db);
  await b.recording;
  w.driver.startRealtime({ speed: 4 });
  await sleep(2500);
  w.driver.stop();
  clearInterval(sampler);
  await sleep(700);
  b.child.kill('SIGTERM');
  assert.equal(await b.exit, 0, b.err());
  (await serverB).close();
  const stored = usageByProcess(db);
  const truth = truthByName(w.truth);
  for (const [k, v] of stored) {
    const t = truth.get(k) ?? { rx: 0, tx: 0 };
    assert.ok(v.rx <= t.rx && v.tx <= t.tx, `${k}: stored ${JSON.stringify(v)} <= truth ${JSON.stringify(t)} (no double counting)`);
  }
  const missing = total(truth) - total(stored);
  // Flush every 1 s, poll every 0.25 s: what can be lost moved in the 1.5 s before the kill.
  const before = samples.filter((s) => s.at <= killedAt - 1500).at(-1)?.bytes ?? 0;
  const atKill = samples.filter((s) => s.at <= killedAt + 200).at(-1)?.bytes ?? Infinity;
  assert.ok(missing >= 0 && missing <= atKill - before, `missing ${missing} B <= bytes moved in the last flush interval before the kill (${atKill - before} B)`);
  process.stdout.write(`# crash test: total ${total(truth)} B, missing ${missing} B after kill -9 + restart (bound ${atKill - before} B)\n`);
});
