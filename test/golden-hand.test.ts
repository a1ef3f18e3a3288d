/**
 * Every field of the kernel TCP and UDP descriptors and of nstat_counts, for macOS 10.13, 11, 12.1
 * and 14, written by hand from XNU's bsd/net/ntstat.h of each tag (offsets computed by hand with
 * LP64 rules: u64 fields aligned to 8, activity_bitmap_t = u64 start + 2 × u64 bits = 24 B,
 * sockaddr unions 28 B, uuid 16 B, pname 64 B, cc_algo 16 B) — not from ntstat-layouts.json, so a
 * consistent swap of two same-size fields in the facts (and in the tables generated from them)
 * fails here (issue 13 §4). Message headers are hand-assembled too (BEHAVIOUR.md A.2, 13+:
 * SRC_DESC = hdr 16, srcref u64 16, event_flags u64 24, provider u32 32, pad 36, data 40;
 * SRC_COUNTS = hdr, srcref 16, event_flags 24, counts 32 → 144; 10.12 SRC_COUNTS has the same
 * offsets with the old counts order).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeDatagram, dialectFor, encodeMessage } from '../src/protocol/index.js';

type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'sa4' | 'sa6' | 'uuid' | 'str' | 'activity';
type Field = [key: string, offset: number, kind: Kind];

// Fields of 13+ kernel TCP, in header order; 10.13 (xnu-4570.1.46).
const TCP_1013: Field[] = [
  ['upid', 0, 'u64'], ['eupid', 8, 'u64'], ['startTimestamp', 16, 'u64'], ['timestamp', 24, 'u64'],
  ['activityBitmap', 32, 'activity'],
  ['ifindex', 56, 'u32'], ['state', 60, 'u32'], ['sndbufsize', 64, 'u32'], ['sndbufused', 68, 'u32'],
  ['rcvbufsize', 72, 'u32'], ['rcvbufused', 76, 'u32'], ['txunacked', 80, 'u32'], ['txwindow', 84, 'u32'],
  ['txcwindow', 88, 'u32'], ['trafficClass', 92, 'u32'], ['trafficMgtFlags', 96, 'u32'],
  ['pid', 100, 'u32'], ['epid', 104, 'u32'], ['local', 108, 'sa4'], ['remote', 136, 'sa6'],
  ['ccAlgo', 164, 'str'], ['pname', 180, 'str'], ['uuid', 244, 'uuid'], ['euuid', 260, 'uuid'],
  ['vuuid', 276, 'uuid'], ['connstatus', 292, 'u32'], ['ifnetProperties', 296, 'u16'],
];
// macOS 11 (xnu-7195.50.7.100.1): rx/tx_transfer_size after timestamp shift the rest by 16; fuuid.
const TCP_11: Field[] = [
  ['upid', 0, 'u64'], ['eupid', 8, 'u64'], ['startTimestamp', 16, 'u64'], ['timestamp', 24, 'u64'],
  ['rxTransferSize', 32, 'u64'], ['txTransferSize', 40, 'u64'], ['activityBitmap', 48, 'activity'],
  ['ifindex', 72, 'u32'], ['state', 76, 'u32'], ['sndbufsize', 80, 'u32'], ['sndbufused', 84, 'u32'],
  ['rcvbufsize', 88, 'u32'], ['rcvbufused', 92, 'u32'], ['txunacked', 96, 'u32'], ['txwindow', 100, 'u32'],
  ['txcwindow', 104, 'u32'], ['trafficClass', 108, 'u32'], ['trafficMgtFlags', 112, 'u32'],
  ['pid', 116, 'u32'], ['epid', 120, 'u32'], ['local', 124, 'sa6'], ['remote', 152, 'sa4'],
  ['ccAlgo', 180, 'str'], ['pname', 196, 'str'], ['uuid', 260, 'uuid'], ['euuid', 276, 'uuid'],
  ['vuuid', 292, 'uuid'], ['fuuid', 308, 'uuid'], ['connstatus', 324, 'u32'], ['ifnetProperties', 328, 'u16'],
];
// macOS 12.1 (xnu-8019.61.5): ifnet_properties u32 (aligned 4) and fallback_mode u8.
const TCP_121: Field[] = [...TCP_11.filter(([k]) => k !== 'ifnetProperties'), ['ifnetProperties', 328, 'u32'], ['fallbackMode', 332, 'u8']];
// macOS 14 (xnu-10002.1.13): persona_id and uid (uid_t) after fuuid.
const TCP_14: Field[] = [
  ...TCP_11.filter(([k]) => k !== 'ifnetProperties' && k !== 'connstatus'),
  ['personaId', 324, 'u32'], ['uid', 328, 'u32'], ['connstatus', 332, 'u32'], ['ifnetProperties', 336, 'u32'], ['fallbackMode', 340, 'u8'],
];

const UDP_1013: Field[] = [
  ['upid', 0, 'u64'], ['eupid', 8, 'u64'], ['startTimestamp', 16, 'u64'], ['timestamp', 24, 'u64'],
  ['activityBitmap', 32, 'activity'], ['local', 56, 'sa6'], ['remote', 84, 'sa4'],
  ['ifindex', 112, 'u32'], ['rcvbufsize', 116, 'u32'], ['rcvbufused', 120, 'u32'], ['trafficClass', 124, 'u32'],
  ['pid', 128, 'u32'], ['pname', 132, 'str'], ['epid', 196, 'u32'],
  ['uuid', 200, 'uuid'], ['euuid', 216, 'uuid'], ['vuuid', 232, 'uuid'], ['ifnetProperties', 248, 'u16'],
];
const UDP_11: Field[] = [...UDP_1013.filter(([k]) => k !== 'ifnetProperties'), ['fuuid', 248, 'uuid'], ['ifnetProperties', 264, 'u16']];
const UDP_121: Field[] = [...UDP_1013.filter(([k]) => k !== 'ifnetProperties'), ['fuuid', 248, 'uuid'], ['ifnetProperties', 264, 'u32'], ['fallbackMode', 268, 'u8']];
const UDP_14: Field[] = [
  ...UDP_1013.filter(([k]) => k !== 'ifnetProperties'),
  ['fuuid', 248, 'uuid'], ['personaId', 264, 'u32'], ['uid', 268, 'u32'], ['ifnetProperties', 272, 'u32'], ['fallbackMode', 276, 'u8'],
];

// nstat_counts from 10.13 on: four u64 totals, per-medium u64 bytes, then eight u32.
const COUNTS_13: Field[] = [
  ['rxPackets', 0, 'u64'], ['rxBytes', 8, 'u64'], ['txPackets', 16, 'u64'], ['txBytes', 24, 'u64'],
  ['cellRxBytes', 32, 'u64'], ['cellTxBytes', 40, 'u64'], ['wifiRxBytes', 48, 'u64'], ['wifiTxBytes', 56, 'u64'],
  ['wiredRxBytes', 64, 'u64'], ['wiredTxBytes', 72, 'u64'],
  ['rxDuplicateBytes', 80, 'u32'], ['rxOutOfOrderBytes', 84, 'u32'], ['txRetransmit', 88, 'u32'],
  ['connectAttempts', 92, 'u32'], ['connectSuccesses', 96, 'u32'], ['minRtt', 100, 'u32'], ['avgRtt', 104, 'u32'], ['varRtt', 108, 'u32'],
];
// 10.11/10.12 order (pack 4): the eight u32 come before the per-medium bytes.
const COUNTS_12: Field[] = [
  ['rxPackets', 0, 'u64'], ['rxBytes', 8, 'u64'], ['txPackets', 16, 'u64'], ['txBytes', 24, 'u64'],
  ['rxDuplicateBytes', 32, 'u32'], ['rxOutOfOrderBytes', 36, 'u32'], ['txRetransmit', 40, 'u32'],
  ['connectAttempts', 44, 'u32'], ['connectSuccesses', 48, 'u32'], ['minRtt', 52, 'u32'], ['avgRtt', 56, 'u32'], ['varRtt', 60, 'u32'],
  ['cellRxBytes', 64, 'u64'], ['cellTxBytes', 72, 'u64'], ['wifiRxBytes', 80, 'u64'], ['wifiTxBytes', 88, 'u64'],
  ['wiredRxBytes', 96, 'u64'], ['wiredTxBytes', 104, 'u64'],
];

const VERSIONS = [
  { macos: '10.13', xnu: '4570.1.46', tcp: [TCP_1013, 304], udp: [UDP_1013, 256], counts: COUNTS_13 },
  { macos: '11', xnu: '7195.50.7.100.1', tcp: [TCP_11, 336], udp: [UDP_11, 272], counts: COUNTS_13 },
  { macos: '12.1', xnu: '8019.61.5', tcp: [TCP_121, 336], udp: [UDP_121, 272], counts: COUNTS_13 },
  { macos: '14', xnu: '10002.1.13', tcp: [TCP_14, 344], udp: [UDP_14, 280], counts: COUNTS_13 },
] as const;

function uuid(i: number): { bytes: Uint8Array; text: string } {
  const b = new Uint8Array(16).map((_, j) => (i * 16 + j + 1) & 0xff);
  const h = Buffer.from(b).toString('hex');
  return { bytes: b, text: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}

/** Fill `image` with a distinct value per field; return what each field must decode to. */
function fill(image: Uint8Array, fields: readonly Field[]): Record<string, unknown> {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const want: Record<string, unknown> = {};
  fields.forEach(([key, off, kind], i) => {
    const n = i + 1;
    switch (kind) {
      case 'u8':
        image[off] = 0x30 + n;
        want[key] = 0x30 + n;
        break;
      case 'u16':
        dv.setUint16(off, 0x0400 + n, true);
        want[key] = 0x0400 + n;
        break;
      case 'u32':
        dv.setUint32(off, 0x6100_0000 + n, true);
        want[key] = 0x6100_0000 + n;
        break;
      case 'u64':
        dv.setBigUint64(off, 0x0007_0000_0000_0000n + BigInt(n) * 0x1_0000_0001n, true);
        want[key] = 0x0007_0000_0000_0000 + n * 0x1_0000_0001;
        break;
      case 'sa4': // sockaddr_in: len 16, AF_INET 2, port (big-endian), address
        image.set([16, 2, 0x1f, 0x40 + n, 198, 51, 100, n], off);
        want[key] = { family: 4, address: `198.51.100.${n}`, port: 0x1f40 + n };
        break;
      case 'sa6': // sockaddr_in6: len 28, AF_INET6 30 (Darwin), port, flowinfo, 2001:db8::n, scope
        image.set([28, 30, 0x23, 0x28 + n], off);
        image.set([0x20, 0x01, 0x0d, 0xb8], off + 8);
        image[off + 23] = n;
        want[key] = { family: 6, address: `2001:db8::${n.toString(16)}`, port: 0x2328 + n };
        break;
      case 'uuid': {
        const u = uuid(n);
        image.set(u.bytes, off);
        want[key] = u.text;
        break;
      }
      case 'str':
        image.set(new TextEncoder().encode(`f${n}x`), off);
        want[key] = `f${n}x`;
        break;
      case 'activity': // activity_bitmap_t: start u64, bitmap[2] u64
        dv.setBigUint64(off, BigInt(5000 + n), true);
        image.fill(0xa5, off + 8, off + 24);
        want[key] = { start: 5000 + n, bits: 'a5'.repeat(16) };
        break;
    }
  });
  return want;
}

/** A 13+ SRC_DESC by hand: header, srcref, event_flags, provider, pad, descriptor. */
function srcDesc(provider: number, image: Uint8Array): Uint8Array {
  const b = new Uint8Array(40 + image.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, 10003, true);
  dv.setUint16(12, b.length, true);
  dv.setBigUint64(16, 77n, true);
  dv.setUint32(32, provider, true);
  b.set(image, 40);
  return b;
}

function srcCounts(image: Uint8Array): Uint8Array {
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, 10004, true);
  dv.setUint16(12, 144, true);
  dv.setBigUint64(16, 78n, true);
  b.set(image, 32);
  return b;
}

function pick(o: object, keys: readonly string[]): Record<string, unknown> {
  const r = o as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}

describe('hand-written layouts from XNU headers: every TCP/UDP descriptor field and nstat_counts', () => {
  for (const v of VERSIONS) {
    const d = dialectFor(v.xnu);
    for (const [name, provider, [fields, size]] of [
      ['TCP', 2, v.tcp],
      ['UDP', 4, v.udp],
    ] as const) {
      test(`macOS ${v.macos} (xnu-${v.xnu}) ${name} descriptor, ${size} B, ${fields.length} fields`, () => {
        // Fields must not overlap and must fit: the table itself is checked before use.
        const image = new Uint8Array(size);
        const want = fill(image, fields);
        const bytes = srcDesc(provider, image);
        const [m] = decodeDatagram(bytes, d);
        assert.ok(m.kind === 'srcDesc' && m.descriptor, 'decodes as SRC_DESC with a descriptor');
        assert.equal(m.srcref, 77n);
        assert.equal(m.provider, provider);
        assert.deepEqual(pick(m.descriptor, Object.keys(want)), want);
        assert.deepEqual(encodeMessage(d, m), bytes, 're-encodes to the same bytes');
      });
    }
    test(`macOS ${v.macos} (xnu-${v.xnu}) nstat_counts, 112 B, 18 fields`, () => {
      const image = new Uint8Array(112);
      const want = fill(image, v.counts);
      const [m] = decodeDatagram(srcCounts(image), d);
      assert.ok(m.kind === 'srcCounts');
      assert.deepEqual(pick(m.counts, Object.keys(want)), want);
    });
  }
  test('macOS 10.12 (xnu-3789.1.32) nstat_counts in the old order, 112 B, 18 fields', () => {
    const image = new Uint8Array(112);
    const want = fill(image, COUNTS_12);
    const [m] = decodeDatagram(srcCounts(image), dialectFor('3789.1.32'));
    assert.ok(m.kind === 'srcCounts');
    assert.deepEqual(pick(m.counts, Object.keys(want)), want);
  });
});
