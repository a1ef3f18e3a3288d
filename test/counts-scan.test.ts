/**
 * The counters-only path (protocol/counts-scan.ts): for every dialect, the counts it reads in place
 * are the counts the messages were built with (ground truth: the values given to the encoder),
 * other messages are skipped but counted, and framing errors are typed like decodeDatagram's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NtstatError } from '../src/errors.js';
import { allDialects, dialectFor } from '../src/protocol/index.js';
import { aggregate, encodeMessage } from '../src/protocol/encode.js';
import { MessageType, providerId } from '../src/protocol/constants.js';
import { COUNT_KEYS, scanCounts } from '../src/protocol/counts-scan.js';
import { planFor } from '../src/protocol/plan.js';
import { countsOps } from '../src/protocol/decode.js';
import type { Counts } from '../src/protocol/messages.js';

function counts(i: number): Counts {
  return {
    rxPackets: 3 * i + 1, rxBytes: 2 ** 40 + i, txPackets: 5 * i, txBytes: 1_000_003 * i, rxDuplicateBytes: i % 7, rxOutOfOrderBytes: i % 11,
    txRetransmit: i % 13, connectAttempts: 1, connectSuccesses: i % 2, minRtt: 320 + i, avgRtt: 480 + i, varRtt: 32 + i,
    cellRxBytes: 7 * i, cellTxBytes: 9 * i, wifiRxBytes: 2 ** 52 + i, wifiTxBytes: 11 * i, wiredRxBytes: 13 * i, wiredTxBytes: 17 * i,
  };
}

test('scanCounts reads the counts of SRC_COUNTS and SRC_UPDATE exactly as encoded, in every dialect; other messages are skipped', () => {
  for (const d of allDialects()) {
    const plan = planFor(d);
    // Fields this dialect's nstat_counts has (the full decoder's table); the others read as NaN.
    const present = new Set(countsOps(plan.counts!).map((o) => o[0]));
    const tcp = providerId(d, 'tcp')!;
    const srcref = (i: number) => (d.srcrefSize === 8 ? (BigInt(i) << 32n) + BigInt(i * 7 + 1) : BigInt(i * 7 + 1));
    const msgs: Uint8Array[] = [];
    const expect: [number, bigint, number][] = [];
    for (let i = 1; i <= 6; i++) {
      msgs.push(encodeMessage(d, { kind: 'srcRemoved', context: 0n, flags: 0, srcref: srcref(100 + i) }));
      if (i % 2 === 0 && plan.srcUpdate) {
        msgs.push(encodeMessage(d, { kind: 'srcUpdate', context: 0n, flags: 0, srcref: srcref(i), eventFlags: 0n, provider: tcp, counts: counts(i), descriptor: { pid: i, pname: 'x' } }));
        expect.push([MessageType.SRC_UPDATE, srcref(i), i]);
      } else {
        msgs.push(encodeMessage(d, { kind: 'srcCounts', context: 0n, flags: 0, srcref: srcref(i), eventFlags: 0n, counts: counts(i) }));
        expect.push([MessageType.SRC_COUNTS, srcref(i), i]);
      }
    }
    const records = d.hasLength ? [aggregate(d, msgs)] : msgs;
    const seen: [number, bigint, number][] = [];
    let total = 0;
    for (const r of records) {
      total += scanCounts(r, d, (type, lo, hi, _flags, c) => {
        const ref = (BigInt(hi) << 32n) + BigInt(lo);
        const i = expect.find((e) => e[1] === ref)![2];
        const want = counts(i);
        COUNT_KEYS.forEach((k, col) => assert.equal(c[col], present.has(k) ? want[k] : NaN, `${d.family} ${k}`));
        // The four counters every dialect has are always read.
        for (const k of ['rxPackets', 'rxBytes', 'txPackets', 'txBytes'] as const) assert.equal(c[COUNT_KEYS.indexOf(k)], want[k]);
        seen.push([type, ref, i]);
      });
    }
    assert.equal(total, msgs.length, d.family);
    assert.deepEqual(seen, expect, d.family);
  }
});

test('scanCounts: bad framing and out-of-range u64 are typed errors', () => {
  const d = dialectFor('10002.1.13');
  const m = encodeMessage(d, { kind: 'srcCounts', context: 0n, flags: 0, srcref: 5n, eventFlags: 0n, counts: counts(1) });
  assert.throws(() => scanCounts(m.subarray(0, 10), d, () => undefined), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_MALFORMED');
  const bad = m.slice();
  new DataView(bad.buffer).setUint16(12, 9999, true);
  assert.throws(() => scanCounts(bad, d, () => undefined), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_MALFORMED');
  const huge = m.slice();
  const off = planFor(d).srcCounts!.f.counts! + 8; // rxbytes
  new DataView(huge.buffer).setUint32(off + 4, 0xffffffff, true);
  assert.throws(() => scanCounts(huge, d, () => undefined), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_RANGE');
});
