/**
 * Capture readers under fuzz: ntcap (parseNtcap, openNtcapFile, NtcapWriter) and libntstat
 * recordings (parseLibntstat, readLibntstatFile), built from real simulator records and then
 * mutated (generic byte mutations plus structure-aware ones: record lengths up to 4 GiB, header
 * length, marker, direction, version, truncation anywhere). Every yielded record then goes
 * through the replay pipeline (decodeDatagram + SourceTable) the CLI uses.
 * Invariants: only NtstatError (CAPTURE from the readers; MALFORMED/RANGE/UNKNOWN_VERSION
 * downstream), bounded time, no record larger than the bytes left in the file, the sum of
 * records no larger than the file, torn tails reported inside the file, no fd leaked, and a
 * 4 GiB length field never allocates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { NtstatError } from '../src/errors.js';
import { allDialects, dialectFor, type Dialect } from '../src/protocol/index.js';
import type { ReplayRecord } from '../src/transport/replay.js';
import { decodeDatagram } from '../src/protocol/decode.js';
import { SourceTable } from '../src/client/source-table.js';

/** What the passive client does with each replayed record: decode, then the source table. */
function* replayEvents(records: ReplayRecord[], d: Dialect) {
  const table = new SourceTable(d);
  for (const r of records) for (const m of decodeDatagram(r.data, d, { unknownTypes: 'skip' })) yield* table.apply(m, r.time);
}
import { Direction, NTCAP_MAX_RECORD, NtcapWriter, encodeNtcapPreamble, encodeNtcapRecord, openNtcapFile, parseNtcap, type NtcapReader, type NtcapRecord } from '../src/transport/ntcap.js';
import { encodeLibntstatRecord, parseLibntstat, readLibntstatFile, type LibntstatRecord } from '../src/transport/libntstat-reader.js';
import { FUZZ_SEED, InvariantError, concat, fuzzParams, mutate, MUT_OPS, regressionVectors, simulatorCorpus, unhex, withoutStacks, type MutOp } from './helpers/hostile.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-fuzz-readers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FAMILIES = ['2782.1.97', '3247.1.106', '4570.1.46', '8792.41.9', '11215.61.5'];
const corpora = FAMILIES.map((x) => simulatorCorpus(x));
const counts = { ntcap: 0, ntcapFile: 0, libntstat: 0, libntstatFile: 0, writer: 0 };
let slowest = 0;

const opArb: fc.Arbitrary<MutOp> = fc.tuple(fc.nat(MUT_OPS + 7), fc.nat(), fc.nat());
const opsArb = fc.array(opArb, { minLength: 1, maxLength: 4 });

/** A capture of `n` small real records of corpus `c`, alternating directions like a recording. */
function ntcapOf(ci: number, pick: number, n: number): Uint8Array {
  const c = corpora[ci];
  const parts: Uint8Array[] = [encodeNtcapPreamble({ xnu: c.dialect.xnu, dialect: c.dialect.family, simulated: true })];
  for (let i = 0; i < n; i++) {
    const toKernel = i % 4 === 0;
    const data = toKernel ? c.requests[(pick + i) % c.requests.length] : c.small[(pick + i) % c.small.length];
    parts.push(encodeNtcapRecord(toKernel ? Direction.ToKernel : Direction.FromKernel, BigInt(i) * 1_000_000n, data, i === 3));
  }
  return concat(...parts);
}

function libntstatOf(ci: number, pick: number, n: number): Uint8Array {
  const c = corpora[ci];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) parts.push(encodeLibntstatRecord(1_700_000_000 + i, i % 4 === 0 ? c.requests[(pick + i) % c.requests.length] : c.small[(pick + i) % c.small.length]));
  return concat(...parts);
}

const LEN32 = (left: number) => [0, 1, 15, 16, left - 1, left, left + 1, 0xfffff, 0x100000, 0x100001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Structure-aware mutations on top of the generic ones (ops >= MUT_OPS). */
function mutateFile(src: Uint8Array, ops: readonly MutOp[], kind: 'ntcap' | 'libntstat'): Uint8Array {
  let b: Uint8Array = src;
  for (const op of ops) {
    if (op[0] < MUT_OPS) {
      b = mutate(b, [op], false);
      continue;
    }
    b = b.slice();
    const dv = new DataView(b.buffer);
    const heads: number[] = [];
    if (kind === 'ntcap') {
      if (b.length < 12) continue;
      const hlen = dv.getUint32(8, true);
      for (let at = 12 + hlen; at + 16 <= b.length && heads.length < 64; at += 16 + dv.getUint32(at + 4, true)) heads.push(at);
    } else {
      for (let at = 0; at + 8 <= b.length && heads.length < 64; at += 8 + dv.getUint32(at + 4, true)) heads.push(at);
    }
    const [, a, c] = op;
    const sub = (op[0] - MUT_OPS) % 8;
    if (sub <= 3 && heads.length) {
      // a record's length field
      const at = heads[a % heads.length];
      const left = b.length - at - (kind === 'ntcap' ? 16 : 8);
      dv.setUint32(at + 4, LEN32(left)[c % 14] >>> 0, true);
    } else if (sub === 4 && kind === 'ntcap' && b.length >= 12) {
      dv.setUint32(8, LEN32(b.length - 12)[c % 14] >>> 0, true); // header length
    } else if (sub === 5 && heads.length) {
      const at = heads[a % heads.length];
      if (kind === 'ntcap') b[at + (c & 1)] = c >>> 1; // marker or direction
      else dv.setUint32(at, c, true); // time
    } else if (sub === 6 && kind === 'ntcap' && b.length >= 8) {
      b[6 + (c & 1)] = a & 0xff; // version bytes
    } else if (heads.length) {
      b = b.slice(0, heads[a % heads.length] + (c % 24)); // cut at/near a record boundary
    }
  }
  return b;
}

const READER_CODES = new Set(['ERR_NTSTAT_CAPTURE']);
const DOWNSTREAM_CODES = new Set(['ERR_NTSTAT_CAPTURE', 'ERR_NTSTAT_MALFORMED', 'ERR_NTSTAT_RANGE', 'ERR_NTSTAT_UNKNOWN_VERSION']);

function expectTyped(e: unknown, allowed: ReadonlySet<string>, input: Uint8Array, what: string): void {
  if (!(e instanceof NtstatError)) throw new InvariantError(`${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, input);
  if (!allowed.has(e.code)) throw new InvariantError(`${what} threw ${e.code}: ${e.message}`, input);
  if (e.offset !== undefined && (e.offset < 0 || e.offset > input.length)) throw new InvariantError(`${what}: offset ${e.offset} outside ${input.length} bytes`, input);
}

/** dialectFor is ~170 µs a call (it is meant to run once per file): cache it per string. */
const dialects = new Map<string, Dialect | NtstatError>();
function dialectOfHeader(xnu: string): Dialect | NtstatError {
  let d = dialects.get(xnu);
  if (!d) {
    try {
      d = dialectFor(xnu);
    } catch (e) {
      if (!(e instanceof NtstatError)) throw new InvariantError(`dialectFor(${JSON.stringify(xnu)}) threw ${String(e)}`);
      d = e;
    }
    if (dialects.size < 10_000) dialects.set(xnu, d);
  }
  return d;
}

/** Replay what a reader yielded through decode + SourceTable (the CLI's replay path). */
function replay(records: ReplayRecord[], xnu: unknown, input: Uint8Array): void {
  let d = dialectOfHeader(String(xnu));
  if (d instanceof NtstatError) {
    expectTyped(d, DOWNSTREAM_CODES, input, 'dialectFor');
    d = allDialects()[records.length % allDialects().length];
  }
  try {
    for (const ev of replayEvents(records, d)) void ev;
  } catch (e) {
    expectTyped(e, DOWNSTREAM_CODES, input, 'replay');
  }
}

/** Read a whole ntcap reader under the invariants; returns the records. */
function drainNtcap(open: () => NtcapReader, input: Uint8Array, size: number): NtcapRecord[] {
  const t0 = performance.now();
  let r: NtcapReader;
  try {
    r = open();
  } catch (e) {
    expectTyped(e, READER_CODES, input, 'open');
    return [];
  }
  const out: NtcapRecord[] = [];
  let total = 0;
  let last = -1;
  try {
    for (const rec of r.records()) {
      if (rec.data.byteLength > size - rec.offset - 16) throw new InvariantError(`record at ${rec.offset} holds ${rec.data.byteLength} bytes, the file has ${size - rec.offset - 16} left`, input);
      if (rec.offset <= last) throw new InvariantError('record offsets not increasing', input);
      last = rec.offset;
      total += rec.data.byteLength;
      out.push(rec);
    }
  } catch (e) {
    if (e instanceof InvariantError) throw e;
    expectTyped(e, READER_CODES, input, 'records()');
  } finally {
    r.close();
  }
  if (total > size) throw new InvariantError(`records hold ${total} bytes of a ${size}-byte file`, input);
  if (r.tornTail && (r.tornTail.offset < 0 || r.tornTail.offset + r.tornTail.bytes !== size)) throw new InvariantError(`torn tail ${JSON.stringify(r.tornTail)} in ${size} bytes`, input);
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  // A hang detector with a wide margin (speed is for npm run bench).
  if (ms > 5000 + size * 0.2) throw new InvariantError(`reading ${size} bytes took ${ms.toFixed(1)} ms`, input);
  replay(
    out.filter((x) => x.direction === Direction.FromKernel || x.direction === Direction.ToKernel).map((x) => ({ time: Number(x.timeNs / 1_000_000n), data: x.data, offset: x.offset })),
    r.header.xnu,
    input,
  );
  return out;
}

function drainLibntstat(gen: () => Generator<LibntstatRecord>, input: Uint8Array, size: number, xnu: string): LibntstatRecord[] {
  const t0 = performance.now();
  const out: LibntstatRecord[] = [];
  let total = 0;
  try {
    for (const rec of gen()) {
      if (rec.data.byteLength > size - rec.offset - 8) throw new InvariantError(`record at ${rec.offset} holds ${rec.data.byteLength} bytes, the file has ${size - rec.offset - 8} left`, input);
      total += rec.data.byteLength;
      out.push(rec);
    }
  } catch (e) {
    if (e instanceof InvariantError) throw e;
    expectTyped(e, READER_CODES, input, 'parseLibntstat');
  }
  if (total > size) throw new InvariantError(`records hold ${total} bytes of a ${size}-byte file`, input);
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  // A hang detector with a wide margin (speed is for npm run bench).
  if (ms > 5000 + size * 0.2) throw new InvariantError(`reading ${size} bytes took ${ms.toFixed(1)} ms`, input);
  replay(
    out.map((x) => ({ time: x.time * 1000, data: x.data, offset: x.offset })),
    xnu,
    input,
  );
  return out;
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

describe('fuzz: ntcap reader', () => {
  test('in-memory captures of real records, generic + structure-aware mutations', { timeout: 60_000 }, (t) => {
    const t0 = performance.now();
    withoutStacks(() =>
      fc.assert(
        fc.property(fc.nat(corpora.length - 1), fc.nat(), fc.integer({ min: 0, max: 6 }), opsArb, (ci, pick, n, ops) => {
          counts.ntcap++;
          const b = mutateFile(ntcapOf(ci, pick, n), ops, 'ntcap');
          drainNtcap(() => parseNtcap(b), b, b.length);
        }),
        fuzzParams(130_000, 11),
      ),
    );
    t.diagnostic(`${counts.ntcap} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${FUZZ_SEED + 11})`);
  });

  test('every cut of a valid capture: a prefix of the records, a torn tail exactly when cut inside one', () => {
    for (let ci = 0; ci < corpora.length; ci++) {
      const full = ntcapOf(ci, 3, 8);
      const whole = [...parseNtcap(full).records()];
      const hlen = new DataView(full.buffer).getUint32(8, true);
      const ends = new Set(whole.map((r) => r.offset + 16 + r.data.length));
      ends.add(12 + hlen);
      withoutStacks(() => {
        for (let cut = 12 + hlen; cut <= full.length; cut++) {
          counts.ntcap++;
          const b = full.subarray(0, cut);
          const r = parseNtcap(b);
          const got = [...r.records()];
          assert.deepEqual(
            got.map((g) => g.offset),
            whole.filter((w) => w.offset + 16 + w.data.length <= cut).map((w) => w.offset),
          );
          assert.equal(r.tornTail === undefined, ends.has(cut), `cut ${cut}`);
        }
      });
    }
  });

  test('files: mutated captures through openNtcapFile; no fd leaks', { timeout: 60_000 }, (t) => {
    const fds = openFds();
    let i = 0;
    withoutStacks(() =>
      fc.assert(
        fc.property(fc.nat(corpora.length - 1), fc.nat(), fc.integer({ min: 0, max: 5 }), opsArb, (ci, pick, n, ops) => {
          counts.ntcapFile++;
          const b = mutateFile(ntcapOf(ci, pick, n), ops, 'ntcap');
          const file = join(dir, `m${i++ % 8}.ntcap`);
          writeFileSync(file, b);
          drainNtcap(() => openNtcapFile(file), b, b.length);
        }),
        fuzzParams(400, 12),
      ),
    );
    assert.equal(openFds(), fds, 'every fd the reader opened was closed');
    t.diagnostic(`${counts.ntcapFile} files`);
  });

  test('NtcapWriter → openNtcapFile round trip for arbitrary records (any flush size)', { timeout: 60_000 }, () => {
    let i = 0;
    const recArb = fc.record({ dir: fc.constantFrom(Direction.FromKernel, Direction.ToKernel), time: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), trunc: fc.boolean(), data: fc.uint8Array({ maxLength: 300 }) });
    fc.assert(
      fc.property(fc.array(recArb, { maxLength: 12 }), fc.integer({ min: 1, max: 2048 }), fc.string({ maxLength: 40 }), (recs, flush, xnu) => {
        counts.writer++;
        const file = join(dir, `w${i++}.ntcap`);
        const w = new NtcapWriter(file, { xnu, note: '\u0000\u001b[2J\u202e' }, flush);
        for (const r of recs) w.write(r.dir, r.data, r.trunc, r.time);
        w.close();
        const rd = openNtcapFile(file);
        try {
          assert.equal(rd.header.xnu, xnu);
          const got = [...rd.records()];
          assert.equal(got.length, recs.length);
          got.forEach((g, k) => {
            assert.deepEqual(g.data, recs[k].data);
            assert.equal(g.direction, recs[k].dir);
            assert.equal(g.timeNs, recs[k].time);
            assert.equal(g.truncated, recs[k].trunc);
          });
          assert.equal(rd.tornTail, undefined);
        } finally {
          rd.close();
          rmSync(file);
        }
      }),
      fuzzParams(200, 13),
    );
  });
});

describe('fuzz: libntstat reader', () => {
  test('in-memory recordings of real records, generic + structure-aware mutations', { timeout: 60_000 }, (t) => {
    const t0 = performance.now();
    withoutStacks(() =>
      fc.assert(
        fc.property(fc.nat(corpora.length - 1), fc.nat(), fc.integer({ min: 0, max: 6 }), opsArb, (ci, pick, n, ops) => {
          counts.libntstat++;
          const b = mutateFile(libntstatOf(ci, pick, n), ops, 'libntstat');
          drainLibntstat(() => parseLibntstat(b), b, b.length, corpora[ci].dialect.xnu);
        }),
        fuzzParams(130_000, 14),
      ),
    );
    t.diagnostic(`${counts.libntstat} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${FUZZ_SEED + 14})`);
  });

  test('every cut of a valid recording: the complete records, then a typed error unless cut at a boundary', () => {
    for (let ci = 0; ci < corpora.length; ci++) {
      const full = libntstatOf(ci, 5, 8);
      const whole = [...parseLibntstat(full)];
      const ends = new Set([0, ...whole.map((r) => r.offset + 8 + r.data.length)]);
      withoutStacks(() => {
        for (let cut = 0; cut <= full.length; cut++) {
          counts.libntstat++;
          const got: number[] = [];
          let err: unknown;
          try {
            for (const r of parseLibntstat(full.subarray(0, cut))) got.push(r.offset);
          } catch (e) {
            err = e;
          }
          assert.deepEqual(
            got,
            whole.filter((w) => w.offset + 8 + w.data.length <= cut).map((w) => w.offset),
          );
          if (ends.has(cut)) assert.equal(err, undefined);
          else assert.ok(err instanceof NtstatError && err.code === 'ERR_NTSTAT_CAPTURE', `cut ${cut}: ${String(err)}`);
        }
      });
    }
  });

  test('files: mutated recordings through readLibntstatFile; no fd leaks', { timeout: 60_000 }, (t) => {
    const fds = openFds();
    let i = 0;
    withoutStacks(() =>
      fc.assert(
        fc.property(fc.nat(corpora.length - 1), fc.nat(), fc.integer({ min: 0, max: 5 }), opsArb, fc.nat(8), (ci, pick, n, ops, stopAfter) => {
          counts.libntstatFile++;
          const b = mutateFile(libntstatOf(ci, pick, n), ops, 'libntstat');
          const file = join(dir, `m${i++ % 8}.bin`);
          writeFileSync(file, b);
          drainLibntstat(() => readLibntstatFile(file), b, b.length, corpora[ci].dialect.xnu);
          // A consumer that stops early (break/return) must not leak the fd either.
          let k = 0;
          try {
            for (const r of readLibntstatFile(file)) {
              void r;
              if (k++ >= stopAfter) break;
            }
          } catch (e) {
            expectTyped(e, READER_CODES, b, 'readLibntstatFile');
          }
        }),
        fuzzParams(400, 15),
      ),
    );
    assert.equal(openFds(), fds, 'every fd the reader opened was closed');
    t.diagnostic(`${counts.libntstatFile} files`);
  });
});

describe('4 GiB length fields never allocate', () => {
  const heavy = (fn: () => void): number => {
    const before = process.memoryUsage().arrayBuffers;
    fn();
    return process.memoryUsage().arrayBuffers - before;
  };

  test('ntcap: record length 0xffffffff / 0x100001, header length 0xffffffff, in memory and on disk', () => {
    const c = corpora[2];
    const good = ntcapOf(2, 0, 3);
    const hlen = new DataView(good.buffer).getUint32(8, true);
    for (const len of [0xffffffff, 0x80000000, 0x100001, 0xfffff]) {
      const b = concat(good, encodeNtcapRecord(Direction.FromKernel, 0n, c.small[0]));
      new DataView(b.buffer).setUint32(good.length + 4, len, true);
      const grew = heavy(() => {
        drainNtcap(() => parseNtcap(b), b, b.length);
        const file = join(dir, 'huge.ntcap');
        writeFileSync(file, b);
        drainNtcap(() => openNtcapFile(file), b, b.length);
      });
      assert.ok(grew < 1 << 20, `length ${len}: arrayBuffers grew by ${grew} bytes`);
      const r = parseNtcap(b);
      const got: NtcapRecord[] = [];
      let err: unknown;
      try {
        for (const x of r.records()) got.push(x);
      } catch (e) {
        err = e;
      }
      assert.equal(got.length, 3, 'the complete records before it');
      if (len > NTCAP_MAX_RECORD) assert.ok(err instanceof NtstatError && err.code === 'ERR_NTSTAT_CAPTURE' && err.offset === good.length + 4, String(err));
      else assert.equal(r.tornTail?.offset, good.length, 'a length within the limit that the file does not hold is a torn tail');
    }
    const h = good.slice();
    new DataView(h.buffer).setUint32(8, 0xffffffff, true);
    assert.throws(() => parseNtcap(h), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_CAPTURE');
    assert.ok(hlen < 1000);
  });

  test('libntstat: record length 0xffffffff, in memory and on disk', () => {
    const good = libntstatOf(2, 0, 3);
    for (const len of [0xffffffff, 0x80000000, 0x100001]) {
      const b = concat(good, encodeLibntstatRecord(1, corpora[2].small[1]));
      new DataView(b.buffer).setUint32(good.length + 4, len, true);
      const file = join(dir, 'huge.bin');
      writeFileSync(file, b);
      const grew = heavy(() => {
        drainLibntstat(() => parseLibntstat(b), b, b.length, '4570.1.46');
        drainLibntstat(() => readLibntstatFile(file), b, b.length, '4570.1.46');
      });
      assert.ok(grew < 1 << 20, `length ${len}: arrayBuffers grew by ${grew} bytes`);
      assert.throws(() => [...parseLibntstat(b)], (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_CAPTURE');
    }
  });
});

describe('reader regression vectors (test/regressions)', () => {
  for (const { file, v } of [...regressionVectors('ntcap'), ...regressionVectors('libntstat')]) {
    test(`${file}: ${v.note ?? v.target}`, v.todo ? { todo: v.todo } : {}, () => {
      const b = unhex(v.hex ?? '');
      if (v.target === 'ntcap') drainNtcap(() => parseNtcap(b), b, b.length);
      else drainLibntstat(() => parseLibntstat(b), b, b.length, v.xnu);
    });
  }
});

test('readers fuzz summary', (t) => {
  const total = counts.ntcap + counts.ntcapFile + counts.libntstat + counts.libntstatFile + counts.writer;
  t.diagnostic(`readers: ${total} generated inputs ${JSON.stringify(counts)}, slowest ${slowest.toFixed(2)} ms, seed ${FUZZ_SEED}`);
});
