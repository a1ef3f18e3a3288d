/**
 * decodeDatagram's fast paths (issue 17) against the reference decoder:
 *  - the SRC_UPDATE decoder (protocol/update-decoder.ts) against decodeOne
 *    (decodeDatagramReference: the same framing loop, every message through the general switch);
 *  - the compiled descriptor readers (inline u64s, word-at-a-time strings and UUIDs) against the
 *    table interpreter (fields.ts interpretStruct) on the same bytes.
 * "The same" means: deep-equal values, the same keys in the same order at every depth (JSON text
 * with bigints spelled out), or the same error (class, code, message). Inputs: encoded updates of
 * every verified dialect and provider with varied values, then arbitrary byte changes (fast-check)
 * anywhere after the header's length, and every single-byte flip of one update per layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { allDialects } from '../src/protocol/index.js';
import { aggregate, encodeMessage } from '../src/protocol/encode.js';
import { decodeDatagram, decodeDatagramReference } from '../src/protocol/decode.js';
import { providerName } from '../src/protocol/constants.js';
import { interpretStruct, readStruct, structFieldOps } from '../src/protocol/fields.js';
import { planFor } from '../src/protocol/plan.js';
import { countsOps, countsReaderFor } from '../src/protocol/counts-reader.js';
import type { Counts, Descriptor, Message } from '../src/protocol/messages.js';
import type { Dialect, StructLayout } from '../src/protocol/dialect.js';

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x));

type Outcome = { ok: true; value: Message[]; text: string } | { ok: false; error: string };

function run(f: () => Message[]): Outcome {
  try {
    const value = f();
    return { ok: true, value, text: json(value) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, error: `${err.constructor.name} ${err.code ?? ''} ${err.message}` };
  }
}

/** Fast and reference decoders agree on `bytes` (and so do compiled and interpreted descriptors). */
function agree(bytes: Uint8Array, d: Dialect, what: string): Outcome {
  const fast = run(() => decodeDatagram(bytes, d));
  const ref = run(() => decodeDatagramReference(bytes, d));
  assert.deepStrictEqual(fast, ref, what);
  if (fast.ok) {
    const plan = planFor(d);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (const m of fast.value) {
      const len = d.hasLength ? dv.getUint16(at + 12, true) : bytes.length;
      if (m.kind === 'srcUpdate' && m.descriptor) {
        const layout = plan.descriptors.get(m.provider)!;
        const interpreted = interpretStruct(layout, bytes, dv, at + plan.srcUpdate!.size);
        assert.deepStrictEqual(m.descriptor, interpreted, `${what}: compiled vs interpreted`);
        assert.deepStrictEqual(Object.keys(m.descriptor), compiledOrder(layout, interpreted), `${what}: key order`);
      }
      at += len;
    }
  }
  return fast;
}

const OPTIONAL = new Set(['chars', 'uuid', 'sockaddr', 'raw']);

/** The compiled readers' key order (test/struct-reader.test.ts): always-present fields, then the present optional ones, each in table order. */
function compiledOrder(layout: StructLayout, value: object): string[] {
  const ops = structFieldOps(layout);
  const present = new Set(Object.keys(value));
  return [...ops.filter((op) => !OPTIONAL.has(op.kind)), ...ops.filter((op) => OPTIONAL.has(op.kind))].map((op) => op.key).filter((k) => present.has(k));
}

function counts(i: number): Counts {
  const big = i % 3 === 0 ? 2 ** 40 + i : i; // a high word that is not 0
  return {
    rxPackets: big, rxBytes: 150_000 + i, txPackets: 80 + i, txBytes: 2 ** 53 - 1 - i, rxDuplicateBytes: 0, rxOutOfOrderBytes: i % 7,
    txRetransmit: i % 5, connectAttempts: 1, connectSuccesses: 1, minRtt: 320, avgRtt: 480, varRtt: 32,
    cellRxBytes: 0, cellTxBytes: 0, wifiRxBytes: 150_000 + i, wifiTxBytes: 9_000 + i, wiredRxBytes: 0, wiredTxBytes: 0,
  };
}

const NAMES = ['Safari', 'com.apple.WebKit.Networking', 'a', 'abcd', 'abcdefgh', 'Slack Helper (Renderer)', 'naïve', 'x\u0001y', '日本語', ''];
const LOCALS = [
  { family: 4 as const, address: '192.168.1.20', port: 49152 },
  { family: 6 as const, address: 'fe80::1', port: 5353, scopeId: 4 },
  { family: 6 as const, address: '2001:db8::1:2', port: 443, flowInfo: 7 },
  { family: 6 as const, address: '::ffff:10.0.0.1', port: 80 },
  undefined,
];

/** Varied updates for every provider the dialect has a descriptor for, as one datagram each. */
function updates(d: Dialect): Uint8Array[] {
  const plan = planFor(d);
  const out: Uint8Array[] = [];
  let i = 0;
  for (const provider of plan.descriptors.keys()) {
    for (let k = 0; k < 6; k++, i++) {
      const descriptor: Descriptor = {
        local: LOCALS[i % LOCALS.length],
        remote: LOCALS[(i + 2) % LOCALS.length],
        pid: 300 + i, epid: 300 + i, upid: 9000 + i, pname: NAMES[i % NAMES.length], state: 4, ifindex: 4, ifnetProperties: 8,
        uuid: i % 2 ? '6f1c2e3a-0000-4000-8000-00000000abcd' : undefined, euuid: i % 3 ? undefined : '00000000-0000-0000-0000-000000000001',
        ccAlgo: i % 2 ? 'cubic' : undefined, timestamp: 1_000_000 + i * 2 ** 33, startTimestamp: 5,
        activityBitmap: { start: 77 + i, bits: i % 2 ? '000000000000000000000000000000ff' : '8000000000000000000000000000000' + (i % 10) },
      };
      out.push(encodeMessage(d, { kind: 'srcUpdate', context: BigInt(i), flags: i % 2, srcref: BigInt(i + 1) * (i % 2 || d.srcrefSize !== 8 ? 1n : 2n ** 40n), eventFlags: planFor(d).srcUpdate!.f.event_flags === undefined ? 0n : BigInt(i % 2), counts: counts(i), provider, descriptor }));
    }
  }
  return out;
}

const dialects = allDialects().filter((d) => planFor(d).srcUpdate && d.constants['NSTAT_MSG_TYPE_SRC_UPDATE'] !== undefined);

test('encoded updates of every dialect and provider decode the same through the fast path and the reference', () => {
  let n = 0;
  for (const d of dialects) {
    const ups = updates(d);
    for (const u of ups) {
      const r = agree(u, d, `${d.family} provider ${providerName(d, new DataView(u.buffer, u.byteOffset).getUint32(planFor(d).srcUpdate!.f.provider! + 0, true))}`);
      assert.ok(r.ok, `${d.family}: an encoded update decodes (${r.ok ? '' : r.error})`);
      n++;
    }
    if (d.hasLength) agree(aggregate(d, ups.slice(0, 8)), d, `${d.family} aggregated`);
  }
  assert.ok(n > 200, `updates checked: ${n}`);
});

test('every single-byte flip of an update gives the same value or the same error through both paths', () => {
  let n = 0;
  for (const d of dialects.filter((x) => x.verified)) {
    const plan = planFor(d);
    const seen = new Set<unknown>();
    for (const u of updates(d)) {
      const provider = new DataView(u.buffer, u.byteOffset).getUint32(plan.srcUpdate!.f.provider!, true);
      const layout = plan.descriptors.get(provider);
      if (seen.has(layout)) continue;
      seen.add(layout);
      for (let at = d.hasLength ? 16 : 12; at < u.length; at++) {
        for (const x of [0x01, 0x80, 0xff]) {
          const b = u.slice();
          b[at] ^= x;
          agree(b, d, `${d.family} byte ${at} ^ ${x}`);
          n++;
        }
      }
    }
  }
  assert.ok(n > 10_000, `flips checked: ${n}`);
});

test('arbitrary byte changes after the header: same value or same error (fast-check)', () => {
  const cases = dialects.flatMap((d) => updates(d).map((u) => [d, u] as const));
  fc.assert(
    fc.property(fc.nat(cases.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 12 }), (ci, edits) => {
      const [d, u] = cases[ci];
      const b = u.slice();
      const from = d.hasLength ? 16 : 12;
      for (const [pos, v] of edits) b[from + (pos % (b.length - from))] = v;
      agree(b, d, `${d.family} edits ${JSON.stringify(edits)}`);
    }),
    { numRuns: 3000, seed: 1717 },
  );
});

test('compiled readers read names, UUIDs and numbers the interpreter reads, for arbitrary descriptor bytes', () => {
  const layouts = [...new Set(allDialects().flatMap((d) => [...planFor(d).descriptors.values()]))];
  fc.assert(
    fc.property(fc.nat(layouts.length - 1), fc.uint8Array({ minLength: 600, maxLength: 600 }), fc.nat(8), (li, bytes, shift) => {
      const layout = layouts[li];
      const b = bytes.subarray(shift, shift + layout.size); // unaligned too
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let compiled: unknown;
      let interpreted: unknown;
      try {
        compiled = readStruct(layout, b, dv, 0);
      } catch (e) {
        compiled = `${(e as Error).message}`;
      }
      try {
        interpreted = interpretStruct(layout, b, dv, 0);
      } catch (e) {
        interpreted = `${(e as Error).message}`;
      }
      assert.deepStrictEqual(compiled, interpreted);
      if (typeof compiled === 'object') assert.deepStrictEqual(Object.keys(compiled as object), compiledOrder(layout, interpreted as object));
    }),
    { numRuns: 2000, seed: 4242 },
  );
});

test('compiled counts readers: every counter as the table says (u32, exact u64), or the range error of the first u64 >= 2^53', () => {
  const layouts = [...new Set(allDialects().map((d) => planFor(d).counts).filter((c): c is StructLayout => c !== undefined))];
  // Independent definition: a u64 is exact below 2^53 (high word at most 0x1fffff), else
  // ERR_NTSTAT_RANGE naming the byte offset of the first such field in table order.
  const expected = (layout: StructLayout, dv: DataView): unknown => {
    const out: Record<string, number> = {};
    for (const [key, off, wide] of countsOps(layout)) {
      const lo = dv.getUint32(off, true);
      if (!wide) {
        out[key] = lo;
        continue;
      }
      const hi = dv.getUint32(off + 4, true);
      if (hi >= 0x200000) return `ERR_NTSTAT_RANGE@${off}`;
      out[key] = hi * 2 ** 32 + lo;
    }
    return out;
  };
  const highWord = fc.oneof(fc.constant(0), fc.constant(0x1fffff), fc.constant(0x200000), fc.constant(0xffffffff), fc.nat(0x3fffff));
  fc.assert(
    fc.property(fc.nat(layouts.length - 1), fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.array(fc.tuple(fc.nat(31), highWord), { maxLength: 6 }), (li, bytes, highs) => {
      const layout = layouts[li];
      const dv = new DataView(bytes.buffer);
      const wide = countsOps(layout).filter(([, , w]) => w);
      // Mostly small high words (real counters), with a few chosen ones at and past the limit.
      for (const [, off] of wide) dv.setUint32(off + 4, bytes[off + 4] & 1 ? 0 : bytes[off + 5] & 0x1f, true);
      for (const [i, hi] of highs) if (wide.length) dv.setUint32(wide[i % wide.length][1] + 4, hi, true);
      let got: unknown;
      try {
        got = countsReaderFor(layout)(dv, 0);
      } catch (e) {
        got = `${(e as { code?: string }).code}@${(e as { offset?: number }).offset}`;
      }
      assert.deepStrictEqual(got, expected(layout, dv));
      if (typeof got === 'object') assert.deepStrictEqual(Object.keys(got as object), countsOps(layout).map(([k]) => k));
    }),
    { numRuns: 2000, seed: 1717 },
  );
});
