/**
 * Simulator throughput on churn-10k (10 000 flows/s): how many messages per wall-clock second the
 * simulated kernel produces for one client, and how much faster than real time it runs.
 *
 *   npm run build:test && node build/bench/simulator.js [simSeconds=10] [families=d3247,d4570,d10002]
 *
 * Two client styles: 'notify' (ADD_ALL tcp+udp, every SRC_ADDED / goodbye delivered) and 'update'
 * (SUPPRESS_SRC_ADDED + GET_UPDATE(ALL) once per simulated second). The client drains the queue
 * (no decoding) every 100 ms of simulated time with a 7 MiB SO_RCVBUF, so nothing is dropped and
 * the figure is the model's own cost (world + kernel model + encoding).
 */
import { constantBig, encodeRequest, srcrefAll } from '../src/protocol/index.js';
import { SimKernel } from '../src/simulator/index.js';

export interface SimBenchResult {
  family: string;
  mode: 'notify' | 'update';
  simSeconds: number;
  wallSeconds: number;
  realtimeFactor: number;
  messages: number;
  records: number;
  bytes: number;
  messagesPerSec: number;
  recordsPerSec: number;
  flowsPerSec: number;
  drops: number;
}

export function benchSimulator(family: string, mode: 'notify' | 'update', simSeconds: number): SimBenchResult {
  const kernel = new SimKernel({ dialect: family, scenario: 'churn-10k', seed: 1 });
  kernel.advance(200);
  const sim = kernel.connect();
  sim.setReceiveBufferSize(7 << 20);
  const d = sim.dialect;
  const suppress = mode === 'update' ? constantBig(d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED') ?? 0n : 0n;
  for (const p of [sim.profile.providers.tcp!, sim.profile.providers.udp!]) {
    sim.send(encodeRequest(d, { kind: 'addAllSrcs', context: 1n, flags: 0, provider: p, filter: suppress, events: 0n, targetPid: 0 }));
  }
  let records = 0;
  let bytes = 0;
  const drain = () => {
    for (let r = sim.recv(); r; r = sim.recv()) {
      records++;
      bytes += r.length;
    }
  };
  drain();
  const produced0 = sim.groundTruth({ descriptors: false, counts: false }).producedMessages;
  const flows0 = kernel.world.id();
  records = 0;
  bytes = 0;
  const t0 = performance.now();
  for (let ms = 0; ms < simSeconds * 1000; ms += 100) {
    kernel.advance(100);
    if (mode === 'update' && ms % 1000 === 0 && d.hasLength) {
      sim.send(encodeRequest(d, { kind: 'getUpdate', context: BigInt(ms + 2), flags: 0, srcref: srcrefAll(d) }));
    }
    drain();
  }
  const wall = (performance.now() - t0) / 1000;
  const truth = sim.groundTruth({ descriptors: false, counts: false });
  const messages = truth.producedMessages - produced0;
  return {
    family,
    mode,
    simSeconds,
    wallSeconds: wall,
    realtimeFactor: simSeconds / wall,
    messages,
    records,
    bytes,
    messagesPerSec: messages / wall,
    recordsPerSec: records / wall,
    // World object ids are allocated per socket/route: a proxy for flows opened.
    flowsPerSec: (kernel.world.id() - flows0) / simSeconds,
    drops: truth.dropped.total,
  };
}

function main(): void {
  const simSeconds = Number(process.argv[2] ?? 10);
  const families = (process.argv[3] ?? 'd3247,d4570,d10002').split(',');
  console.log(`churn-10k, ${simSeconds} simulated seconds per run, node ${process.version} ${process.platform}-${process.arch}`);
  console.log('family    mode    wall s  x realtime  messages/s  records/s  MB/s   flows/s(sim)  drops');
  for (const f of families) {
    for (const mode of ['notify', 'update'] as const) {
      const r = benchSimulator(f, mode, simSeconds);
      console.log(
        `${f.padEnd(9)} ${mode.padEnd(7)} ${r.wallSeconds.toFixed(2).padStart(6)}  ${r.realtimeFactor.toFixed(2).padStart(10)}  ${Math.round(r.messagesPerSec).toString().padStart(10)}  ${Math.round(r.recordsPerSec).toString().padStart(9)}  ${(r.bytes / r.wallSeconds / 1e6).toFixed(1).padStart(5)}  ${Math.round(r.flowsPerSec).toString().padStart(12)}  ${r.drops}`,
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
