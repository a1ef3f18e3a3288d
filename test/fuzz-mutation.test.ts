/**
 * Decoder fuzz on *real* kernel output: valid records the simulator queued for every published
 * header version (aggregated batches up to 4 KB, ERROR echoes, CLOSING goodbyes, SRC_REMOVED,
 * extended updates with items, sysinfo) are mutated by fast-check (bit flips, interesting
 * values in header fields, truncation, splicing, message swaps, cross-version confusion).
 * Invariants (helpers/hostile.ts checkDecode): only NtstatError MALFORMED/RANGE with an offset
 * inside the input, bounded time per case, no output larger than the input, and scanDatagram
 * agreeing with every accepted datagram. Failing inputs found are kept in test/regressions/.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { allDialects, decodeDatagram, dialectFor, scanDatagram, type Dialect } from '../src/protocol/index.js';
import { FUZZ_SEED, checkDecode, fuzzParams, hex, mutate, MUT_OPS, regressionVectors, simulatorCorpus, unhex, withoutStacks, type Corpus, type MutOp } from './helpers/hostile.js';

const DIALECTS = allDialects();
const corpora: Corpus[] = DIALECTS.map((d) => simulatorCorpus(d.xnu));
let inputs = 0;
let inputBytes = 0;
let slowest = 0;
/** Cases slower than 1 ms (GC pauses included). */
let over1ms = 0;

const opArb: fc.Arbitrary<MutOp> = fc.tuple(fc.nat(MUT_OPS - 1), fc.nat(), fc.nat());
const opsArb = (max: number) => fc.array(opArb, { minLength: 1, maxLength: max });

/** Decode under the invariants; when accepted, the header scan must agree. */
function check(bytes: Uint8Array, d: Dialect, skip: boolean): void {
  inputs++;
  inputBytes += bytes.length;
  const r = checkDecode(bytes, d, skip);
  if (r.ms > slowest) slowest = r.ms;
  if (r.ms > 1) over1ms++;
  if (r.ok && !skip) {
    // Every message decoded, none skipped: the header-only scan sees the same messages.
    const n = scanDatagram(bytes, d);
    if (n !== r.messages!.length) throw new Error(`scanDatagram counted ${n} messages, decode ${r.messages!.length}: ${hex(bytes)}`);
  }
}

test('corpus: the simulator produced valid records of every kind for every header version', () => {
  for (const c of corpora) {
    const d = c.dialect;
    assert.ok(c.records.length >= 20, `xnu-${d.xnu}: ${c.records.length} records`);
    for (const r of [...c.records, ...c.small, ...c.requests]) {
      assert.doesNotThrow(() => decodeDatagram(r, d), `xnu-${d.xnu}: ${hex(r).slice(0, 80)}`);
    }
    for (const t of [0, 1, 10001, 10002, 10003, 10004]) assert.ok(c.types.has(t), `xnu-${d.xnu}: type ${t} in the corpus`);
    if (d.hasLength) {
      assert.ok(c.aggregates.length >= 10, `xnu-${d.xnu}: aggregated batches`);
      assert.ok(c.types.has(10006), `xnu-${d.xnu}: SRC_UPDATE`);
      assert.ok(c.types.has(10005), `xnu-${d.xnu}: SYSINFO_COUNTS`);
    }
    // 12.0 (8019.41.5) had a flag-based extension form the simulator does not model.
    if (d.constants['NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE'] !== undefined && d.xnu !== '8019.41.5') {
      assert.ok(c.types.has(10007), `xnu-${d.xnu}: SRC_EXTENDED_UPDATE`);
    }
  }
});

/** fast-check a property with cheap rejections; report inputs and time in the test output. */
function fuzz(t: { diagnostic(m: string): void }, prop: fc.IProperty<unknown[]>, numRuns: number, salt: number): void {
  const t0 = performance.now();
  const before = inputs;
  withoutStacks(() => fc.assert(prop, fuzzParams(numRuns, salt)));
  t.diagnostic(`${inputs - before} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${FUZZ_SEED + salt})`);
}

describe('fuzz: mutated simulator records never break decodeDatagram [21 header versions]', () => {
  test('small records (1–3 messages), 1–4 mutations', { timeout: 120_000 }, (t) => {
    const prop = fc.property(fc.nat(DIALECTS.length - 1), fc.nat(), opsArb(4), fc.boolean(), (i, pick, ops, skip) => {
      const c = corpora[i];
      check(mutate(c.small[pick % c.small.length], ops, c.dialect.hasLength, c.small), c.dialect, skip);
    });
    fuzz(t, prop, 380_000, 1);
  });

  test('whole kernel records (aggregated batches up to 4 KB), 1–3 mutations', { timeout: 120_000 }, (t) => {
    const prop = fc.property(fc.nat(DIALECTS.length - 1), fc.nat(), opsArb(3), fc.boolean(), (i, pick, ops, skip) => {
      const c = corpora[i];
      check(mutate(c.records[pick % c.records.length], ops, c.dialect.hasLength, c.records), c.dialect, skip);
    });
    fuzz(t, prop, 40_000, 2);
  });

  test('requests (the decoder reads recordings of both directions), 1–4 mutations', { timeout: 60_000 }, (t) => {
    const prop = fc.property(fc.nat(DIALECTS.length - 1), fc.nat(), opsArb(4), fc.boolean(), (i, pick, ops, skip) => {
      const c = corpora[i];
      check(mutate(c.requests[pick % c.requests.length], ops, c.dialect.hasLength, c.requests), c.dialect, skip);
    });
    fuzz(t, prop, 30_000, 3);
  });

  test('cross-version confusion: a record of one header version decoded as another (± mutations)', { timeout: 60_000 }, (t) => {
    const prop = fc.property(
      fc.nat(DIALECTS.length - 1),
      fc.nat(DIALECTS.length - 1),
      fc.nat(),
      fc.array(opArb, { maxLength: 2 }),
      fc.boolean(),
      (i, j, pick, ops, skip) => {
        const from = corpora[i];
        const src = from.small[pick % from.small.length];
        check(ops.length ? mutate(src, ops, from.dialect.hasLength, from.small) : src, DIALECTS[j], skip);
      },
    );
    fuzz(t, prop, 50_000, 4);
  });

  test('every truncation of real aggregated batches: rejected at the cut message, or accepted at a boundary', { timeout: 60_000 }, (t) => {
    const before = inputs;
    withoutStacks(() => {
      for (const c of corpora) {
        const d = c.dialect;
        if (!d.hasLength) continue;
        for (const rec of c.aggregates.slice(0, 2)) {
          const starts: number[] = [];
          const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
          for (let at = 0; at < rec.length; at += dv.getUint16(at + 12, true)) starts.push(at);
          assert.ok(decodeDatagram(rec, d).length > 1);
          for (let cut = 1; cut < rec.length; cut++) {
            const b = rec.subarray(0, cut);
            inputs++;
            inputBytes += cut;
            const r = checkDecode(b, d, false);
            const k = starts.filter((s) => s < cut).length; // messages begun before the cut
            if (starts.includes(cut)) {
              assert.ok(r.ok, `xnu-${d.xnu}: a cut at message boundary ${cut} decodes`);
              assert.equal(r.messages!.length, k);
            } else {
              assert.ok(!r.ok, `xnu-${d.xnu}: a cut inside a message (${cut}) is rejected, never a partial guess`);
              assert.equal(r.error!.offset, starts[k - 1], `xnu-${d.xnu}: the offset names the cut message (cut ${cut})`);
            }
          }
        }
      }
    });
    t.diagnostic(`${inputs - before} inputs`);
  });
});

// ---------------------------------------------------------------------------------------------
// Regression vectors: every failing input a fuzz run ever found (test/regressions/*.json with
// target "decode") is replayed under the same invariants.

describe('decoder regression vectors (test/regressions)', () => {
  for (const { file, v } of regressionVectors('decode')) {
    test(`${file}: ${v.note ?? v.xnu}`, v.todo ? { todo: v.todo } : {}, () => {
      check(unhex(v.hex ?? ''), dialectFor(v.xnu), v.skip ?? false);
    });
  }
});

test('fuzz summary', (t) => {
  t.diagnostic(
    `decoder: ${inputs} generated inputs (${(inputBytes / 1e6).toFixed(1)} MB), slowest case ${slowest.toFixed(2)} ms, ${over1ms} cases over 1 ms, seed ${FUZZ_SEED}`,
  );
  assert.ok(slowest < 250);
});
