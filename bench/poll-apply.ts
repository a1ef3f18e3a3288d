/**
 * Where a poll cycle's CPU goes without the transport (issue 17): the records of two consecutive
 * GET_UPDATE(ALL) sweeps over the long-lived bench world (10 % of the sources move bytes each
 * simulated second) are captured once, then fed alternately to a SourceTable — through the full
 * path (decodeDatagram + SourceTable.apply, what the client did before) and through the client's
 * path (client/fast-update.ts: updates that repeat a stream applied in place). Same records, same
 * events (checked), CPU time per cycle, min and median of the cycles. No sockets, no simulator in
 * the timed part: what remains of the fd-transport cycle (bench/client-cost.ts) beyond this is
 * the request round trips (one per 100-source chunk) and one recvmsg per record.
 *
 *   npm run build:test && node build/bench/poll-apply.js [sources=10000] [cycles=30]
 */
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport, simulatorEndpoint, type KernelEndpoint } from '../src/transport/memory.js';
import { decodeDatagram, decodeMessageAt } from '../src/protocol/decode.js';
import { SourceTable, type StreamEvent } from '../src/client/source-table.js';
import { fastPathFor } from '../src/client/fast-update.js';
import type { Dialect } from '../src/protocol/dialect.js';
import { BENCH_DIALECT, MAX_SIM_RCVBUF, benchKernel } from './world.js';
import type { Row } from './client-cost.js';

export interface PollApplyResult {
  sources: number;
  recordsPerCycle: number;
  eventsPerCycle: number;
  full: { minMs: number; medianMs: number };
  fast: { minMs: number; medianMs: number; inPlaceShare: number };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The records of the first sweep (table fill) and of two later sweeps, as the client received them. */
async function captureSweeps(n: number): Promise<{ dialect: Dialect; fill: Uint8Array[]; cycles: Uint8Array[][] }> {
  const kernel = benchKernel({ dialect: BENCH_DIALECT, scenario: 'long-lived', count: n, seed: 1 });
  const inner = simulatorEndpoint(kernel.connect({ root: false }));
  let rec: Uint8Array[] | undefined;
  const endpoint: KernelEndpoint = {
    send: (d) => inner.send(d),
    recv(max) {
      const r = inner.recv(max);
      if (rec && r) rec.push(r.data.slice());
      return r;
    },
    onReadable: (fn) => inner.onReadable(fn),
    onClose: (fn) => inner.onClose?.(fn),
    setReceiveBufferSize: (b) => inner.setReceiveBufferSize!(b),
    close: () => inner.close(),
  };
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(endpoint), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp'], clock: () => kernel.now, receiveBufferSize: MAX_SIM_RCVBUF, requestTimeout: 60_000 });
  await client.connect();
  rec = [];
  await client.sweep();
  const fill = rec;
  const cycles: Uint8Array[][] = [];
  for (let i = 0; i < 2; i++) {
    driver.step(1000);
    await new Promise<void>((r) => setImmediate(r));
    rec = [];
    await client.sweep();
    cycles.push(rec);
  }
  client.stop();
  return { dialect: kernel.dialect, fill, cycles };
}

type Path = (t: SourceTable, records: Uint8Array[], now: number, ev: StreamEvent[]) => number;

export async function benchPollApply(n = 10_000, cycles = 30): Promise<PollApplyResult> {
  const { dialect: d, fill, cycles: recs } = await captureSweeps(n);
  const fp = fastPathFor(d);
  const opts = { unknownTypes: 'skip' as const };
  const full: Path = (t, records, now, ev) => {
    for (const r of records) for (const m of decodeDatagram(r, d, opts)) t.apply(m, now, ev);
    return 0;
  };
  const fast: Path = (t, records, now, ev) => {
    let inPlace = 0;
    for (const r of records) {
      const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
      for (const m of fp.decode(r, opts)) {
        if (m.kind !== 'deferred') t.apply(m, now, ev);
        else if (fp.apply(t, r, dv, m.at, now, ev)) inPlace++;
        else t.apply(decodeMessageAt(r, dv, d, m.at, m.len)!, now, ev);
      }
    }
    return inPlace;
  };
  const run = (path: Path) => {
    const t = new SourceTable(d);
    let now = 1000;
    path(t, fill, now, []);
    const times: number[] = [];
    const events: string[] = [];
    let inPlace = 0;
    for (let i = 0; i < cycles; i++) {
      now += 1000;
      const ev: StreamEvent[] = [];
      const c0 = cpuMs();
      inPlace += path(t, recs[i % 2], now, ev);
      times.push(cpuMs() - c0);
      if (i < 2) events.push(ev.map((e) => `${e.event}:${e.stream.id}`).join(','));
    }
    times.sort((a, b) => a - b);
    return { minMs: times[0], medianMs: times[Math.floor(times.length / 2)], events, inPlace, count: events.length };
  };
  const a = run(full);
  const b = run(fast);
  if (a.events.join('|') !== b.events.join('|')) throw new Error('poll-apply: the fast path emitted other events than the full path');
  const messages = recs[0].length;
  const eventsPerCycle = a.events[0].split(',').filter(Boolean).length;
  return {
    sources: n,
    recordsPerCycle: messages,
    eventsPerCycle,
    full: { minMs: a.minMs, medianMs: a.medianMs },
    fast: { minMs: b.minMs, medianMs: b.medianMs, inPlaceShare: b.inPlace / (cycles * n) },
  };
}

export function pollApplyRows(r: PollApplyResult): Row[] {
  const k = `${Math.round(r.sources / 1000)} k`;
  return [
    { figure: `poll records ${k}: decode + table, full path (CPU)`, value: `min ${r.full.minMs.toFixed(1)} ms, median ${r.full.medianMs.toFixed(1)} ms per cycle (${r.recordsPerCycle} records, ${r.eventsPerCycle} events)`, goal: '-' },
    { figure: `poll records ${k}: decode + table, client path (CPU)`, value: `min ${r.fast.minMs.toFixed(1)} ms, median ${r.fast.medianMs.toFixed(1)} ms per cycle (${(100 * r.fast.inPlaceShare).toFixed(0)} % of updates applied in place)`, goal: '-' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchPollApply(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 30))
    .then((r) => {
      for (const row of pollApplyRows(r)) console.log(`${row.figure.padEnd(52)} ${row.value}`);
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
