/**
 * Export tests' world: a real NetworkStatisticsClient over the simulator, a small real AgentView
 * (CONTRACT-agent.md) fed by its streams, and an independent ground-truth ledger of the bytes the
 * simulated world moved per process (closed flows included).
 *
 * The ledger wraps World.transfer, the single place the simulated machine moves bytes, and
 * credits each transfer to the flow's process at that moment: it never looks at the protocol,
 * the client or the exporter.
 */
import { EventEmitter } from 'node:events';
import { NetworkStatisticsClient, type ClientProvider } from '../../src/client/client.js';
import { ProcessTotals } from '../../src/model/process-totals.js';
import type { Stream } from '../../src/model/stream.js';
import { SimKernel, SimulationDriver, type Simulator } from '../../src/simulator/index.js';
import type { Flow } from '../../src/simulator/world/entities.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import type { ExportSource } from '../../src/export/state.js';
import { settle } from './client-sim.js';

/** The flow kinds the agent counts: transport flows (CONN and UDP subflows would count twice). */
const COUNTED = new Set(['tcp', 'udp', 'tcpUserland', 'udpUserland', 'quic']);
export const AGENT_PROVIDERS: ClientProvider[] = ['tcp', 'udp', 'quic'];

export interface Truth {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  name: string;
}

/** Per-pid bytes and packets the world moved, whatever the client saw. */
export function installLedger(kernel: SimKernel): Map<number, Truth> {
  const ledger = new Map<number, Truth>();
  const world = kernel.world;
  const original = world.transfer.bind(world);
  world.transfer = (f: Flow, rx: number, tx: number, extra?: { dup?: number; ooo?: number; retx?: number }) => {
    const before = { rb: f.counts.rxBytes, tb: f.counts.txBytes, rp: f.counts.rxPackets, tp: f.counts.txPackets };
    original(f, rx, tx, extra);
    if (!COUNTED.has(f.kind)) return;
    let t = ledger.get(f.proc.pid);
    if (!t) ledger.set(f.proc.pid, (t = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, name: f.proc.name }));
    t.rxBytes += f.counts.rxBytes - before.rb;
    t.txBytes += f.counts.txBytes - before.tb;
    t.rxPackets += f.counts.rxPackets - before.rp;
    t.txPackets += f.counts.txPackets - before.tp;
  };
  return ledger;
}

/** A minimal real AgentView: per-pid totals from the client's events, interfaces summed from flows. */
export class SimAgentView extends EventEmitter implements ExportSource {
  readonly totals = new ProcessTotals('pid');
  private readonly lastSeen = new Map<string, number>();

  constructor(
    readonly client: NetworkStatisticsClient,
    private readonly clock: () => number,
  ) {
    super();
    for (const ev of ['added', 'update', 'removed'] as const) {
      client.on(ev, (s: Stream) => {
        this.totals.apply(ev, s);
        this.lastSeen.set(`pid:${s.pid ?? '?'}`, this.clock());
      });
    }
  }

  status() {
    const d = this.client.dialect!;
    const byReason = this.client.dropCounts();
    return {
      startedAt: 0,
      kernel: { xnu: d.xnu, dialect: d.family, verified: d.verified, simulated: true },
      providers: this.client.providers().map((p) => ({ name: p.provider, available: p.available, ...(p.reason ? { reason: p.reason } : {}) })),
      drops: { total: this.client.getNumDrops(), byReason },
      streams: this.client.snapshot().length,
    };
  }

  processes() {
    return this.totals
      .totals()
      .map((t) => ({
        key: t.key,
        process: t.process ?? '?',
        ...(t.pid !== undefined ? { pid: t.pid } : {}),
        rxBytes: t.rxBytes,
        txBytes: t.txBytes,
        rxPackets: t.rxPackets,
        txPackets: t.txPackets,
        flows: t.totalStreams,
        liveFlows: t.liveStreams,
        rxBytesPerSec: 0,
        txBytesPerSec: 0,
        lastSeen: this.lastSeen.get(t.key) ?? 0,
      }))
      .sort((a, b) => b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes));
  }

  interfaces() {
    // Summed from the per-process totals' streams is not possible after close; sum the ledger of
    // what this view saw per interface kind instead (monotonic: closed flows keep counting).
    return [...this.ifaces.values()];
  }

  private readonly ifaces = new Map<string, { name: string; kind: string; rxBytes: number; txBytes: number; rxPackets: number; txPackets: number; source: 'flows' }>();
  private readonly ifSeen = new Map<string, { rb: number; tb: number; rp: number; tp: number }>();

  /** Account a stream's counter deltas to its interface (called from the client events). */
  trackInterfaces(): this {
    for (const ev of ['added', 'update', 'removed'] as const) {
      this.client.on(ev, (s: Stream) => {
        if (!s.counts || s.ifindex === undefined) return;
        const name = `if${s.ifindex}`;
        let i = this.ifaces.get(name);
        if (!i) this.ifaces.set(name, (i = { name, kind: s.interface, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, source: 'flows' }));
        const p = this.ifSeen.get(s.id) ?? { rb: 0, tb: 0, rp: 0, tp: 0 };
        i.rxBytes += Math.max(0, s.counts.rxBytes - p.rb);
        i.txBytes += Math.max(0, s.counts.txBytes - p.tb);
        i.rxPackets += Math.max(0, s.counts.rxPackets - p.rp);
        i.txPackets += Math.max(0, s.counts.txPackets - p.tp);
        if (ev === 'removed') this.ifSeen.delete(s.id);
        else this.ifSeen.set(s.id, { rb: Math.max(p.rb, s.counts.rxBytes), tb: Math.max(p.tb, s.counts.txBytes), rp: Math.max(p.rp, s.counts.rxPackets), tp: Math.max(p.tp, s.counts.txPackets) });
      });
    }
    return this;
  }

  streams(): readonly Stream[] {
    return this.client.snapshot();
  }

  store() {
    return null;
  }
}

export interface ExportWorld {
  kernel: SimKernel;
  sim: Simulator;
  driver: SimulationDriver;
  client: NetworkStatisticsClient;
  agent: SimAgentView;
  ledger: Map<number, Truth>;
  /** Move the world by `ms`, let records arrive, sweep (one agent poll). */
  step(ms: number): Promise<void>;
  stop(): void;
}

/**
 * `recvspace`: the kernel queue at registration. Over a socketpair the client's SO_RCVBUF cannot
 * reach the simulated kernel, so the 4 MiB an agent asks for on a Mac is given here.
 */
export async function startExportWorld(o: { dialect?: string; scenario: string; seed?: number; scale?: number; transport?: (sim: Simulator) => Transport; recvspace?: number }): Promise<ExportWorld> {
  const kernel = new SimKernel({ dialect: o.dialect ?? 'd10002', scenario: o.scenario, seed: o.seed ?? 11, scale: o.scale ?? 0.3 });
  const ledger = installLedger(kernel);
  const sim = kernel.connect({ root: false, ...(o.recvspace ? { recvspace: o.recvspace } : {}) });
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({
    transport: o.transport ? o.transport(sim) : new MemoryTransport(sim),
    dialect: kernel.dialect,
    interval: 0,
    providers: AGENT_PROVIDERS,
    clock: () => kernel.now,
    receiveBufferSize: 4 << 20,
    requestTimeout: 3000,
  });
  const agent = new SimAgentView(client, () => kernel.now).trackInterfaces();
  await client.connect();
  await client.sweep();
  return {
    kernel,
    sim,
    driver,
    client,
    agent,
    ledger,
    async step(ms: number) {
      driver.step(ms);
      await settle();
      await client.sweep();
      await settle();
      agent.emit('poll', kernel.now);
    },
    stop() {
      client.stop();
    },
  };
}
