/**
 * Ground truth for usage tests: every flow the simulated world ever had (closed ones included),
 * captured where XNU would call into ntstat, and its true final counters summed per process.
 */
import type { SimKernel } from '../../src/simulator/index.js';
import type { KernelSocket, UserlandFlow } from '../../src/simulator/world/entities.js';

type Flow = KernelSocket | UserlandFlow;

export interface TruthTotals {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  flows: number;
}

export interface FlowTracker {
  /** Every TCP/UDP/QUIC flow (kernel and userland) created so far, closed ones included. */
  flows(): Flow[];
  /** Sum of every flow's true counters, per key. */
  totals(key: (f: Flow) => string): Map<string, TruthTotals>;
}

/** Start tracking flows of `kernel` (call right after creating it, before time moves). */
export function trackFlows(kernel: SimKernel): FlowTracker {
  const seen = new Set<Flow>();
  const w = kernel.world;
  for (const m of [w.tcpPcbs, w.udpPcbs, w.userlandFlows] as Map<number, Flow>[]) for (const f of m.values()) seen.add(f);
  const core = w.hooks as unknown as Record<string, (f: Flow) => void>;
  for (const name of ['tcpNewPcb', 'udpNewPcb', 'userlandOpen']) {
    const orig = core[name].bind(core);
    core[name] = (f: Flow) => {
      seen.add(f);
      orig(f);
    };
  }
  return {
    flows: () => [...seen],
    totals(key) {
      const out = new Map<string, TruthTotals>();
      for (const f of seen) {
        const k = key(f);
        let t = out.get(k);
        if (!t) out.set(k, (t = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0 }));
        t.rxBytes += f.counts.rxBytes;
        t.txBytes += f.counts.txBytes;
        t.rxPackets += f.counts.rxPackets;
        t.txPackets += f.counts.txPackets;
        t.flows++;
      }
      return out;
    },
  };
}

/**
 * The process name as the kernel reports it: p_comm, at most 16 bytes, up to macOS 14; p_name,
 * at most 32 bytes, from macOS 15 (BEHAVIOUR.md §7). A UTF-8 character cut by the limit is not shown.
 */
export function kernelName(name: string, macosMajor: number): string {
  const bytes = new TextEncoder().encode(name).subarray(0, macosMajor >= 15 ? 32 : 16);
  return new TextDecoder().decode(bytes).replace(/\ufffd+$/, '');
}
