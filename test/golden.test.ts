/**
 * Golden datagrams: bytes built independently from ntstat-layouts.json (test/helpers/facts.ts),
 * decoded with decodeDatagram and re-encoded with encodeMessage, for every header version (grouped
 * by layout family) and every message type the version has. Expected values come from the values
 * written at the JSON offsets and from BEHAVIOUR.md, never from src/.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregate, allDialects, decodeDatagram, encodeMessage, type Dialect, type Message } from '../src/protocol/index.js';
import * as H from './helpers/facts.js';

function dialectOf(v: H.JVersion): Dialect {
  const d = allDialects().find((x) => x.xnu === v.xnu);
  assert.ok(d, `no dialect for xnu-${v.xnu}`);
  return d;
}

function asPlain(msgs: readonly Message[]): unknown {
  return msgs.map((m) => ({ ...m }));
}

if (!H.facts) {
  test('golden datagrams', H.needsFacts(), () => {
    H.mustFacts();
  });
} else {
  const F = H.facts;

  for (const g of F.dialects) {
    describe(`family ${g.name}`, () => {
      for (const v of F.versions.filter((x) => x.dialect === g.name)) {
        describe(`xnu-${v.xnu}`, () => {
          const d = dialectOf(v);
          const cases = H.goldenCases(v);
          for (const c of cases) {
            test(`decode: ${c.name}`, () => {
              assert.deepEqual(asPlain(decodeDatagram(c.bytes, d)), [c.expected]);
            });
            test(`encode reproduces the bytes: ${c.name}`, c.encodeTodo ? { todo: c.encodeTodo } : {}, () => {
              const [m] = decodeDatagram(c.bytes, d);
              assert.deepEqual(encodeMessage(d, m), c.bytes);
            });
          }
          if (H.hasLength(v)) {
            test('aggregated datagrams: mixed messages back to back decode in order and re-encode', () => {
              const pick = (re: RegExp): H.Case[] => cases.filter((c) => re.test(c.name) && !c.encodeTodo);
              const mixes: H.Case[][] = [
                [...pick(/^SRC_COUNTS$/), ...pick(/^SRC_DESC /), ...pick(/^SRC_REMOVED$/), ...pick(/^SUCCESS$/)],
                [...pick(/^SRC_UPDATE /), ...pick(/^SRC_EXTENDED_UPDATE .*exact/).slice(0, 2), ...pick(/^SUCCESS$/)],
                [...pick(/^SRC_ADDED$/), ...pick(/^SRC_ADDED$/), ...pick(/^ERROR with echoed/)],
                cases.filter((c) => !c.encodeTodo).reverse(),
              ].filter((m) => m.length >= 2);
              assert.ok(mixes.length >= 3);
              for (const mix of mixes) {
                const bytes = aggregate(d, mix.map((c) => c.bytes));
                assert.deepEqual(bytes, H.concat(...mix.map((c) => c.bytes)));
                const msgs = decodeDatagram(bytes, d);
                assert.deepEqual(asPlain(msgs), mix.map((c) => c.expected));
                assert.deepEqual(aggregate(d, msgs.map((m) => encodeMessage(d, m))), bytes);
              }
            });
          }
        });
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // LAYOUTS.md "Traps for a client"
  const V = (xnu: string) => {
    const v = F.versions.find((x) => x.xnu === xnu);
    assert.ok(v, `facts lack xnu-${xnu}`);
    return v;
  };

  describe('traps (LAYOUTS.md)', () => {
    test('1a: SRC_COUNTS is 144 B in 10.12 and 10.13 but nstat_counts is re-ordered', () => {
      const v12 = V('3789.1.32');
      const v13 = V('4570.1.46');
      const s12 = H.mustStruct(v12, 'nstat_msg_src_counts');
      const s13 = H.mustStruct(v13, 'nstat_msg_src_counts');
      assert.equal(s12.size, 144);
      assert.equal(s13.size, 144);
      // Small u32 values so 10.13's u64 reading of two 10.12 u32s stays below 2^53.
      const values: H.Values = {};
      const exp12: Record<string, number> = {};
      H.mustStruct(v12, 'nstat_counts').fields.forEach((f, i) => {
        const n = f.size === 8 ? 0x0102030405 + i : 0x100 + i;
        values[f.name] = f.size === 8 ? BigInt(n) : n;
        exp12[H.COUNT_KEYS[f.name]] = n;
      });
      const bytes = H.buildMessage(v12, 'nstat_msg_src_counts', { context: 0n, type: H.msgType(v12, 'SRC_COUNTS') }, { srcref: 77n, event_flags: 0n, counts: values });
      const [m12] = decodeDatagram(bytes, dialectOf(v12));
      const [m13] = decodeDatagram(bytes, dialectOf(v13));
      assert.equal(m12.kind, 'srcCounts');
      assert.equal(m13.kind, 'srcCounts');
      if (m12.kind !== 'srcCounts' || m13.kind !== 'srcCounts') return;
      assert.deepEqual({ ...m12.counts }, exp12);
      // What 10.13 reads from the same bytes, at its own JSON offsets.
      const base13 = H.fieldOf(s13, 'counts')!.offset;
      const exp13: Record<string, number> = {};
      for (const f of H.mustStruct(v13, 'nstat_counts').fields) {
        exp13[H.COUNT_KEYS[f.name]] = Number(H.readScalar(bytes, base13 + f.offset, f.size === 8 ? 'u64' : 'u32'));
      }
      assert.deepEqual({ ...m13.counts }, exp13);
      assert.notDeepEqual({ ...m13.counts }, { ...m12.counts });
      // BEHAVIOUR.md A.2: 10.12 has u32 rx_dup/rx_ooo at 32/36 where 10.13 has u64 cell rx at 32.
      assert.equal(m13.counts.cellRxBytes, m12.counts.rxDuplicateBytes + m12.counts.rxOutOfOrderBytes * 2 ** 32);
      assert.equal(m13.counts.rxDuplicateBytes, Number(H.readScalar(bytes, base13 + 80, 'u32')));
      assert.equal(m13.counts.rxPackets, m12.counts.rxPackets, 'the four totals keep their place');
    });

    test('1b: ADD_ALL_SRCS is 56 B in 10.12 and 10.13 with provider/filter/events moved', () => {
      const v12 = V('3789.1.32');
      const v13 = V('4570.1.46');
      const s12 = H.mustStruct(v12, 'nstat_msg_add_all_srcs');
      const s13 = H.mustStruct(v13, 'nstat_msg_add_all_srcs');
      assert.deepEqual(
        ['provider', 'filter', 'events'].map((n) => H.fieldOf(s12, n)!.offset),
        [16, 20, 28],
      );
      assert.deepEqual(
        ['provider', 'filter', 'events'].map((n) => H.fieldOf(s13, n)!.offset),
        [32, 16, 24],
      );
      const msg = { kind: 'addAllSrcs', context: 9n, flags: 0, provider: 2, filter: 0x10_0000_0004n, events: 0n, targetPid: 0 } as const;
      const b12 = encodeMessage(dialectOf(v12), msg);
      const b13 = encodeMessage(dialectOf(v13), msg);
      assert.equal(b12.length, 56);
      assert.equal(b13.length, 56);
      assert.notDeepEqual(b12, b13);
      assert.equal(H.readScalar(b12, 16, 'u32'), 2);
      assert.equal(H.readScalar(b12, 20, 'u64'), 0x10_0000_0004n);
      assert.equal(H.readScalar(b13, 32, 'u32'), 2);
      assert.equal(H.readScalar(b13, 16, 'u64'), 0x10_0000_0004n);
      assert.deepEqual(b12, H.buildMessage(v12, 'nstat_msg_add_all_srcs', { context: 9n, type: 1002 }, { provider: 2, filter: 0x10_0000_0004n }));
      assert.deepEqual(b13, H.buildMessage(v13, 'nstat_msg_add_all_srcs', { context: 9n, type: 1002 }, { provider: 2, filter: 0x10_0000_0004n }));
      // BEHAVIOUR.md §7: a 10.12-layout request read as 10.13 puts `provider` inside `events` (0 here).
      const [m] = decodeDatagram(b12, dialectOf(v13));
      assert.equal(m.kind === 'addAllSrcs' && m.provider, 0);
    });

    test('1c: SRC_ADDED swapped srcref/provider in 10.13 (28 B vs 32 B)', () => {
      const v12 = V('3789.1.32');
      const v13 = V('4570.1.46');
      const a12 = H.mustStruct(v12, 'nstat_msg_src_added');
      const a13 = H.mustStruct(v13, 'nstat_msg_src_added');
      assert.deepEqual([a12.size, H.fieldOf(a12, 'provider')!.offset, H.fieldOf(a12, 'srcref')!.offset], [28, 16, 20]);
      assert.deepEqual([a13.size, H.fieldOf(a13, 'srcref')!.offset, H.fieldOf(a13, 'provider')!.offset], [32, 16, 24]);
      const b12 = H.buildMessage(v12, 'nstat_msg_src_added', { context: 0n, type: 10001 }, { srcref: 0x0000_0001_0000_0002n, provider: 4 });
      const b13 = H.buildMessage(v13, 'nstat_msg_src_added', { context: 0n, type: 10001 }, { srcref: 0x0000_0001_0000_0002n, provider: 4 });
      const expected = { kind: 'srcAdded', context: 0n, flags: 0, srcref: 0x0000_0001_0000_0002n, provider: 4 };
      assert.deepEqual(asPlain(decodeDatagram(b12, dialectOf(v12))), [expected]);
      assert.deepEqual(asPlain(decodeDatagram(b13, dialectOf(v13))), [expected]);
      assert.throws(() => decodeDatagram(b12, dialectOf(v13)), { code: 'ERR_NTSTAT_MALFORMED' });
      assert.throws(() => decodeDatagram(b13, dialectOf(v12)), { code: 'ERR_NTSTAT_MALFORMED' });
    });

    test('1d: ifnet descriptor is 248 B in 10.12 and 10.13 but name-first vs threshold-first', () => {
      const v12 = V('3789.1.32');
      const v13 = V('4570.1.46');
      const i12 = H.mustStruct(v12, 'nstat_ifnet_descriptor');
      const i13 = H.mustStruct(v13, 'nstat_ifnet_descriptor');
      assert.equal(i12.size, 248);
      assert.equal(i13.size, 248);
      assert.deepEqual([H.fieldOf(i12, 'name')!.offset, H.fieldOf(i12, 'threshold')!.offset], [0, 24]);
      assert.deepEqual([H.fieldOf(i13, 'threshold')!.offset, H.fieldOf(i13, 'name')!.offset], [0, 228]);
      const vals = { name: 'en0', ifindex: 4, threshold: 0x100000n, type: 6, description: 'Ethernet' };
      const expected = { name: 'en0', ifindex: 4, threshold: 0x100000, type: 6, description: 'Ethernet' };
      for (const v of [v12, v13]) {
        const d = dialectOf(v);
        const id = H.constant(v, 'NSTAT_PROVIDER_IFNET');
        const bytes = H.buildMessage(v, 'nstat_msg_src_description', { context: 1n, type: 10003 }, { srcref: 5n, provider: id }, H.buildStruct(v, 'nstat_ifnet_descriptor', vals));
        const [m] = decodeDatagram(bytes, d);
        assert.deepEqual(m.kind === 'srcDesc' && { ...m.descriptor }, expected, `xnu-${v.xnu}`);
        assert.deepEqual(encodeMessage(d, m), bytes);
      }
      // The 10.12 image read with the 10.13 table: "en0" becomes part of the threshold.
      const image12 = H.buildStruct(v12, 'nstat_ifnet_descriptor', vals);
      const bytes = H.buildMessage(v13, 'nstat_msg_src_description', { context: 1n, type: 10003 }, { srcref: 5n, provider: 6 }, image12);
      const [m] = decodeDatagram(bytes, dialectOf(v13));
      assert.ok(m.kind === 'srcDesc');
      assert.equal(m.descriptor?.threshold, 0x306e65); // 'e','n','0' little-endian
      assert.equal(m.descriptor?.name, undefined);
    });

    test('1e: TCP 336 B: 11.x ifnet_properties u16 + reserved vs 12.x u32 + fallback_mode', () => {
      const v11 = V('7195.50.7.100.1');
      const v12 = V('8019.61.5');
      const t11 = H.mustStruct(v11, 'nstat_tcp_descriptor');
      const t12 = H.mustStruct(v12, 'nstat_tcp_descriptor');
      assert.equal(t11.size, 336);
      assert.equal(t12.size, 336);
      assert.deepEqual([H.fieldOf(t11, 'ifnet_properties')!.offset, H.fieldOf(t11, 'ifnet_properties')!.type], [328, 'u16']);
      assert.deepEqual([H.fieldOf(t12, 'ifnet_properties')!.offset, H.fieldOf(t12, 'ifnet_properties')!.type], [328, 'u32']);
      const image = H.buildStruct(v12, 'nstat_tcp_descriptor', { ifnet_properties: 0x0200_0004, fallback_mode: 3, pid: 42 });
      const mk = (v: H.JVersion) => H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: 2 }, image);
      const [m11] = decodeDatagram(mk(v11), dialectOf(v11));
      const [m12] = decodeDatagram(mk(v12), dialectOf(v12));
      assert.ok(m11.kind === 'srcDesc' && m12.kind === 'srcDesc');
      assert.equal(m12.descriptor?.ifnetProperties, 0x0200_0004);
      assert.equal(m12.descriptor?.fallbackMode, 3);
      assert.equal(m11.descriptor?.ifnetProperties, 0x0004, 'u16 in 11.x');
      assert.equal('fallbackMode' in (m11.descriptor ?? {}), false);
      assert.equal(m11.descriptor?.pid, 42);
    });

    test('2: pack(4): u64 fields at 4-aligned offsets decode exactly, also from an odd byteOffset view', () => {
      const v11 = V('3247.1.106');
      const v12 = V('3789.1.32');
      assert.equal(H.fieldOf(H.mustStruct(v11, 'nstat_msg_add_all_srcs'), 'filter')!.offset, 20);
      assert.equal(H.fieldOf(H.mustStruct(v12, 'nstat_msg_src_added'), 'srcref')!.offset, 20);
      assert.equal(H.fieldOf(H.mustStruct(v11, 'nstat_ifnet_add_param'), 'threshold')!.offset, 4);
      const addAll = H.buildMessage(v11, 'nstat_msg_add_all_srcs', { context: 0x1111n, type: 1002 }, { provider: 3, filter: 0x1122334455667788n });
      const added = H.buildMessage(v12, 'nstat_msg_src_added', { context: 0n, type: 10001 }, { provider: 2, srcref: 0xfedcba9876543210n });
      const tcp = H.buildStruct(v11, 'nstat_tcp_descriptor', { upid: 0x000f_0000_0000_0001n, eupid: 0x0010_0000_0000_0002n, pid: 5 });
      const desc = H.buildMessage(v11, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 9, provider: 2 }, tcp);
      for (const [v, bytes] of [
        [v11, addAll],
        [v12, added],
        [v11, desc],
      ] as const) {
        const d = dialectOf(v);
        const direct = decodeDatagram(bytes, d);
        for (const shift of [1, 3, 5]) {
          const big = new Uint8Array(bytes.length + shift + 7);
          big.set(bytes, shift);
          const view = big.subarray(shift, shift + bytes.length);
          assert.deepEqual(asPlain(decodeDatagram(view, d)), asPlain(direct), `byteOffset ${shift}`);
        }
      }
      const [a] = decodeDatagram(addAll, dialectOf(v11));
      assert.equal(a.kind === 'addAllSrcs' && a.filter, 0x1122334455667788n);
      const [s] = decodeDatagram(added, dialectOf(v12));
      assert.equal(s.kind === 'srcAdded' && s.srcref, 0xfedcba9876543210n);
      const [t] = decodeDatagram(desc, dialectOf(v11));
      assert.ok(t.kind === 'srcDesc');
      assert.equal(t.descriptor?.upid, 0x000f_0000_0000_0001);
      assert.equal(t.descriptor?.eupid, 0x0010_0000_0000_0002);
      assert.equal(H.fieldOf(H.mustStruct(v11, 'nstat_tcp_descriptor'), 'upid')!.offset % 8, 4, 'upid is only 4-aligned under pack(4)');
    });

    test('trap 1: SRC_REMOVED is 20 B before 10.12 and 24 B after; each dialect rejects the other size', () => {
      const v11 = V('3247.1.106');
      const v12 = V('3789.1.32');
      assert.equal(H.mustStruct(v11, 'nstat_msg_src_removed').size, 20);
      assert.equal(H.mustStruct(v12, 'nstat_msg_src_removed').size, 24);
      const b11 = H.buildMessage(v11, 'nstat_msg_src_removed', { context: 0n, type: 10002 }, { srcref: 0xdeadbeef });
      const b12 = H.buildMessage(v12, 'nstat_msg_src_removed', { context: 0n, type: 10002 }, { srcref: 0xdeadbeefn });
      assert.deepEqual(asPlain(decodeDatagram(b11, dialectOf(v11))), [{ kind: 'srcRemoved', context: 0n, flags: 0, srcref: 0xdeadbeefn }]);
      assert.deepEqual(asPlain(decodeDatagram(b12, dialectOf(v12))), [{ kind: 'srcRemoved', context: 0n, flags: 0, srcref: 0xdeadbeefn }]);
      assert.throws(() => decodeDatagram(b12, dialectOf(v11)), { code: 'ERR_NTSTAT_MALFORMED' });
      assert.throws(() => decodeDatagram(b11, dialectOf(v12)), { code: 'ERR_NTSTAT_MALFORMED' });
    });

    test('7: pre-10.11 header has no length: one message per datagram, never split', () => {
      const v = V('2782.1.97');
      const d = dialectOf(v);
      assert.equal(H.fieldOf(H.mustStruct(v, 'nstat_msg_hdr'), 'pad')!.offset, 12);
      const counts = H.sampleCounts(v);
      const c = H.buildMessage(v, 'nstat_msg_src_counts', { context: 0n, type: 10004 }, { srcref: 3, counts: counts.values });
      const r = H.buildMessage(v, 'nstat_msg_src_removed', { context: 0n, type: 10002 }, { srcref: 3 });
      assert.equal(c.length, 132);
      assert.deepEqual(asPlain(decodeDatagram(c, d)), [{ kind: 'srcCounts', context: 0n, flags: 0, srcref: 3n, eventFlags: 0n, counts: counts.expected }]);
      // Two messages in one record are not a thing before 10.11: the first one is simply too long.
      assert.throws(() => decodeDatagram(H.concat(c, r), d), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'ERR_NTSTAT_MALFORMED');
        assert.equal((e as { offset?: number }).offset, 0);
        return true;
      });
      // The pad word is not a length: garbage there changes nothing for the decoder.
      const padded = c.slice();
      new DataView(padded.buffer).setUint32(12, 0xffffffff, true);
      const [m] = decodeDatagram(padded, d);
      assert.equal(m.kind, 'srcCounts');
      assert.equal(m.flags, 0);
      // An unknown type cannot be skipped without a length.
      const unknown = H.buildMessage(v, 'nstat_msg_hdr', { context: 0n, type: 4242 });
      assert.throws(() => decodeDatagram(unknown, d, { unknownTypes: 'skip' }), { code: 'ERR_NTSTAT_MALFORMED' });
      // Encoded pre-10.11 messages have a zero pad word and refuse header flags.
      assert.equal(new DataView(encodeMessage(d, m).buffer).getUint32(12, true), 0);
      assert.throws(() => encodeMessage(d, { kind: 'success', context: 1n, flags: 2 }));
      assert.throws(() => aggregate(d, [c, r]));
    });

    test('8: NSTAT_SRC_REF_ALL is 0xffffffff in 4 bytes before 10.12, an all-ones u64 after', () => {
      const v11 = V('3248.40.184');
      const v12 = V('3789.1.32');
      assert.equal(v11.constants['NSTAT_SRC_REF_ALL'], 4294967295);
      assert.equal(v12.constants['NSTAT_SRC_REF_ALL'], '0xffffffffffffffff');
      const q11 = encodeMessage(dialectOf(v11), { kind: 'querySrc', context: 1n, flags: 0, srcref: 0xffffffffn });
      const q12 = encodeMessage(dialectOf(v12), { kind: 'querySrc', context: 1n, flags: 0, srcref: 0xffff_ffff_ffff_ffffn });
      assert.equal(q11.length, 20);
      assert.equal(q12.length, 24);
      assert.deepEqual([...q11.subarray(16)], [0xff, 0xff, 0xff, 0xff]);
      assert.deepEqual([...q12.subarray(16)], new Array(8).fill(0xff));
      const [m11] = decodeDatagram(q11, dialectOf(v11));
      const [m12] = decodeDatagram(q12, dialectOf(v12));
      assert.equal(m11.kind === 'querySrc' && m11.srcref, 0xffffffffn);
      assert.equal(m12.kind === 'querySrc' && m12.srcref, BigInt(v12.constants['NSTAT_SRC_REF_ALL']));
      assert.throws(() => encodeMessage(dialectOf(v11), { kind: 'querySrc', context: 1n, flags: 0, srcref: 0x1_0000_0000n }));
    });

    test('4: QUIC uses the TCP descriptor; only the provider id tells them apart', () => {
      for (const v of F.versions.filter((x) => H.hasConstant(x, 'NSTAT_PROVIDER_QUIC_USERLAND'))) {
        const d = dialectOf(v);
        assert.equal(v.aliases['nstat_quic_descriptor'], 'nstat_tcp_descriptor');
        const quic = H.constant(v, 'NSTAT_PROVIDER_QUIC_USERLAND');
        const tcp = H.constant(v, 'NSTAT_PROVIDER_TCP_KERNEL');
        const sample = H.sampleStruct(v, 'nstat_tcp_descriptor', 3);
        const image = H.buildStruct(v, 'nstat_tcp_descriptor', sample.values);
        const mk = (provider: number) => H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider }, image);
        const [q] = decodeDatagram(mk(quic), d);
        const [t] = decodeDatagram(mk(tcp), d);
        assert.ok(q.kind === 'srcDesc' && t.kind === 'srcDesc');
        assert.equal(q.provider, quic);
        assert.deepEqual({ ...q.descriptor }, sample.expected);
        assert.deepEqual({ ...q.descriptor }, { ...t.descriptor });
        assert.equal(mk(quic).length, H.fixedSize(H.mustStruct(v, 'nstat_msg_src_description')) + H.mustStruct(v, 'nstat_tcp_descriptor').size);
      }
      // Before QUIC existed (xnu-4570), provider 8 is unknown: bytes are kept raw, not guessed.
      const v = V('4570.1.46');
      assert.equal(H.hasConstant(v, 'NSTAT_PROVIDER_QUIC_USERLAND'), false);
      const image = H.buildStruct(v, 'nstat_tcp_descriptor', { pid: 1 });
      const bytes = H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: 8 }, image);
      assert.deepEqual(asPlain(decodeDatagram(bytes, dialectOf(v))), [{ kind: 'srcDesc', context: 0n, flags: 0, srcref: 1n, eventFlags: 0n, provider: 8, raw: image }]);
    });

    test('providers renumbered in 10.12 (UDP 3 -> 4, ifnet 4 -> 6): same bytes, different provider meaning', () => {
      const v11 = V('3248.40.184');
      const v12 = V('3789.1.32');
      assert.equal(H.constant(v11, 'NSTAT_PROVIDER_UDP'), 3);
      assert.equal(H.constant(v12, 'NSTAT_PROVIDER_UDP_KERNEL'), 4);
      assert.equal(H.constant(v12, 'NSTAT_PROVIDER_TCP_USERLAND'), 3);
      // A UDP descriptor sent as provider 4 on 10.12 decodes as UDP; provider 3 there means TCP (260 B) -> mismatch.
      const udp = H.buildStruct(v12, 'nstat_udp_descriptor', { pid: 77 });
      const asUdp = H.buildMessage(v12, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: 4 }, udp);
      const [m] = decodeDatagram(asUdp, dialectOf(v12));
      assert.equal(m.kind === 'srcDesc' && m.descriptor?.pid, 77);
      const as3 = H.buildMessage(v12, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: 3 }, udp);
      assert.throws(() => decodeDatagram(as3, dialectOf(v12)), { code: 'ERR_NTSTAT_MALFORMED' });
    });
  });

  // -------------------------------------------------------------------------------------------
  // BEHAVIOUR.md Appendix A.4 offsets, written by hand (not from the JSON) and read back.
  type Lit = [key: string, offset: number, type: 'u8' | 'u16' | 'u32' | 'u64' | 'sa4' | 'sa6' | 'uuid' | 'str'];
  const A4: Array<{ xnu: string; struct: string; size: number; fields: Lit[] }> = [
    {
      xnu: '3248.40.184',
      struct: 'nstat_tcp_descriptor',
      size: 260,
      fields: [['local', 0, 'sa4'], ['remote', 28, 'sa6'], ['ifindex', 56, 'u32'], ['state', 60, 'u32'], ['sndbufsize', 64, 'u32'], ['txcwindow', 88, 'u32'], ['trafficClass', 92, 'u32'], ['trafficMgtFlags', 96, 'u32'], ['ccAlgo', 100, 'str'], ['upid', 116, 'u64'], ['pid', 124, 'u32'], ['pname', 128, 'str'], ['eupid', 192, 'u64'], ['epid', 200, 'u32'], ['uuid', 204, 'uuid'], ['euuid', 220, 'uuid'], ['vuuid', 236, 'uuid'], ['connstatus', 252, 'u32'], ['ifnetProperties', 256, 'u16']],
    },
    {
      xnu: '4570.1.46',
      struct: 'nstat_tcp_descriptor',
      size: 304,
      fields: [['upid', 0, 'u64'], ['eupid', 8, 'u64'], ['startTimestamp', 16, 'u64'], ['timestamp', 24, 'u64'], ['ifindex', 56, 'u32'], ['state', 60, 'u32'], ['sndbufsize', 64, 'u32'], ['trafficMgtFlags', 96, 'u32'], ['pid', 100, 'u32'], ['epid', 104, 'u32'], ['local', 108, 'sa6'], ['remote', 136, 'sa4'], ['ccAlgo', 164, 'str'], ['pname', 180, 'str'], ['uuid', 244, 'uuid'], ['euuid', 260, 'uuid'], ['vuuid', 276, 'uuid'], ['connstatus', 292, 'u32'], ['ifnetProperties', 296, 'u16']],
    },
    {
      xnu: '7195.50.7.100.1',
      struct: 'nstat_tcp_descriptor',
      size: 336,
      fields: [['timestamp', 24, 'u64'], ['rxTransferSize', 32, 'u64'], ['txTransferSize', 40, 'u64'], ['ifindex', 72, 'u32'], ['state', 76, 'u32'], ['sndbufsize', 80, 'u32'], ['trafficMgtFlags', 112, 'u32'], ['pid', 116, 'u32'], ['epid', 120, 'u32'], ['local', 124, 'sa4'], ['remote', 152, 'sa6'], ['ccAlgo', 180, 'str'], ['pname', 196, 'str'], ['uuid', 260, 'uuid'], ['euuid', 276, 'uuid'], ['vuuid', 292, 'uuid'], ['fuuid', 308, 'uuid'], ['connstatus', 324, 'u32'], ['ifnetProperties', 328, 'u16']],
    },
    {
      xnu: '8792.41.9',
      struct: 'nstat_tcp_descriptor',
      size: 336,
      fields: [['fuuid', 308, 'uuid'], ['connstatus', 324, 'u32'], ['ifnetProperties', 328, 'u32'], ['fallbackMode', 332, 'u8'], ['pid', 116, 'u32']],
    },
    {
      xnu: '10002.1.13',
      struct: 'nstat_tcp_descriptor',
      size: 344,
      fields: [['fuuid', 308, 'uuid'], ['personaId', 324, 'u32'], ['uid', 328, 'u32'], ['connstatus', 332, 'u32'], ['ifnetProperties', 336, 'u32'], ['fallbackMode', 340, 'u8'], ['local', 124, 'sa6'], ['pname', 196, 'str']],
    },
    {
      xnu: '3789.1.32',
      struct: 'nstat_udp_descriptor',
      size: 212,
      fields: [['local', 0, 'sa6'], ['remote', 28, 'sa4'], ['ifindex', 56, 'u32'], ['rcvbufsize', 60, 'u32'], ['rcvbufused', 64, 'u32'], ['trafficClass', 68, 'u32'], ['upid', 72, 'u64'], ['pid', 80, 'u32'], ['pname', 84, 'str'], ['eupid', 148, 'u64'], ['epid', 156, 'u32'], ['uuid', 160, 'uuid'], ['euuid', 176, 'uuid'], ['vuuid', 192, 'uuid'], ['ifnetProperties', 208, 'u16']],
    },
    {
      xnu: '6153.11.26',
      struct: 'nstat_udp_descriptor',
      size: 256,
      fields: [['upid', 0, 'u64'], ['eupid', 8, 'u64'], ['startTimestamp', 16, 'u64'], ['timestamp', 24, 'u64'], ['local', 56, 'sa4'], ['remote', 84, 'sa6'], ['ifindex', 112, 'u32'], ['rcvbufsize', 116, 'u32'], ['rcvbufused', 120, 'u32'], ['trafficClass', 124, 'u32'], ['pid', 128, 'u32'], ['pname', 132, 'str'], ['epid', 196, 'u32'], ['uuid', 200, 'uuid'], ['euuid', 216, 'uuid'], ['vuuid', 232, 'uuid'], ['ifnetProperties', 248, 'u16']],
    },
    {
      xnu: '8019.61.5',
      struct: 'nstat_udp_descriptor',
      size: 272,
      fields: [['fuuid', 248, 'uuid'], ['ifnetProperties', 264, 'u32'], ['fallbackMode', 268, 'u8']],
    },
    {
      xnu: '11215.61.5',
      struct: 'nstat_udp_descriptor',
      size: 280,
      fields: [['fuuid', 248, 'uuid'], ['personaId', 264, 'u32'], ['uid', 268, 'u32'], ['ifnetProperties', 272, 'u32'], ['fallbackMode', 276, 'u8']],
    },
    {
      xnu: '11215.61.5',
      struct: 'nstat_connection_descriptor',
      size: 200,
      fields: [['startTimestamp', 0, 'u64'], ['timestamp', 8, 'u64'], ['upid', 16, 'u64'], ['eupid', 24, 'u64'], ['pid', 32, 'u32'], ['epid', 36, 'u32'], ['ifnetProperties', 40, 'u32'], ['pname', 44, 'str'], ['uuid', 108, 'uuid'], ['euuid', 124, 'uuid'], ['cuuid', 140, 'uuid'], ['puuid', 156, 'uuid'], ['fuuid', 172, 'uuid'], ['personaId', 188, 'u32'], ['uid', 192, 'u32']],
    },
    {
      xnu: '8792.41.9',
      struct: 'nstat_connection_descriptor',
      size: 192,
      fields: [['pid', 32, 'u32'], ['pname', 44, 'str'], ['fuuid', 172, 'uuid']],
    },
    {
      xnu: '4570.1.46',
      struct: 'nstat_route_descriptor',
      size: 120,
      fields: [['dst', 24, 'sa6'], ['mask', 52, 'sa6'], ['gateway', 80, 'sa4'], ['ifindex', 108, 'u32'], ['flags', 112, 'u32']],
    },
    {
      xnu: '3247.1.106',
      struct: 'nstat_route_descriptor',
      size: 116,
      fields: [['dst', 24, 'sa4'], ['mask', 52, 'sa4'], ['gateway', 80, 'sa4'], ['ifindex', 108, 'u32'], ['flags', 112, 'u32']],
    },
    {
      xnu: '3789.1.32',
      struct: 'nstat_ifnet_descriptor',
      size: 248,
      fields: [['name', 0, 'str'], ['ifindex', 20, 'u32'], ['threshold', 24, 'u64'], ['type', 32, 'u32'], ['description', 36, 'str']],
    },
    {
      xnu: '10002.1.13',
      struct: 'nstat_ifnet_descriptor',
      size: 248,
      fields: [['threshold', 0, 'u64'], ['ifindex', 8, 'u32'], ['type', 96, 'u32'], ['description', 100, 'str'], ['name', 228, 'str']],
    },
  ];

  describe('BEHAVIOUR.md A.4 descriptor offsets (hand-written) decode as documented', () => {
    for (const spec of A4) {
      test(`xnu-${spec.xnu} ${spec.struct} (${spec.size} B)`, () => {
        const v = V(spec.xnu);
        const d = dialectOf(v);
        assert.equal(H.mustStruct(v, spec.struct).size, spec.size, 'JSON size agrees with BEHAVIOUR.md A.3');
        const image = new Uint8Array(spec.size);
        const dv = new DataView(image.buffer);
        const expected: Record<string, unknown> = {};
        spec.fields.forEach(([key, off, type], i) => {
          switch (type) {
            case 'u8':
              image[off] = 0x40 + i;
              expected[key] = 0x40 + i;
              break;
            case 'u16':
              dv.setUint16(off, 0x0500 + i, true);
              expected[key] = 0x0500 + i;
              break;
            case 'u32':
              dv.setUint32(off, 0x7000_0000 + i, true);
              expected[key] = 0x7000_0000 + i;
              break;
            case 'u64':
              dv.setBigUint64(off, 0x000a_bbcc_0000_0000n + BigInt(i), true);
              expected[key] = 0x000a_bbcc_0000_0000 + i;
              break;
            case 'sa4':
              H.writeSockaddr(image, off, { sa: 'in', addr: [203, 0, 113, i], port: 8000 + i });
              expected[key] = { family: 4, address: `203.0.113.${i}`, port: 8000 + i };
              break;
            case 'sa6':
              H.writeSockaddr(image, off, { sa: 'in6', addr: H.SAMPLE_V6[1][0], port: 9000 + i, scope: 11 });
              expected[key] = { family: 6, address: 'fe80::1', port: 9000 + i, scopeId: 11 };
              break;
            case 'uuid':
              image.set(H.uuidBytes(i), off);
              expected[key] = H.uuidText(H.uuidBytes(i));
              break;
            case 'str':
              image.set(new TextEncoder().encode(`s${i}`), off);
              expected[key] = `s${i}`;
              break;
          }
        });
        const provider = H.providersOf(v).find((p) => H.structOf(v, p.descriptor) === H.mustStruct(v, spec.struct))!;
        const bytes = H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: provider.id }, image);
        const [m] = decodeDatagram(bytes, d);
        assert.ok(m.kind === 'srcDesc' && m.descriptor);
        const got: Record<string, unknown> = {};
        for (const k of Object.keys(expected)) got[k] = (m.descriptor as Record<string, unknown>)[k];
        assert.deepEqual(got, expected);
        assert.deepEqual(encodeMessage(d, m), bytes);
      });
    }
  });

  // -------------------------------------------------------------------------------------------
  // Fidelity: data the kernel sends that must survive decode+encode (were gaps before 0c2694b).
  describe('fidelity', () => {
    test('ifnet descriptor link_status (84 B, 10.11+) is kept as its bytes and re-encoded', () => {
      for (const v of F.versions.filter((x) => H.structOf(x, 'nstat_ifnet_desc_link_status'))) {
        const d = dialectOf(v);
        const ls: H.Values = { link_status_type: H.constant(v, 'NSTAT_IFNET_DESC_LINK_STATUS_TYPE_WIFI'), u: { wifi: { valid_bitmask: 1, link_quality_metric: 90 } } };
        const image = H.buildStruct(v, 'nstat_ifnet_descriptor', { threshold: 0x100000n, ifindex: 4, type: 6, name: 'en0', link_status: ls });
        const ifnet = H.constant(v, 'NSTAT_PROVIDER_IFNET');
        const bytes = H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: ifnet }, image);
        const [m] = decodeDatagram(bytes, d);
        assert.ok(m.kind === 'srcDesc');
        const at = H.mustField(v, 'nstat_ifnet_descriptor', 'link_status');
        assert.deepEqual(m.descriptor?.linkStatus, image.slice(at.offset, at.offset + at.size), `xnu-${v.xnu}`);
        assert.deepEqual(encodeMessage(d, m), bytes, `xnu-${v.xnu}`);
      }
    });

    test(
      'route descriptor sockaddrs that are not a full AF_INET/AF_INET6 survive decode+encode',
      () => {
        const v = V('10002.1.13');
        const d = dialectOf(v);
        assert.ok(H.fieldOf(H.mustStruct(v, 'nstat_route_descriptor'), 'gateway')!.members!.some((m) => m.name === 'gateway.sa'));
        for (const [what, values] of [
          ['AF_LINK gateway', { gateway: { sa: 'raw', bytes: [20, 18, 4, 0, 6, 3, 6, 0, 0x65, 0x6e, 0x30, 1, 2, 3, 4, 5, 6] } }],
          ['short netmask', { mask: { sa: 'raw', bytes: [5, 2, 0, 0, 255, 255, 255] } }],
        ] as const) {
          const image = H.buildStruct(v, 'nstat_route_descriptor', { ifindex: 4, dst: { sa: 'in', addr: [192, 168, 1, 0], port: 0 }, ...values });
          const bytes = H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1n, provider: 1 }, image);
          const [m] = decodeDatagram(bytes, d);
          assert.deepEqual(encodeMessage(d, m), bytes, what);
        }
      },
    );

    test('ifnet description of 128 bytes without NUL survives decode+encode (BEHAVIOUR.md §5.7 "may lack a NUL")', () => {
      for (const v of F.versions.filter((x) => H.structOf(x, 'nstat_ifnet_descriptor'))) {
        const d = dialectOf(v);
        const desc = 'D'.repeat(128);
        const image = H.buildStruct(v, 'nstat_ifnet_descriptor', { threshold: 0x100000n, ifindex: 4, name: 'en0', description: desc });
        const ifnet = H.constant(v, 'NSTAT_PROVIDER_IFNET');
        const bytes = H.buildMessage(v, 'nstat_msg_src_description', { context: 0n, type: 10003 }, { srcref: 1, provider: ifnet }, image);
        const [m] = decodeDatagram(bytes, d);
        assert.equal(m.kind === 'srcDesc' && m.descriptor?.description, desc, `xnu-${v.xnu}: decode keeps all 128 bytes`);
        assert.deepEqual(encodeMessage(d, m), bytes, `xnu-${v.xnu}`);
      }
    });
  });
}
