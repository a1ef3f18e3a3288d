/**
 * The ifnet provider's wire shapes per header version (issue 13 §2, BEHAVIOUR.md §2.2, A.4):
 * the ADD_SRC parameter bytes and the descriptor's field offsets, checked against
 * ntstat-layouts.json (read here, independently of src/) and against the offsets BEHAVIOUR.md
 * A.4 states by hand; link status decoded by its VALID bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allDialects, decodeDatagram, encodeMessage, type Dialect } from '../src/protocol/index.js';
import { decodeIfnetLinkStatus, encodeIfnetAddParam, encodeIfnetLinkStatus, hasIfnetProvider, IFNET_MIN_THRESHOLD } from '../src/protocol/ifnet.js';
import { constant, facts, fieldOf, mustFacts, mustStruct, needsFacts, type JVersion } from './helpers/facts.js';

/** BEHAVIOUR.md A.4 / §2.2, by hand: [threshold, ifindex] of the param; descriptor offsets. */
const PARAM_11_12 = { size: 12, ifindex: 0, threshold: 4 };
const PARAM_13 = { size: 16, ifindex: 8, threshold: 0 };
const DESC_11_12 = { name: 0, ifindex: 20, threshold: 24, type: 32, description: 36, link_status: 164 };
const DESC_13 = { threshold: 0, ifindex: 8, link_status: 12, type: 96, description: 100, name: 228 };

function versionsWithIfnet(): JVersion[] {
  return mustFacts().versions.filter((v) => v.structs.nstat_ifnet_add_param !== undefined && Number(v.xnu.split('.')[0]) >= 3247);
}

function dialectOf(v: JVersion): Dialect {
  const d = allDialects().find((x) => x.xnu === v.xnu);
  assert.ok(d, `a dialect for xnu-${v.xnu}`);
  return d;
}

const u64 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);

test('ADD_SRC ifnet param: bytes at the offsets of ntstat-layouts.json and BEHAVIOUR.md §2.2 for every header version', needsFacts(), () => {
  const versions = versionsWithIfnet();
  assert.ok(versions.length >= 15, `${versions.length} header versions with ifnet (10.11+)`);
  for (const v of versions) {
    const s = mustStruct(v, 'nstat_ifnet_add_param');
    const hand = Number(v.xnu.split('.')[0]) < 4570 ? PARAM_11_12 : PARAM_13;
    assert.equal(s.size, hand.size, `xnu-${v.xnu} param size`);
    assert.equal(fieldOf(s, 'ifindex')!.offset, hand.ifindex, `xnu-${v.xnu} ifindex offset`);
    assert.equal(fieldOf(s, 'threshold')!.offset, hand.threshold, `xnu-${v.xnu} threshold offset`);
    // A threshold above 2^32 proves the whole u64 is written.
    const threshold = 0x1_2345_6789;
    const b = encodeIfnetAddParam(dialectOf(v), 15, threshold);
    assert.equal(b.length, hand.size);
    assert.equal(u32(b, hand.ifindex), 15);
    assert.equal(u64(b, hand.threshold), BigInt(threshold));
    const rest = [...b].filter((_, i) => !(i >= hand.ifindex && i < hand.ifindex + 4) && !(i >= hand.threshold && i < hand.threshold + 8));
    assert.ok(rest.every((x) => x === 0), `xnu-${v.xnu}: reserved bytes zero`);
    // The whole request: provider id at 16, param after the fixed part (20 before 10.13, 24 after).
    const d = dialectOf(v);
    const req = encodeMessage(d, { kind: 'addSrc', context: 9n, flags: 0, provider: constant(v, 'NSTAT_PROVIDER_IFNET'), param: b });
    const fixed = fieldOf(mustStruct(v, 'nstat_msg_add_src'), 'param')!.offset;
    assert.equal(req.length, fixed + hand.size);
    assert.equal(u32(req, 16), constant(v, 'NSTAT_PROVIDER_IFNET'));
    assert.deepEqual([...req.subarray(fixed)], [...b]);
  }
});

test('ADD_SRC ifnet param: the provider ids and the 1 MiB minimum are the spec values', needsFacts(), () => {
  assert.equal(IFNET_MIN_THRESHOLD, 1048576);
  const f = mustFacts();
  const id = (xnu: string) => constant(f.versions.find((v) => v.xnu === xnu)!, 'NSTAT_PROVIDER_IFNET');
  assert.equal(id('3247.1.106'), 4); // 10.11
  assert.equal(id('3789.1.32'), 6); // 10.12+ (renumbered, BEHAVIOUR.md A.1)
  assert.equal(id('11215.61.5'), 6);
  assert.throws(() => encodeIfnetAddParam(dialectOf(f.versions.find((v) => v.xnu === '4570.1.46')!), -1, IFNET_MIN_THRESHOLD), /ifindex/);
  const old = allDialects().find((d) => d.family === 'd2050')!;
  assert.equal(hasIfnetProvider(old), false, '10.8 has no ifnet provider');
  assert.throws(() => encodeIfnetAddParam(old, 1, IFNET_MIN_THRESHOLD), (e: Error & { code?: string }) => e.code === 'ERR_NTSTAT_UNSUPPORTED');
});

test('ifnet descriptor: field offsets (A.4 by hand and the JSON) and decoding of hand-placed bytes, every version', needsFacts(), () => {
  for (const v of versionsWithIfnet()) {
    const s = mustStruct(v, 'nstat_ifnet_descriptor');
    assert.equal(s.size, 248, `xnu-${v.xnu}: 248 B in all (A.3)`);
    const hand: Record<string, number> = Number(v.xnu.split('.')[0]) < 4570 ? DESC_11_12 : DESC_13;
    for (const [name, off] of Object.entries(hand)) assert.equal(fieldOf(s, name)!.offset, off, `xnu-${v.xnu} ${name}`);
    // A SRC_DESC built by hand at those offsets decodes to the same values.
    const d = dialectOf(v);
    const descMsg = mustStruct(v, 'nstat_msg_src_description');
    const dataAt = fieldOf(descMsg, 'data')!.offset;
    const msg = new Uint8Array(dataAt + 248);
    const dv = new DataView(msg.buffer);
    dv.setUint32(8, 10003, true);
    dv.setUint16(12, msg.length, true);
    const srcrefOff = fieldOf(descMsg, 'srcref')!.offset;
    if (fieldOf(descMsg, 'srcref')!.size === 8) dv.setBigUint64(srcrefOff, 77n, true);
    else dv.setUint32(srcrefOff, 77, true);
    dv.setUint32(fieldOf(descMsg, 'provider')!.offset, constant(v, 'NSTAT_PROVIDER_IFNET'), true);
    const base = dataAt;
    msg.set(new TextEncoder().encode('en0'), base + hand.name);
    dv.setUint32(base + hand.ifindex, 4, true);
    dv.setBigUint64(base + hand.threshold, 5n << 30n, true);
    dv.setUint32(base + hand.type, 6, true);
    msg.set(new TextEncoder().encode('Wi-Fi'), base + hand.description);
    // Link status: Wi-Fi report, link quality metric valid (bit from the JSON constants).
    const ls = base + hand.link_status;
    dv.setUint32(ls, constant(v, 'NSTAT_IFNET_DESC_LINK_STATUS_TYPE_WIFI'), true);
    const wifi = mustStruct(v, 'nstat_ifnet_desc_wifi_status');
    dv.setUint32(ls + 4 + fieldOf(wifi, 'valid_bitmask')!.offset, constant(v, 'NSTAT_IFNET_DESC_WIFI_LINK_QUALITY_METRIC_VALID'), true);
    dv.setUint32(ls + 4 + fieldOf(wifi, 'link_quality_metric')!.offset, 100, true);
    dv.setUint32(ls + 4 + fieldOf(wifi, 'dl_max_bandwidth')!.offset, 999, true); // not valid: never shown
    const [m] = decodeDatagram(msg, d);
    assert.ok(m.kind === 'srcDesc' && m.descriptor, `xnu-${v.xnu} decodes`);
    const desc = m.descriptor;
    assert.equal(desc.name, 'en0');
    assert.equal(desc.ifindex, 4);
    assert.equal(desc.threshold, 5 * 2 ** 30);
    assert.equal(desc.type, 6);
    assert.equal(desc.description, 'Wi-Fi');
    assert.deepEqual(decodeIfnetLinkStatus(d, desc.linkStatus as Uint8Array), { type: 'wifi', fields: { linkQualityMetric: 100 } });
  }
});

test('link status: cellular report round trip; none; unknown type kept as its value', needsFacts(), () => {
  for (const xnu of ['3247.1.106', '4570.1.46', '11215.61.5']) {
    const v = mustFacts().versions.find((x) => x.xnu === xnu)!;
    const d = dialectOf(v);
    const bytes = encodeIfnetLinkStatus(d, { type: 'cellular', fields: { linkQualityMetric: 50, dlMaxBandwidth: 120_000 } })!;
    const cell = mustStruct(v, 'nstat_ifnet_desc_cellular_status');
    assert.equal(u32(bytes, 0), constant(v, 'NSTAT_IFNET_DESC_LINK_STATUS_TYPE_CELLULAR'));
    assert.equal(u32(bytes, 4 + fieldOf(cell, 'valid_bitmask')!.offset), constant(v, 'NSTAT_IFNET_DESC_CELL_LINK_QUALITY_METRIC_VALID') | constant(v, 'NSTAT_IFNET_DESC_CELL_DL_MAX_BANDWIDTH_VALID'));
    assert.equal(u32(bytes, 4 + fieldOf(cell, 'dl_max_bandwidth')!.offset), 120_000);
    assert.deepEqual(decodeIfnetLinkStatus(d, bytes), { type: 'cellular', fields: { linkQualityMetric: 50, dlMaxBandwidth: 120_000 } });
    assert.deepEqual(decodeIfnetLinkStatus(d, undefined), { type: 'none' });
    const odd = new Uint8Array(84);
    odd[0] = 9;
    assert.deepEqual(decodeIfnetLinkStatus(d, odd), { type: 'unknown', typeValue: 9 });
  }
  // Ethernet exists as a type from 10.13 (BEHAVIOUR.md §5.7), not before.
  const d11 = dialectOf(mustFacts().versions.find((x) => x.xnu === '3247.1.106')!);
  assert.throws(() => encodeIfnetLinkStatus(d11, { type: 'ethernet' }), /ethernet/);
  assert.ok(facts === undefined || facts.versions.length > 0);
});
