/**
 * The real NetworkStatisticsClient against a hostile kernel: a scripted KernelEndpoint
 * (helpers/hostile.ts ScriptedKernel) answers the client's requests with whatever fast-check
 * generates — valid, aggregated, mutated and random records, truncated records, unknown types,
 * SRC_REMOVED for unknown sources, duplicate SRC_ADDED, srcref reuse, 64 KiB+ records, wrong
 * contexts, ERROR with any errno, CONTINUATION chunks, silence — and, in a second target, a
 * firehose of hostile records between sweeps.
 * Invariants per case: nothing thrown but NtstatError with a known code (no uncaught exception
 * either); connect(), sweep() and stop() settle within a deadline; the client never sends a
 * malformed request; its table holds no srcref the input did not add (TableOracle), with the
 * pid/process of the last descriptor; event order stays legal; stop() closes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NetworkStatisticsClient, type DropInfo } from '../src/client/client.js';
import { NtstatError } from '../src/errors.js';
import { HeaderFlag, dialectFor, encodeMessage, layoutFamilies, srcrefAll, type Dialect, type Message } from '../src/protocol/index.js';
import type { Stream } from '../src/model/stream.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { settle } from './helpers/client-sim.js';
import {
  FUZZ_SEED,
  KNOWN_CODES,
  MSG_KINDS,
  MUT_OPS,
  ScriptedKernel,
  TableOracle,
  aggregateRecord,
  buildMessage,
  fuzzParams,
  hex,
  mutate,
  regressionVectors,
  simulatorCorpus,
  templatesOf,
  unhex,
  withDeadline,
  type Corpus,
  type MutOp,
  type Templates,
} from './helpers/hostile.js';

const FAMILIES = layoutFamilies();
const corpora: Corpus[] = FAMILIES.map((d) => simulatorCorpus(d.xnu, 120));
const templates: Templates[] = corpora.map(templatesOf);
let datagramsFed = 0;
let clientCases = 0;

// ---------------------------------------------------------------------------------------------
// A case: how the scripted kernel answers each request

interface RecSpec {
  kind: number; // index into MSG_KINDS, or >= MSG_KINDS.length: corpus record / random bytes / huge
  ref: number;
  flags: number;
  ctx: number;
  agg: boolean;
  pick: number;
  ops: MutOp[];
  trunc: number; // 0: intact; else cut to trunc % len and flagged truncated
}

interface Chunk {
  recs: RecSpec[];
  end: number;
  endPick: number;
  after: boolean; // records after the completion instead of before
}

interface ClientCase {
  fam: number;
  subscribe: number[];
  chunks: Chunk[];
  providers: number;
}

const REFS = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 0n, -1n, 0x1_0000_0001n, 2n ** 53n + 1n, 0xffff_fffen];
const FLAG_SETS = [0, 0, 0, HeaderFlag.CLOSING, HeaderFlag.CLOSED_AFTER_DROP, HeaderFlag.CONTINUATION, HeaderFlag.CLOSING | HeaderFlag.CLOSED_AFTER_DROP, 0xffff];
const EXTRA_KINDS = 4; // corpus record, random bytes, 70 KB record, hdr.length 0xffff

const recArb: fc.Arbitrary<RecSpec> = fc.record({
  kind: fc.nat(MSG_KINDS.length + EXTRA_KINDS - 1),
  ref: fc.nat(REFS.length - 1),
  flags: fc.nat(FLAG_SETS.length - 1),
  ctx: fc.nat(5),
  agg: fc.boolean(),
  pick: fc.nat(),
  ops: fc.oneof({ weight: 4, arbitrary: fc.constant([] as MutOp[]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(MUT_OPS - 1), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }) }),
  trunc: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat() }),
});

// End of a chunk: 0 SUCCESS, 1 SUCCESS|CONTINUATION, 2 ERROR(errno), 3 silence, 4 SUCCESS with a
// wrong context, 5 SUCCESS twice, 6 ERROR with echo, 7 SUCCESS a little later.
const END_WEIGHTS = [6, 4, 3, 1, 1, 1, 1, 1];
const endArb = fc.oneof(...END_WEIGHTS.map((weight, i) => ({ weight, arbitrary: fc.constant(i) })));

const caseArb: fc.Arbitrary<ClientCase> = fc.record({
  fam: fc.nat(FAMILIES.length - 1),
  subscribe: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }), { maxLength: 4 }),
  chunks: fc.array(fc.record({ recs: fc.array(recArb, { maxLength: 10 }), end: endArb, endPick: fc.nat(), after: fc.boolean() }), { maxLength: 6 }),
  providers: fc.nat(3),
});

const ERRNOS = [55, 55, 12, 35, 22, 2, 1, 0, 45, 0xffff_ffff];
const PROVIDER_SETS = [['tcp', 'udp'], ['tcp'], ['tcp', 'udp', 'route'], ['udp', 'quic', 'conn']] as const;

function recordOf(d: Dialect, c: Corpus, t: Templates, r: RecSpec, pollContext: bigint): Uint8Array {
  const ctx = [0n, pollContext, pollContext, 1n, 0xffff_ffff_ffff_ffffn, pollContext + 1n][r.ctx];
  const ref = REFS[r.ref] === -1n ? srcrefAll(d) : REFS[r.ref];
  const k = r.kind;
  let b: Uint8Array;
  if (k < MSG_KINDS.length) b = buildMessage(d, t, MSG_KINDS[k], ref, ctx, FLAG_SETS[r.flags], r.pick);
  else if (k === MSG_KINDS.length) b = c.records[r.pick % c.records.length];
  else if (k === MSG_KINDS.length + 1) b = mutate(new Uint8Array(16 + (r.pick % 200)), [[14, r.pick, r.pick >>> 3], [14, r.pick >>> 5, r.pick >>> 7]], d.hasLength);
  else if (k === MSG_KINDS.length + 2) b = new Uint8Array(70_000 + (r.pick % 1000)); // larger than the 64 KiB reader buffer
  else {
    b = buildMessage(d, t, 'srcDesc', ref, ctx, 0, r.pick);
    if (d.hasLength) new DataView(b.buffer).setUint16(12, 0xffff, true);
  }
  return r.ops.length ? mutate(b, r.ops, d.hasLength, c.small) : b;
}

interface Outcome {
  client: NetworkStatisticsClient;
  peer: ScriptedKernel;
  problems: string[];
  events: { type: string; id: string }[];
}

/** Run one scripted case end to end and collect every invariant violation. */
async function runCase(cs: ClientCase): Promise<Outcome> {
  clientCases++;
  const d = FAMILIES[cs.fam];
  const c = corpora[cs.fam];
  const t = templates[cs.fam];
  const peer = new ScriptedKernel(d);
  const problems: string[] = [];
  let sub = 0;
  let chunkIdx = 0;
  const push = (data: Uint8Array, trunc: number) => {
    datagramsFed++;
    if (trunc && data.length) peer.push(data.subarray(0, trunc % data.length), true);
    else peer.push(data);
  };
  peer.respond = (req, k) => {
    if (req.kind === 'addAllSrcs') {
      const a = cs.subscribe[sub++] ?? 0;
      if (a === 0) k.push(encodeMessage(d, { kind: 'success', context: req.context, flags: 0 }));
      else if (a <= 3) k.push(encodeMessage(d, { kind: 'error', context: req.context, flags: 0, errno: [2, 1, 45][a - 1] }));
      else if (a === 4) return; // silence: the client's timeout
      else if (a === 5) {
        k.push(new Uint8Array(3));
        k.push(encodeMessage(d, { kind: 'success', context: req.context, flags: 0 }));
      } else k.push(encodeMessage(d, { kind: 'error', context: req.context, flags: 0, errno: 55 }));
      return;
    }
    if (req.kind !== 'getUpdate' && req.kind !== 'querySrc' && req.kind !== 'getSrcDesc') return;
    const ch = cs.chunks[chunkIdx++];
    if (!ch) {
      k.push(encodeMessage(d, { kind: 'success', context: req.context, flags: 0 }));
      return;
    }
    const recs: Uint8Array[] = [];
    let group: Uint8Array[] = [];
    let groupTrunc = 0;
    const flush = () => {
      if (group.length) recs.push(aggregateRecord(d, group));
      if (groupTrunc && recs.length) recs[recs.length - 1] = recs[recs.length - 1].subarray(0, Math.max(0, groupTrunc % recs[recs.length - 1].length));
      group = [];
      groupTrunc = 0;
    };
    for (const r of ch.recs) {
      const b = recordOf(d, c, t, r, req.context);
      if (!r.agg || !d.hasLength || r.kind >= MSG_KINDS.length) flush();
      group.push(b);
      if (r.trunc) groupTrunc = r.trunc;
    }
    flush();
    const flags = d.hasLength ? 0 : 0;
    const ends: Uint8Array[] = [];
    const cont = d.hasLength ? HeaderFlag.CONTINUATION : 0;
    switch (ch.end) {
      case 0:
        ends.push(encodeMessage(d, { kind: 'success', context: req.context, flags }));
        break;
      case 1:
        ends.push(encodeMessage(d, { kind: 'success', context: req.context, flags: cont }));
        break;
      case 2:
        ends.push(encodeMessage(d, { kind: 'error', context: req.context, flags: 0, errno: ERRNOS[ch.endPick % ERRNOS.length] }));
        break;
      case 3:
        break;
      case 4:
        ends.push(encodeMessage(d, { kind: 'success', context: req.context + 1n + BigInt(ch.endPick % 3), flags }));
        break;
      case 5:
        ends.push(encodeMessage(d, { kind: 'success', context: req.context, flags }), encodeMessage(d, { kind: 'success', context: req.context, flags }));
        break;
      case 6: {
        const echo = d.hasLength ? encodeMessage(d, { kind: req.kind, context: req.context, flags: 0, srcref: srcrefAll(d) } as Message) : undefined;
        ends.push(encodeMessage(d, { kind: 'error', context: req.context, flags: 0, errno: ERRNOS[ch.endPick % ERRNOS.length], ...(echo ? { request: echo } : {}) }));
        break;
      }
      case 7:
        setTimeout(() => {
          datagramsFed++;
          k.push(encodeMessage(d, { kind: 'success', context: req.context, flags }));
        }, 1);
        break;
    }
    if (ch.after) {
      for (const e of ends) push(e, 0);
      for (const r of recs) push(r, 0);
    } else {
      for (const r of recs) push(r, 0);
      for (const e of ends) push(e, 0);
    }
  };

  let now = 1_000;
  const client = new NetworkStatisticsClient({
    transport: new MemoryTransport(peer),
    dialect: d,
    interval: 0,
    providers: [...PROVIDER_SETS[cs.providers]],
    clock: () => (now += 1),
    requestTimeout: 5,
  });
  // The oracle follows the records as the client's reader takes them, and the client's removals.
  const oracle = new TableOracle(d);
  peer.onDeliver = (r) => oracle.feed(r.data);
  client.on('removed', (s: Stream) => oracle.removedByClient(s.srcref));
  const events: { type: string; id: string }[] = [];
  const errors: unknown[] = [];
  const drops: DropInfo[] = [];
  client.on('error', (e) => errors.push(e));
  client.on('drop', (x: DropInfo) => drops.push(x));
  for (const type of ['added', 'update', 'removed'] as const) client.on(type, (s: Stream) => events.push({ type, id: s.id }));

  const typed = (e: unknown, what: string) => {
    if (e instanceof Error && e.message.startsWith('HANG')) problems.push(e.message);
    else if (!(e instanceof NtstatError)) problems.push(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} is not an NtstatError`);
    else if (!KNOWN_CODES.has(e.code)) problems.push(`${what}: unknown code ${e.code}`);
  };
  try {
    await withDeadline(client.connect(), 3000, 'connect()');
  } catch (e) {
    typed(e, 'connect()');
  }
  for (let i = 0; i < 2 && client.state === 'running'; i++) {
    try {
      await withDeadline(client.sweep(), 5000, `sweep() #${i + 1}`);
    } catch (e) {
      typed(e, 'sweep()');
    }
  }
  await settle(2);
  problems.push(...oracle.check(client.snapshot()));
  problems.push(...peer.violations);
  if (client.getNumDrops() !== Object.values(client.dropCounts()).reduce((a, b) => a + b, 0)) problems.push('getNumDrops() differs from the sum of dropCounts()');
  if (drops.length && drops[drops.length - 1].total !== client.getNumDrops()) problems.push('the last drop event total differs from getNumDrops()');
  // Event order per srcref id: added first; after removed only a new added (a source proven alive
  // by a later report, or a reused 32-bit srcref).
  const seq = new Map<string, string[]>();
  for (const ev of events) {
    let l = seq.get(ev.id);
    if (!l) seq.set(ev.id, (l = []));
    l.push(ev.type);
  }
  for (const [id, l] of seq) {
    let live = false;
    for (const ty of l) {
      if (ty === 'added') {
        if (live) problems.push(`${id}: added twice without removed (${l.join(',')})`);
        live = true;
      } else if (!live) problems.push(`${id}: ${ty} before added (${l.join(',')})`);
      if (ty === 'removed') live = false;
    }
  }
  client.stop();
  try {
    await withDeadline(client.closed(), 1000, 'closed() after stop()');
  } catch (e) {
    typed(e, 'stop()');
  }
  if (client.state !== 'closed') problems.push(`state ${client.state} after stop()`);
  for (const e of errors) typed(e, "'error' event");
  return { client, peer, problems, events };
}

/** Uncaught exceptions and unhandled rejections during a case are failures of that case. */
async function guarded<T>(fn: () => Promise<T>): Promise<{ value: T; uncaught: unknown[] }> {
  const uncaught: unknown[] = [];
  const onErr = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onErr);
  process.on('unhandledRejection', onErr);
  try {
    return { value: await fn(), uncaught };
  } finally {
    process.off('uncaughtException', onErr);
    process.off('unhandledRejection', onErr);
  }
}

function describeCase(cs: ClientCase, o: Outcome): string {
  // Records are shown whole: an aggregated batch often matters beyond its first message.
  return `${o.problems.join('\n')}\nfamily ${FAMILIES[cs.fam].family}; delivered (T = truncated):\n${o.peer.delivered.map((r) => `${r.truncated ? 'T ' : ''}${hex(r.data)}`).join('\n')}`;
}

describe('fuzz: the client against a scripted hostile kernel', () => {
  test('random request/answer scripts, every layout family', { timeout: 180_000 }, async (t) => {
    const t0 = performance.now();
    const before = datagramsFed;
    await fc.assert(
      fc.asyncProperty(caseArb, async (cs) => {
        const { value: o, uncaught } = await guarded(() => runCase(cs));
        if (uncaught.length) o.problems.push(...uncaught.map((e) => `uncaught: ${e instanceof Error ? e.stack : String(e)}`));
        if (o.problems.length) throw new Error(describeCase(cs, o));
      }),
      fuzzParams(1200, 21),
    );
    t.diagnostic(`${clientCases} cases, ${datagramsFed - before} datagrams in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${FUZZ_SEED + 21})`);
  });

  test('a firehose of hostile records between sweeps (mutated real records, built lies, random bytes)', { timeout: 120_000 }, async (t) => {
    const t0 = performance.now();
    const before = datagramsFed;
    // A batch: up to 30 generated record specs, cycled `repeat` times with rotating srcrefs and
    // templates (volume without losing shrinkability).
    const batchArb = fc.record({ specs: fc.array(recArb, { minLength: 1, maxLength: 30 }), repeat: fc.nat(60) });
    await fc.assert(
      fc.asyncProperty(fc.nat(FAMILIES.length - 1), fc.array(batchArb, { minLength: 1, maxLength: 3 }), async (fam, batches) => {
        const d = FAMILIES[fam];
        const peer = new ScriptedKernel(d);
        peer.respond = (req, k) => {
          if (req.kind === 'addAllSrcs' || req.kind === 'getUpdate' || req.kind === 'querySrc' || req.kind === 'getSrcDesc') k.push(encodeMessage(d, { kind: 'success', context: req.context, flags: 0 }));
        };
        const client = new NetworkStatisticsClient({ transport: new MemoryTransport(peer), dialect: d, interval: 0, providers: ['tcp', 'udp'], clock: () => 5, requestTimeout: 200 });
        const oracle = new TableOracle(d);
        peer.onDeliver = (r) => oracle.feed(r.data);
        client.on('removed', (s: Stream) => oracle.removedByClient(s.srcref));
        const errors: unknown[] = [];
        client.on('error', (e) => errors.push(e));
        const { uncaught } = await guarded(async () => {
          await withDeadline(client.connect(), 3000, 'connect()');
          for (const batch of batches) {
            const n = batch.specs.length * (1 + batch.repeat);
            for (let i = 0; i < n; i++) {
              const spec = batch.specs[i % batch.specs.length];
              const r = i < batch.specs.length ? spec : { ...spec, ref: (spec.ref + i * 7) % REFS.length, pick: spec.pick + i };
              const b = recordOf(d, corpora[fam], templates[fam], r, 0n);
              datagramsFed++;
              if (r.trunc && b.length) peer.push(b.subarray(0, r.trunc % b.length), true);
              else peer.push(b);
            }
            await settle(3);
            await withDeadline(client.sweep(), 5000, 'sweep()');
          }
        });
        const problems = uncaught.map((e) => `uncaught: ${e instanceof Error ? e.stack : String(e)}`);
        problems.push(...oracle.check(client.snapshot()));
        problems.push(...peer.violations);
        for (const e of errors) if (!(e instanceof NtstatError) || !KNOWN_CODES.has(e.code)) problems.push(`'error' event: ${String(e)}`);
        client.stop();
        await withDeadline(client.closed(), 1000, 'closed()');
        if (problems.length) throw new Error(`${problems.join('\n')}\nfamily ${d.family}`);
      }),
      fuzzParams(420, 22),
    );
    t.diagnostic(`${datagramsFed - before} datagrams in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${FUZZ_SEED + 22})`);
  });
});

describe('client regression vectors (test/regressions)', () => {
  // A client vector scripts the kernel per poll request: `polls[i]` are the records (hex) queued
  // before the SUCCESS that ends the i-th poll request; later polls get a bare SUCCESS. The
  // client runs `sweeps` sweeps; the oracle checks the table, and `live`/`absent` name srcrefs
  // that must (not) be in it at the end.
  for (const { file, v } of regressionVectors('client')) {
    test(`${file}: ${v.note ?? v.xnu}`, v.todo ? { todo: v.todo } : {}, async () => {
      const d = dialectFor(v.xnu);
      const polls = v.polls ?? [v.records ?? (v.hex ? [v.hex] : [])];
      const peer = new ScriptedKernel(d);
      let n = 0;
      peer.respond = (req, k) => {
        if (req.kind === 'addAllSrcs') k.push(encodeMessage(d, { kind: 'success', context: req.context, flags: 0 }));
        else if (req.kind === 'getUpdate' || req.kind === 'querySrc' || req.kind === 'getSrcDesc') {
          for (const r of polls[n++] ?? []) k.push(unhex(r));
          k.push(encodeMessage(d, { kind: 'success', context: req.context, flags: 0 }));
        }
      };
      const client = new NetworkStatisticsClient({ transport: new MemoryTransport(peer), dialect: d, interval: 0, clock: () => 1, requestTimeout: 100 });
      const oracle = new TableOracle(d);
      peer.onDeliver = (r) => oracle.feed(r.data);
      client.on('removed', (s: Stream) => oracle.removedByClient(s.srcref));
      const errors: unknown[] = [];
      client.on('error', (e) => errors.push(e));
      try {
        await withDeadline(client.connect(), 3000, 'connect()');
        for (let i = 0; i < (v.sweeps ?? polls.length + 2); i++) await withDeadline(client.sweep(), 3000, 'sweep()');
        await settle();
        assert.deepEqual(oracle.check(client.snapshot()), []);
        for (const e of errors) assert.ok(e instanceof NtstatError && KNOWN_CODES.has(e.code), String(e));
        assert.deepEqual(peer.violations, []);
        const ids = new Set(client.snapshot().map((s) => s.id));
        for (const id of v.live ?? []) assert.ok(ids.has(id), `srcref ${id} is live in the table (table: ${[...ids].join(',')})`);
        for (const id of v.absent ?? []) assert.ok(!ids.has(id), `srcref ${id} is not in the table`);
        for (const [id, pid] of Object.entries(v.pids ?? {})) assert.equal(client.stream(id)?.pid, pid, `srcref ${id} pid`);
      } finally {
        client.stop();
      }
    });
  }
});

test('client fuzz summary', (t) => {
  t.diagnostic(`client: ${clientCases} scripted cases, ${datagramsFed} hostile datagrams fed, seed ${FUZZ_SEED}`);
});
