/**
 * Runs the real NetworkStatisticsClient against the simulator and compares its table with the
 * simulator's ground truth. Shared by the client tests, the property test and the benchmarks.
 */
import { NetworkStatisticsClient, type ClientEvent, type ClientProvider } from '../../src/client/client.js';
import { SimKernel, SimulationDriver, type Simulator } from '../../src/simulator/index.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import type { Dialect } from '../../src/protocol/dialect.js';
import type { Stream } from '../../src/model/stream.js';

export interface RunOptions {
  dialect: Dialect | string;
  scenario: string;
  seed?: number;
  scale?: number;
  /** Simulated ms per step and number of steps (a sweep follows every step). */
  stepMs?: number;
  steps?: number;
  /** Read slowly: pause the transport while the world moves (the kernel queue fills and drops). */
  slowReader?: boolean;
  receiveBufferSize?: number;
  providers?: ClientProvider[];
  root?: boolean;
  /** Build the transport (default: MemoryTransport over the simulator). */
  transport?: (sim: Simulator) => Transport;
  kernelVersion?: string;
}

export interface RunResult {
  client: NetworkStatisticsClient;
  sim: Simulator;
  kernel: SimKernel;
  /** The client's side of the connection (tests pause it to play a slow reader, or close it). */
  transport: Transport;
  events: ClientEvent[];
  eventsById: Map<string, string[]>;
}

export const ALL_PROVIDERS: ClientProvider[] = ['tcp', 'udp', 'quic', 'conn', 'udpSubflow', 'route'];

/** Let queued records reach the client (the transport delivers on setImmediate). */
export async function settle(turns = 4): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

export async function runClientOnScenario(o: RunOptions): Promise<RunResult> {
  const kernel = new SimKernel({ dialect: o.dialect, scenario: o.scenario, seed: o.seed ?? 7, scale: o.scale ?? 1, ...(o.kernelVersion ? { kernelVersion: o.kernelVersion } : {}) });
  const sim = kernel.connect({ root: o.root ?? false });
  const transport = o.transport ? o.transport(sim) : new MemoryTransport(sim);
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({
    transport,
    dialect: kernel.dialect,
    interval: 0,
    providers: o.providers ?? ALL_PROVIDERS,
    clock: () => kernel.now,
    receiveBufferSize: o.receiveBufferSize ?? 4 << 20,
    requestTimeout: 3000,
  });
  const events: ClientEvent[] = [];
  const eventsById = new Map<string, string[]>();
  const record = (type: 'added' | 'update' | 'removed') => (s: Stream) => {
    events.push({ type, stream: s, time: kernel.now });
    let l = eventsById.get(s.id);
    if (!l) eventsById.set(s.id, (l = []));
    l.push(type);
  };
  client.on('added', record('added'));
  client.on('update', record('update'));
  client.on('removed', record('removed'));
  await client.connect();
  await client.sweep();
  const steps = o.steps ?? 10;
  for (let i = 0; i < steps; i++) {
    if (o.slowReader) transport.pause();
    driver.step(o.stepMs ?? 200);
    if (o.slowReader) transport.resume();
    await settle();
    await client.sweep();
  }
  return { client, sim, kernel, transport, events, eventsById };
}

/** Sweep with time frozen until the table stops changing (bounded). */
export async function converge(r: RunResult, maxSweeps = 6): Promise<void> {
  for (let i = 0; i < maxSweeps; i++) {
    await settle();
    await r.client.sweep();
  }
  await settle();
}

export interface Mismatch {
  missing: string[];
  ghosts: string[];
  wrong: string[];
}

/** Client table vs ground truth: every live, describable source present and equal; no ghosts. */
export function compareWithTruth(r: RunResult): Mismatch {
  const truth = r.sim.groundTruth();
  const table = new Map(r.client.snapshot().map((s) => [s.srcref, s]));
  const out: Mismatch = { missing: [], ghosts: [], wrong: [] };
  for (const t of truth.sources.values()) {
    if (!t.alive || !t.descriptor) continue;
    const s = table.get(t.srcref);
    if (!s) {
      out.missing.push(`${t.srcref} ${t.provider}`);
      continue;
    }
    const d = t.descriptor;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // An unconnected socket's peer (unspecified address, port 0) is absent data in the model.
    const r = d.remote as { address?: string; port?: number } | undefined;
    const remote = r && r.port === 0 && (r.address === '0.0.0.0' || r.address === '::') ? undefined : d.remote;
    if (!same(s.local, d.local) || !same(s.remote, remote)) out.wrong.push(`${t.srcref}: addresses ${JSON.stringify([s.local, s.remote])} vs ${JSON.stringify([d.local, remote])}`);
    if (s.pid !== d.pid) out.wrong.push(`${t.srcref}: pid ${s.pid} vs ${d.pid}`);
    if (s.process !== d.pname) out.wrong.push(`${t.srcref}: process ${s.process} vs ${d.pname}`);
    if (t.counts && s.counts) {
      if (s.counts.rxBytes !== t.counts.rxBytes || s.counts.txBytes !== t.counts.txBytes || s.counts.rxPackets !== t.counts.rxPackets) {
        out.wrong.push(`${t.srcref}: counts ${s.counts.rxBytes}/${s.counts.txBytes} vs ${t.counts.rxBytes}/${t.counts.txBytes}`);
      }
    } else if (t.counts && !s.counts) out.wrong.push(`${t.srcref}: no counts`);
  }
  for (const s of table.values()) if (!truth.sources.has(s.srcref)) out.ghosts.push(`${s.id} ${s.providerKind}`);
  return out;
}

/** Event-order invariants: added first, at most one added/removed, nothing after removed. */
export function orderViolations(r: RunResult): string[] {
  const bad: string[] = [];
  for (const [id, seq] of r.eventsById) {
    if (seq[0] !== 'added') bad.push(`${id}: first event ${seq[0]}`);
    if (seq.filter((e) => e === 'added').length > 1) bad.push(`${id}: duplicated added`);
    const rem = seq.indexOf('removed');
    if (rem >= 0 && rem !== seq.length - 1) bad.push(`${id}: events after removed`);
  }
  return bad;
}
