/**
 * The poll hot path (issue 17): protocol/match.ts compares an SRC_UPDATE's bytes in place with
 * values decoded earlier, and client/fast-update.ts applies an update that repeats them without
 * decoding it. Ground truth for "would decoding give equal values" is the full decoder's output
 * (decodeDatagram, tested on its own against the facts), compared field by field: every single-byte
 * change of a descriptor must be seen by the matcher exactly when the decoded descriptor differs
 * in a field other than `timestamp`. The table fast path must leave a table in the state the full
 * path leaves it in (streams deep-equal, same events) for the same datagrams.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { allDialects, dialectFor } from '../src/protocol/index.js';
import { aggregate, encodeMessage } from '../src/protocol/encode.js';
import { decodeDatagram } from '../src/protocol/decode.js';
import { providerId, tcpStateName } from '../src/protocol/constants.js';
import { planFor } from '../src/protocol/plan.js';
import { countsMatcher, descriptorMatcher, rangeCheck, VOLATILE_FIELD } from '../src/protocol/match.js';
import type { Counts, Descriptor, SrcUpdateMessage } from '../src/protocol/messages.js';
import { SourceTable, type StreamEvent } from '../src/client/source-table.js';
import { UpdateFastPath } from '../src/client/fast-update.js';
import type { Dialect } from '../src/protocol/dialect.js';
import { HeaderFlag } from '../src/protocol/constants.js';
import { stringOrUndefined } from '../src/protocol/fields.js';
import { charsEqual, numericSplit } from '../src/protocol/match.js';
import { InterfaceNames } from '../src/model/interface-names.js';

function counts(i: number): Counts {
  return {
    rxPackets: 100 + i, rxBytes: 150_000 + i, txPackets: 80 + i, txBytes: 9_000 + i, rxDuplicateBytes: 0, rxOutOfOrderBytes: i % 7,
    txRetransmit: i % 5, connectAttempts: 1, connectSuccesses: 1, minRtt: 320, avgRtt: 480, varRtt: 32,
    cellRxBytes: 0, cellTxBytes: 0, wifiRxBytes: 150_000 + i, wifiTxBytes: 9_000 + i, wiredRxBytes: 0, wiredTxBytes: 0,
  };
}

function update(d: Dialect, i: number, provider: 'tcp' | 'udp', over: Partial<Descriptor> = {}, c: Counts = counts(i), flags = 0): Uint8Array {
  const v6 = i % 2 === 0;
  const descriptor: Descriptor = {
    local: v6 ? { family: 6, address: 'fe80::1', port: 5000 + i, scopeId: 4 } : { family: 4, address: `10.0.0.${i}`, port: 5000 + i },
    remote: v6 ? { family: 6, address: '2001:db8::7', port: 443 } : { family: 4, address: '203.0.113.9', port: 443 },
    pid: 300 + i, epid: 300 + i, upid: 9000 + i, pname: 'Safari', state: provider === 'tcp' ? 4 : undefined, ifindex: 4, ifnetProperties: 8,
    uuid: '6f1c2e3a-0000-4000-8000-00000000abcd', ccAlgo: 'cubic', timestamp: 1_000_000 + i, startTimestamp: 5,
    activityBitmap: { start: 77, bits: '000000000000000000000000000000ff' },
    ...over,
  };
  return encodeMessage(d, { kind: 'srcUpdate', context: 0n, flags, srcref: BigInt(i), eventFlags: 0n, counts: c, provider: providerId(d, provider)!, descriptor });
}

const withoutVolatile = (x: Descriptor) => {
  const { [VOLATILE_FIELD]: _t, ...rest } = x;
  return rest;
};

test('the descriptor matcher answers exactly "decoding would give the same fields but timestamp", for every byte of the descriptor, in every dialect with updates', () => {
  let families = 0;
  for (const d of allDialects()) {
    const plan = planFor(d);
    const m = plan.srcUpdate;
    if (!m || !d.verified) continue;
    for (const provider of ['tcp', 'udp'] as const) {
      const layout = plan.descriptors.get(providerId(d, provider)!)!;
      const match = descriptorMatcher(layout);
      assert.ok(match, `${d.family} ${provider} has a matcher`);
      const bytes = update(d, 3, provider);
      const held = (decodeDatagram(bytes, d)[0] as SrcUpdateMessage).descriptor!;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(match(bytes, dv, m.size, held), true, `${d.family} ${provider}: own bytes match`);
      let seenChange = 0;
      for (let off: number = m.size; off < bytes.length; off++) {
        for (const x of [0x01, 0x80]) {
          const copy = bytes.slice();
          copy[off] ^= x;
          let fresh: Descriptor | undefined;
          try {
            fresh = (decodeDatagram(copy, d)[0] as SrcUpdateMessage).descriptor!;
          } catch {
            // A 64-bit number above 2^53: such a message is never deferred (rangeCheck says so).
            assert.equal(rangeCheck(layout)(new DataView(copy.buffer), m.size), false, `${d.family} ${provider} byte ${off}: range`);
            continue;
          }
          const same = isDeepStrictEqual(withoutVolatile(fresh), withoutVolatile(held));
          if (!same) seenChange++;
          assert.equal(match(copy, new DataView(copy.buffer), m.size, held), same, `${d.family} ${provider} byte ${off - m.size} ^ ${x}`);
        }
      }
      assert.ok(seenChange > 50, `${d.family} ${provider}: mutations changed fields (${seenChange})`);
    }
    families++;
  }
  assert.ok(families >= 8, `dialects checked: ${families}`);
});

/** Each verified TCP/UDP update layout, with a held descriptor and its update's bytes. */
function* verifiedUpdateLayouts() {
  for (const d of allDialects()) {
    const m = planFor(d).srcUpdate;
    if (!m || !d.verified) continue;
    for (const provider of ['tcp', 'udp'] as const) {
      const bytes = update(d, 3, provider);
      const held = (decodeDatagram(bytes, d)[0] as SrcUpdateMessage).descriptor!;
      yield { d, provider, layout: planFor(d).descriptors.get(providerId(d, provider)!)!, bytes, held, base: m.size };
    }
  }
}

test('numericSplit: when the non-numeric fields repeat, the held descriptor with its numbers re-read is the decoded one (values, keys, order), for every byte of the descriptor', () => {
  let checked = 0;
  for (const { d, provider, layout, bytes, held, base } of verifiedUpdateLayouts()) {
    const split = numericSplit(layout);
    assert.ok(split, `${d.family} ${provider} has a split`);
    let renumbered = 0;
    for (let off = base; off < bytes.length; off++) {
      for (const x of [0x01, 0x80]) {
        const copy = bytes.slice();
        copy[off] ^= x;
        let fresh: Descriptor;
        try {
          fresh = (decodeDatagram(copy, d)[0] as SrcUpdateMessage).descriptor!;
        } catch {
          continue; // out of range: never deferred (rangeCheck, tested above)
        }
        const dv = new DataView(copy.buffer);
        // Ground truth: the decoder. A non-numeric field differs <=> `others` says no.
        const othersSame = Object.keys({ ...held, ...fresh }).every((k) => typeof fresh[k] === 'number' || typeof fresh[k] === 'boolean' || isDeepStrictEqual(fresh[k], held[k]));
        assert.equal(split.others(copy, dv, base, held), othersSame, `${d.family} ${provider} byte ${off - base} ^ ${x}: others`);
        if (!othersSame) continue;
        const built = { ...held };
        split.patch(copy, dv, base, built);
        assert.deepEqual(built, fresh, `${d.family} ${provider} byte ${off - base} ^ ${x}: values`);
        assert.deepEqual(Object.keys(built), Object.keys(fresh), 'same keys in the same order');
        renumbered++;
      }
    }
    assert.ok(renumbered > 50, `${d.family} ${provider}: numeric changes seen (${renumbered})`);
    checked++;
  }
  assert.ok(checked >= 16, `layouts checked: ${checked}`);
});

test('an active flow whose descriptor numbers moved (buffers, window) gets a descriptor built from the held one: same table and events as the full path', () => {
  const d = dialectFor('10002.1.13');
  const records = [
    aggregate(d, [update(d, 1, 'tcp'), update(d, 2, 'udp')]),
    // 1: buffer use and window moved, counts too (an event for the bytes); 2: its pid (a summary field: an event).
    aggregate(d, [update(d, 1, 'tcp', { timestamp: 2_000_001, txcwindow: 77, rcvbufused: 1234 }, { ...counts(1), rxBytes: 200_000 }), update(d, 2, 'udp', { timestamp: 2_000_002, pid: 999 })]),
    // 1: back to what it was, plus the state (a summary field: an event).
    aggregate(d, [update(d, 1, 'tcp', { timestamp: 3_000_001, state: 5 }, { ...counts(1), rxBytes: 200_000 })]),
  ];
  const r = runBoth(d, records);
  assert.equal(r.fast, 3, 'every update after the first sighting');
  assert.deepEqual([...r.quick.streams()], [...r.slow.streams()]);
  assert.deepEqual(r.fastEvents.map((e) => [e.event, e.stream.id, e.time]), r.slowEvents.map((e) => [e.event, e.stream.id, e.time]));
  assert.equal(r.quick.get(2n)!.pid, 999, 'the summary follows the descriptor');
  assert.equal(r.quick.get(1n)!.state, tcpStateName(5));
  assert.equal(r.quick.get(1n)!.descriptor!.timestamp, 3_000_001);
  assert.equal(r.quick.get(1n)!.descriptor!.txcwindow, 0, 'the field exists in this layout and was re-read');
  const second = runBoth(d, records.slice(0, 2));
  assert.equal(second.quick.get(1n)!.descriptor!.txcwindow, 77);
  assert.equal(second.quick.get(1n)!.descriptor!.rcvbufused, 1234);
});

test('the counts matcher sees a change in any counts field the dialect has', () => {
  const d = dialectFor('10002.1.13');
  const plan = planFor(d);
  const m = plan.srcUpdate!;
  const base = update(d, 1, 'tcp');
  const held = (decodeDatagram(base, d)[0] as SrcUpdateMessage).counts;
  const match = countsMatcher(plan.counts!);
  const at = m.f.counts!;
  assert.equal(match(new DataView(base.buffer), at, held), true);
  for (const key of Object.keys(held) as (keyof Counts)[]) {
    const changed = update(d, 1, 'tcp', {}, { ...counts(1), [key]: (held[key] ?? 0) + 1 });
    assert.equal(match(new DataView(changed.buffer), at, held), false, key);
  }
});

/** Run the same records through a table with and without the fast path; streams and events must agree. */
function runBoth(d: Dialect, records: Uint8Array[], names?: () => InterfaceNames, before?: (i: number) => void, after?: (i: number, slow: SourceTable, quick: SourceTable) => void): { fast: number; slow: SourceTable; quick: SourceTable; slowEvents: StreamEvent[]; fastEvents: StreamEvent[] } {
  const slow = new SourceTable(d);
  const quick = new SourceTable(d);
  slow.interfaceNames = names?.();
  quick.interfaceNames = names?.();
  const path = new UpdateFastPath(d);
  const slowEvents: StreamEvent[] = [];
  const fastEvents: StreamEvent[] = [];
  let fast = 0;
  records.forEach((r, i) => {
    before?.(i);
    const now = 1000 * (i + 1);
    for (const msg of decodeDatagram(r, d)) slow.apply(msg, now, slowEvents);
    const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
    for (const item of path.decode(r, {})) {
      if (item.kind !== 'deferred') quick.apply(item, now, fastEvents);
      else if (path.apply(quick, r, dv, item.at, now, fastEvents)) fast++;
      else quick.apply(decodeDatagram(r.subarray(item.at, item.at + item.len), d)[0], now, fastEvents);
    }
    after?.(i, slow, quick);
  });
  return { fast, slow, quick, slowEvents, fastEvents };
}

test('an update that repeats a stream (timestamp aside) is applied in place with the effect of the full path; anything else is decoded', () => {
  const d = dialectFor('10002.1.13');
  const records = [
    aggregate(d, [update(d, 1, 'tcp'), update(d, 2, 'udp'), update(d, 3, 'tcp')]),
    // Same again with new timestamps: all three in place.
    aggregate(d, [update(d, 1, 'tcp', { timestamp: 2_000_001 }), update(d, 2, 'udp', { timestamp: 2_000_002 }), update(d, 3, 'tcp', { timestamp: 2_000_003 })]),
    // 1: counts moved; 2: the process name changed; 3: unchanged (in place).
    aggregate(d, [
      update(d, 1, 'tcp', { timestamp: 3_000_001 }, { ...counts(1), rxBytes: 999_999 }),
      update(d, 2, 'udp', { timestamp: 3_000_002, pname: 'Mail' }),
      update(d, 3, 'tcp', { timestamp: 3_000_003 }),
    ]),
    // A removal, then a poll reply for the removed source in the same record: it comes back (order kept).
    aggregate(d, [encodeMessage(d, { kind: 'srcRemoved', context: 0n, flags: 0, srcref: 3n }), update(d, 3, 'tcp', { timestamp: 4_000_003 })]),
    // 1 repeats record 3's values: in place.
    aggregate(d, [update(d, 1, 'tcp', { timestamp: 5_000_001 }, { ...counts(1), rxBytes: 999_999 })]),
  ];
  const r = runBoth(d, records);
  assert.equal(r.fast, 6, 'three in place in record 2; in record 3, 1 (only its counts moved: read alone) and 3; one in record 5');
  assert.deepEqual([...r.quick.streams()], [...r.slow.streams()]);
  assert.deepEqual(r.fastEvents.map((e) => [e.event, e.stream.id, e.time]), r.slowEvents.map((e) => [e.event, e.stream.id, e.time]));
  assert.deepEqual(r.quick.stats, r.slow.stats);
  // Ground truth from the records themselves: the timestamp of the last update of each source is held.
  assert.equal(r.quick.get(1n)!.descriptor!.timestamp, 5_000_001);
  assert.equal(r.quick.get(3n)!.descriptor!.timestamp, 4_000_003);
  assert.equal(r.quick.get(2n)!.process, 'Mail');
  // An in-place update: rates 0 over the interval, sample time moved.
  assert.equal(r.quick.get(1n)!.rxBytesPerSec, 0);
  assert.equal(r.quick.get(1n)!.lastUpdated, 5000);
  assert.equal(r.quick.get(1n)!.counts!.rxBytes, 999_999);
});

test('updates of unverified dialects, extended updates and sources not yet known are never applied in place', () => {
  const d = dialectFor('10002.1.13');
  const path = new UpdateFastPath(d);
  const fresh = new SourceTable(d);
  const r = update(d, 5, 'tcp');
  const [item] = path.decode(r, {});
  assert.equal(item.kind, 'deferred');
  assert.equal(path.apply(fresh, r, new DataView(r.buffer), 0, 1000, []), false, 'unknown source');
  assert.equal(fresh.size, 0, 'nothing done');
  const future = dialectFor('99.0');
  assert.equal(future.verified, false);
  assert.ok(new UpdateFastPath(future).decode(update(future, 5, 'tcp'), {}).every((m) => m.kind !== 'deferred'));
});

test('a short SRC_UPDATE (shorter than its header) is left to the full decoder, which rejects it with a typed error', () => {
  // Found by the client fuzz (d3247): the fast path read the provider beyond a 20-byte message.
  const d = dialectFor('3247.1.106');
  const full = update(d, 1, 'tcp');
  const short = full.slice(0, 20);
  new DataView(short.buffer).setUint16(12, 20, true);
  assert.throws(() => new UpdateFastPath(d).decode(short, {}), { code: 'ERR_NTSTAT_MALFORMED' });
});

test('counts that moved under an unchanged descriptor are read alone: same streams and events as the full path, CLOSING stores them silently', () => {
  const d = dialectFor('10002.1.13');
  const moved = (i: number, by: number) => ({ ...counts(i), rxBytes: counts(i).rxBytes + by, rxPackets: counts(i).rxPackets + 1 });
  const records = [
    aggregate(d, [update(d, 1, 'tcp'), update(d, 2, 'udp')]),
    aggregate(d, [update(d, 1, 'tcp', { timestamp: 2_000_001 }, moved(1, 500)), update(d, 2, 'udp', { timestamp: 2_000_002 }, moved(2, 40))]),
    // Only the RTT moved: new counts stored, no event (applyCounts: bytes and packets unchanged).
    aggregate(d, [update(d, 1, 'tcp', { timestamp: 3_000_001 }, { ...moved(1, 500), avgRtt: 999 })]),
    // A goodbye with new counts: stored, no event.
    aggregate(d, [update(d, 2, 'udp', { timestamp: 4_000_002 }, moved(2, 90), HeaderFlag.CLOSING)]),
  ];
  const r = runBoth(d, records);
  assert.equal(r.fast, 4, 'every update after the first sighting');
  assert.deepEqual([...r.quick.streams()], [...r.slow.streams()]);
  assert.deepEqual(r.fastEvents.map((e) => [e.event, e.stream.id, e.time]), r.slowEvents.map((e) => [e.event, e.stream.id, e.time]));
  // Ground truth from the records: two `added`, then one `update` per source in record 2 only.
  assert.deepEqual(r.fastEvents.map((e) => [e.event, e.stream.id, e.time]), [['added', '1', 1000], ['added', '2', 1000], ['update', '1', 2000], ['update', '2', 2000]]);
  assert.equal(r.quick.get(1n)!.counts!.avgRtt, 999);
  assert.equal(r.quick.get(2n)!.counts!.rxBytes, counts(2).rxBytes + 90);
  assert.equal(r.quick.get(1n)!.rxBytesPerSec, 0, 'record 3 moved no bytes');
  assert.equal(r.quick.get(2n)!.rxBytesPerSec, 25, '50 more bytes over the two seconds since record 2');
});

test('an interface name learnt after a stream was added reaches it through the full path, as before the fast path', () => {
  const d = dialectFor('10002.1.13');
  let table: { index: number; name: string }[] = [];
  // One enumeration per table (the two tables' own InterfaceNames, same enumerator).
  const names = () => new InterfaceNames(() => table, { minRefreshMs: 0 });
  const records = [aggregate(d, [update(d, 1, 'tcp')]), aggregate(d, [update(d, 1, 'tcp', { timestamp: 2_000_001 })]), aggregate(d, [update(d, 1, 'tcp', { timestamp: 3_000_001 })])];
  const r = runBoth(d, records, names, (i) => {
    if (i === 1) {
      table = [{ index: 4, name: 'en0' }]; // the interface appears after the stream was added
    }
  });
  assert.equal(r.quick.get(1n)!.ifname, 'en0', 'named once the interface is known');
  assert.equal(r.fast, 1, 'record 2 renames (full path), record 3 repeats it (in place)');
  assert.deepEqual([...r.quick.streams()], [...r.slow.streams()]);
  assert.deepEqual(r.fastEvents.map((e) => [e.event, e.stream.id, e.time]), r.slowEvents.map((e) => [e.event, e.stream.id, e.time]));
  assert.deepEqual(r.slowEvents.map((e) => e.event), ['added', 'update'], 'the rename is an update');
});

test('SRC_COUNTS are applied in place with the effect of the full path: pending, unknown, srcref 0, moved, unchanged, CLOSING, beyond 2^53', () => {
  const d = dialectFor('10002.1.13');
  const base = { context: 0n, flags: 0, eventFlags: 0n };
  const sc = (srcref: bigint, c: Counts, flags = 0) => encodeMessage(d, { ...base, flags, kind: 'srcCounts', srcref, counts: c });
  const added = (srcref: bigint) => encodeMessage(d, { ...base, kind: 'srcAdded', srcref, provider: providerId(d, 'tcp')! });
  const big = 2n ** 60n + 5n; // keyed by bigint in the table: decoded and applied as before
  const moved = (i: number, by: number) => ({ ...counts(i), rxBytes: counts(i).rxBytes + by, txBytes: counts(i).txBytes + 2 * by });
  const records = [
    // 7 is announced by SRC_ADDED, counted before its descriptor (pending), then described by an update.
    aggregate(d, [added(7n), sc(7n, counts(7)), update(d, 1, 'tcp'), added(big), sc(0n, counts(0)), sc(99n, counts(99))]),
    aggregate(d, [update(d, 7, 'tcp'), sc(1n, moved(1, 3000)), sc(big, counts(8))]),
    // Unchanged counts (1), moved (7), the >2^53 source described.
    aggregate(d, [sc(1n, moved(1, 3000)), sc(7n, moved(7, 500)), encodeMessage(d, { ...base, kind: 'srcDesc', srcref: big, provider: providerId(d, 'tcp')!, descriptor: decodeDatagram(update(d, 8, 'tcp'), d)[0].kind === 'srcUpdate' ? (decodeDatagram(update(d, 8, 'tcp'), d)[0] as SrcUpdateMessage).descriptor : {} })]),
    // Only the RTT moved (stored, no event); a goodbye with new counts (stored, no event); then removal and late counts.
    aggregate(d, [sc(1n, { ...moved(1, 3000), avgRtt: 999 }), sc(7n, moved(7, 900), HeaderFlag.CLOSING), sc(big, moved(8, 100))]),
    aggregate(d, [encodeMessage(d, { context: 0n, flags: 0, kind: 'srcRemoved', srcref: 7n }), sc(7n, moved(7, 1000))]),
  ];
  let compared = 0;
  const r = runBoth(d, records, undefined, undefined, (i, slow, quick) => {
    // After every record, not only at the end: an unchanged SRC_COUNTS moves the sample time.
    assert.deepEqual([...quick.streams()], [...slow.streams()], `after record ${i + 1}`);
    assert.deepEqual(quick.stats, slow.stats, `after record ${i + 1}`);
    if (i === 2) assert.equal(quick.get(1n)!.lastUpdated, 3000, 'record 3 repeats 1\'s counts: sampled at 3000');
    compared++;
  });
  assert.equal(compared, records.length);
  assert.deepEqual(r.fastEvents.map((e) => [e.event, e.stream.id, e.time, e.stream.counts?.rxBytes]), r.slowEvents.map((e) => [e.event, e.stream.id, e.time, e.stream.counts?.rxBytes]));
  assert.deepEqual(r.quick.stats, r.slow.stats);
  // Every SRC_COUNTS with a srcref up to 2^53 went the in-place way (9 of them, the 0 and the unknown
  // included; record 2's update of 7, not yet described then, is decoded).
  assert.equal(r.fast, 9);
  // Ground truth from the records.
  assert.equal(r.quick.stats.srcrefZero, 1);
  assert.deepEqual(
    r.fastEvents.map((e) => [e.event, e.stream.id, e.time]),
    [['added', '1', 1000], ['added', '7', 2000], ['update', '1', 2000], ['update', '7', 3000], ['added', String(big), 3000], ['update', String(big), 4000], ['removed', '7', 5000]],
  );
  assert.equal(r.slowEvents.length, 7);
  const s1 = r.quick.get(1n)!;
  assert.equal(s1.counts!.avgRtt, 999);
  assert.equal(s1.counts!.rxBytes, counts(1).rxBytes + 3000);
  assert.equal(s1.rxBytesPerSec, 0, 'record 4 moved no bytes');
  assert.equal(s1.lastUpdated, 4000);
  assert.equal(r.quick.get(big)!.counts!.rxBytes, counts(8).rxBytes + 100);
  assert.equal(r.quick.get(7n), undefined);
});

test('an SRC_COUNTS that is not exactly the struct (trailing bytes) or would not decode is never deferred', () => {
  const d = dialectFor('10002.1.13');
  const path = new UpdateFastPath(d);
  const ok = encodeMessage(d, { context: 0n, flags: 0, eventFlags: 0n, kind: 'srcCounts', srcref: 5n, counts: counts(5) });
  assert.deepEqual(path.decode(ok, {}).map((m) => m.kind), ['deferred']);
  // Longer than the struct: the verified layout says exact, so the full decoder rejects it, as before.
  const longer = new Uint8Array(ok.length + 8);
  longer.set(ok);
  new DataView(longer.buffer).setUint16(12, longer.length, true);
  assert.throws(() => decodeDatagram(longer, d), { code: 'ERR_NTSTAT_MALFORMED' });
  assert.throws(() => path.decode(longer, {}), { code: 'ERR_NTSTAT_MALFORMED' });
  // A counter beyond 2^53: the full decoder's typed error, as before.
  const tooBig = ok.slice();
  const at = planFor(d).srcCounts!.f.counts! + planFor(d).counts!.byName.get('nstat_rxbytes')!.offset;
  new DataView(tooBig.buffer).setUint32(at + 4, 0xffffffff, true);
  assert.throws(() => path.decode(tooBig, {}), { code: 'ERR_NTSTAT_RANGE' });
});

test('charsEqual answers exactly "stringOrUndefined would decode these bytes to the held value" (printable ASCII compared in place, anything else decoded)', () => {
  // Reference: the decoder itself (fields.ts stringOrUndefined, tested on its own against the facts).
  let x = 12345;
  const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const alphabet = [0, 0x20, 0x41, 0x61, 0x7a, 0x7e, 0x7f, 0x1f, 0x09, 0x80, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff, 0x2e];
  const heldValues: (string | undefined)[] = [undefined, '', 'a', 'Safari', 'cubic', 'caf\u00e9', 'tab\there', '\u20ac', 'AAAAAAAA', 'AAAAAAAAA', '\ufffd'];
  let checked = 0;
  for (let round = 0; round < 4000; round++) {
    const max = 1 + rnd(9);
    const b = new Uint8Array(max + 2);
    for (let i = 0; i < b.length; i++) b[i] = alphabet[rnd(alphabet.length)];
    const decoded = stringOrUndefined(b, 1, max);
    const candidates = [...heldValues, decoded, decoded === undefined ? 'x' : decoded + 'x', decoded?.slice(0, -1)];
    for (const held of candidates) {
      assert.equal(charsEqual(held, b, 1, max), held === decoded, `held ${JSON.stringify(held)} bytes [${[...b.subarray(1, 1 + max)]}]`);
      checked++;
    }
  }
  assert.ok(checked > 50_000);
});
