/**
 * Child process of test/stream-shapes.test.ts, run as `node --allow-natives-syntax` (V8's
 * `%HaveSameMap` tells whether two objects have the same hidden class). It drives the real client
 * through every path a stream takes — simulated worlds over the memory transport (decode, the
 * in-place poll path, sweeps, removals) with a wall clock, a replay of a bench recording marked as
 * `ntstat replay` marks it, and a session with counters past 2^31 and 2^32, fractional and zero
 * RTTs, idle polls and SRC_COUNTS — and checks, at every event, that objects with the same keys
 * in the same order share one hidden class: streams, their counts, and the event objects. At the
 * end every stream seen is checked again (an object left on a replaced class counts as a split).
 * runCensus() returns the splits found and what was covered. No top-level effects: `node --test`
 * also loads this file (without the flag).
 */
import { NetworkStatisticsClient } from '../../src/client/client.js';
import type { StreamEvent } from '../../src/model/events.js';
import type { Stream } from '../../src/model/stream.js';
import { InitialPhaseTracker } from '../../src/cli/replay-initial.js';
import { libntstatRecords } from '../../src/cli/replay.js';
import { providerId } from '../../src/protocol/constants.js';
import { dialectFor, type Dialect } from '../../src/protocol/dialect.js';
import { aggregate, encodeMessage } from '../../src/protocol/encode.js';
import type { Counts, Descriptor, Message } from '../../src/protocol/messages.js';
import { SimKernel, SimulationDriver } from '../../src/simulator/index.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { ReplayTransport, type ReplayRecord } from '../../src/transport/replay.js';
import { writeLibntstatRecording } from '../../bench/recording.js';
import { ALL_PROVIDERS, settle } from './client-sim.js';

let sameMap: (a: object, b: object) => boolean;

/** ms since 1970, as the live CLI's clock gives (beyond V8's small integers). */
const WALL = 1_733_000_000_000;

class Census {
  private readonly reps = new Map<string, object>();
  /** "where: what {keys}" -> how many objects differed from their group's representative. */
  readonly splits = new Map<string, number>();
  readonly groups = new Map<string, number>();
  readonly streams = new Set<Stream>();
  bigCounters = 0;
  zeroRtt = 0;
  fractionalRtt = 0;
  fractionalRates = 0;
  markedEvents = 0;

  see(what: string, o: object | undefined, where: string): void {
    if (o === undefined) return;
    const keys = Object.keys(o).join(',');
    const group = `${what} ${keys}`;
    this.groups.set(group, (this.groups.get(group) ?? 0) + 1);
    const rep = this.reps.get(group);
    // A stream that was the representative may have gained fields since: then it stands for
    // another key list, and this object becomes the group's representative.
    if (rep === undefined || Object.keys(rep).join(',') !== keys) {
      this.reps.set(group, o);
      return;
    }
    if (!sameMap(rep, o)) {
      this.split(`${where}: ${what} {${keys}}`);
      this.reps.set(group, o);
    }
  }

  private split(what: string): void {
    this.splits.set(what, (this.splits.get(what) ?? 0) + 1);
  }

  event(where: string, s: Stream, ev: StreamEvent): void {
    this.streams.add(s);
    this.see('stream', s, where);
    this.see('counts', s.counts, where);
    this.see('event', ev, where);
    const c = s.counts;
    if (c) {
      if (c.rxBytes > 2 ** 31 || c.txBytes > 2 ** 31) this.bigCounters++;
      if (c.minRtt === 0 && c.avgRtt === 0 && c.varRtt === 0) this.zeroRtt++;
      if (!Number.isInteger(c.minRttMs) || !Number.isInteger(c.avgRttMs)) this.fractionalRtt++;
    }
    if (s.rxBytesPerSec !== undefined && (!Number.isInteger(s.rxBytesPerSec) || !Number.isInteger(s.txBytesPerSec))) this.fractionalRates++;
  }

  /** Every stream seen, grouped by its keys now: one hidden class per group. */
  final(): void {
    const first = new Map<string, Stream>();
    for (const s of this.streams) {
      const keys = Object.keys(s).join(',');
      const f = first.get(keys);
      if (f === undefined) first.set(keys, s);
      else if (!sameMap(f, s)) this.split(`end: stream {${keys}}`);
    }
  }
}

function watch(census: Census, client: NetworkStatisticsClient, where: string, mark?: (ev: StreamEvent) => StreamEvent): void {
  for (const kind of ['added', 'update', 'removed'] as const) {
    client.on(kind, (s: Stream, ev: StreamEvent) => {
      if (mark && kind === 'added') {
        ev = mark(ev);
        census.markedEvents++;
      }
      census.event(`${where} ${kind}`, s, ev);
    });
  }
}

/** A simulated Mac, polled every 500 ms of simulated time; returns a TCP and a UDP descriptor it saw. */
async function simulated(census: Census, scenario: string): Promise<Map<string, Descriptor>> {
  const kernel = new SimKernel({ dialect: 'd10002', scenario, seed: 5, scale: 0.3 });
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({
    transport: new MemoryTransport(kernel.connect({ root: true })),
    dialect: kernel.dialect,
    interval: 0,
    providers: ALL_PROVIDERS,
    clock: () => WALL + kernel.now,
    receiveBufferSize: 4 << 20,
    requestTimeout: 3000,
  });
  const descriptors = new Map<string, Descriptor>();
  watch(census, client, scenario);
  client.on('update', (s: Stream) => {
    if (s.descriptor && (s.providerKind === 'tcp' || s.providerKind === 'udp')) descriptors.set(s.providerKind, s.descriptor);
  });
  try {
    await client.connect();
    await client.sweep();
    for (let i = 0; i < 12; i++) {
      driver.step(500);
      await settle();
      await client.sweep();
    }
  } finally {
    client.stop();
  }
  return descriptors;
}

async function replay(census: Census, records: Iterable<ReplayRecord>, d: Dialect, where: string, tracker?: InitialPhaseTracker): Promise<void> {
  const transport = new ReplayTransport(records, { speed: 0 });
  const client = new NetworkStatisticsClient({ transport, dialect: d, passive: true, clock: () => transport.now });
  watch(census, client, where, tracker ? (ev) => tracker.mark(ev) : undefined);
  await client.connect();
  await client.closed();
}

function counts(rx: number, tx: number, rtt: number): Counts {
  const c = { rxPackets: Math.floor(rx / 1400), rxBytes: rx, txPackets: Math.floor(tx / 1400), txBytes: tx, rxDuplicateBytes: 0, rxOutOfOrderBytes: 0, txRetransmit: 0, connectAttempts: 1, connectSuccesses: 1 };
  return { ...c, minRtt: rtt, avgRtt: rtt * 2, varRtt: rtt, cellRxBytes: 0, cellTxBytes: 0, wifiRxBytes: rx, wifiTxBytes: tx, wiredRxBytes: 0, wiredTxBytes: 0 };
}

/**
 * A recorded session (as bytes, through decode and the in-place paths) about flows that move
 * hundreds of gigabytes: counters past 2^31 and 2^32, RTTs zero then fractional, idle polls
 * (rates 0), SRC_COUNTS, removals; times 1.5 s apart on the wall clock (fractional rates).
 */
function bigSession(d: Dialect, descriptors: Map<string, Descriptor>): ReplayRecord[] {
  const base = { context: 0n, flags: 0 };
  const records: ReplayRecord[] = [];
  let time = WALL;
  const rec = (msgs: Message[]) => records.push({ time: (time += 1500), data: aggregate(d, msgs.map((m) => encodeMessage(d, m, { padItems: true }))), offset: 0 });
  const flows: { srcref: bigint; provider: number; descriptor: Descriptor }[] = [];
  let srcref = 1_000_000n;
  for (const [kind, descriptor] of descriptors) {
    const provider = providerId(d, kind as 'tcp' | 'udp')!;
    for (let i = 0; i < 6; i++) flows.push({ srcref: srcref++, provider, descriptor });
  }
  const update = (f: (typeof flows)[number], c: Counts): Message => ({ ...base, kind: 'srcUpdate', srcref: f.srcref, eventFlags: 0n, provider: f.provider, counts: c, descriptor: f.descriptor });
  rec(flows.map((f) => ({ ...base, kind: 'srcAdded', srcref: f.srcref, provider: f.provider }) as Message));
  rec(flows.map((f, i) => update(f, counts(1000 * i, 500 * i, 0))));
  for (let step = 1; step <= 8; step++) {
    const big = step * 3_000_000_000; // past 2^31 from the first step, past 2^32 from the second
    rec(flows.map((f, i) => (step % 3 === 0 ? update(f, counts(big - 2000 + i, big / 3, 0)) : update(f, counts(big + i * 7, big / 2 + 1, i % 2 === 0 ? 0 : 33 + i)))));
    rec(flows.map((f, i) => ({ ...base, kind: 'srcCounts', srcref: f.srcref, eventFlags: 0n, counts: counts(big + 1e9 + i, big / 2 + 5, 40 + i) }) as Message));
    rec(flows.map((f, i) => update(f, counts(big + 1e9 + i, big / 2 + 5, 40 + i)))); // idle: same counts
  }
  rec(flows.map((f) => ({ ...base, kind: 'srcRemoved', srcref: f.srcref }) as Message));
  return records;
}

export interface CensusResult {
  splits: Record<string, number>;
  groups: Record<string, number>;
  descriptorsSeen: string[];
  bigCounters: number;
  zeroRtt: number;
  fractionalRtt: number;
  fractionalRates: number;
  markedEvents: number;
}

/** Run every path, writing a bench recording to `file`. Needs `node --allow-natives-syntax`. */
export async function runCensus(file: string): Promise<CensusResult> {
  // A SyntaxError without --allow-natives-syntax: the census cannot run silently without it.
  sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
  const census = new Census();
  const descriptors = new Map<string, Descriptor>();
  for (const scenario of ['browser-burst', 'udp-heavy', 'server']) for (const [k, v] of await simulated(census, scenario)) descriptors.set(k, v);
  const d = dialectFor('10002.1.13');
  writeLibntstatRecording(file, d, 3000);
  await replay(census, libntstatRecords(file), d, 'replay', new InitialPhaseTracker(d));
  await replay(census, bigSession(d, descriptors), d, 'big counters');
  // The simulated worlds again, after the big counters: the same classes as before.
  await simulated(census, 'browser-burst');
  census.final();
  return {
    splits: Object.fromEntries(census.splits),
    groups: Object.fromEntries(census.groups),
    descriptorsSeen: [...descriptors.keys()].sort(),
    bigCounters: census.bigCounters,
    zeroRtt: census.zeroRtt,
    fractionalRtt: census.fractionalRtt,
    fractionalRates: census.fractionalRates,
    markedEvents: census.markedEvents,
  };
}
