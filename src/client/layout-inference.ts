/**
 * Layout inference for the self-test (issue 12). Pure: raw message bytes in, checks and struct
 * tables out.
 *
 * The calibration flow's facts are known (ports, pid, name, uid, bytes each way), so:
 *  - `checkFlow` decodes the flow's messages with a dialect and compares every known value;
 *  - `inferDialect` looks for the known values in the bytes themselves (sockaddrs with the ports,
 *    the pid as u32, the name, the byte counts as u64) and derives where each field now is.
 * Placement rule: a field is placed when its value was found (an anchor), or when it lies between
 * two anchors that moved by the same amount (the struct start and end count as anchors): nothing
 * can have been inserted between them. Every other field is left out of the adjusted tables, so
 * it is never read: no value from an unverified offset is ever printed.
 */
import { MessageType, providerName } from '../protocol/constants.js';
import type { Dialect, FieldLayout, StructLayout } from '../protocol/dialect.js';
import { decodeDatagram } from '../protocol/decode.js';
import type { Counts, Descriptor, Message } from '../protocol/messages.js';
import { encodeSockaddr, type Endpoint } from '../protocol/sockaddr.js';
import type { CalibrationEndpointFacts, CalibrationFlowFacts } from './calibration-flow.js';

export interface RawMessage {
  type: number;
  bytes: Uint8Array;
}

export type CheckedMessage = 'SRC_UPDATE' | 'SRC_DESC' | 'SRC_COUNTS';

export interface LayoutCheck {
  message: CheckedMessage;
  flow: string;
  field: string;
  ok: boolean;
  want?: string | number;
  got?: string | number;
}

/** A side's messages, found by content (addresses) and srcref, never by the assumed layout. */
export interface SideMessages {
  update?: RawMessage;
  desc?: RawMessage;
  counts?: RawMessage;
}

const SRCREF_AT = 16; // srcref follows the 16-byte header in every source message (10.13+ layouts)
const LOOPBACK_IFINDEX = 1; // lo0 is the first interface Darwin attaches

function sockaddrBytes(ep: Endpoint): Uint8Array {
  const b = new Uint8Array(28);
  encodeSockaddr(b, new DataView(b.buffer), 0, ep);
  return b;
}

/** Offsets where the sockaddr of `ep` starts (v4: len..addr; v6: len..port and the address). */
export function findSockaddr(msg: Uint8Array, ep: Endpoint, from = 0): number[] {
  const want = sockaddrBytes(ep);
  const spans: [number, number][] = ep.family === 4 ? [[0, 8]] : [[0, 4], [8, 24]];
  const out: number[] = [];
  const last = msg.length - (ep.family === 4 ? 8 : 24);
  outer: for (let o = from; o <= last; o++) {
    for (const [s, e] of spans) for (let i = s; i < e; i++) if (msg[o + i] !== want[i]) continue outer;
    out.push(o);
  }
  return out;
}

function findU32(msg: Uint8Array, value: number, from: number, to: number): number[] {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const out: number[] = [];
  for (let o = from; o + 4 <= Math.min(to, msg.length); o += 4) if (dv.getUint32(o, true) === value >>> 0) out.push(o);
  return out;
}

function findU64(msg: Uint8Array, value: number, from: number, to: number): number[] {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const out: number[] = [];
  for (let o = from; o + 8 <= Math.min(to, msg.length); o += 8) if (dv.getBigUint64(o, true) === BigInt(value)) out.push(o);
  return out;
}

function findName(msg: Uint8Array, name: string, from: number): number[] {
  const want = new TextEncoder().encode(name);
  const out: number[] = [];
  outer: for (let o = from; o + want.length < msg.length; o++) {
    for (let i = 0; i < want.length; i++) if (msg[o + i] !== want[i]) continue outer;
    if (o > 0 && msg[o - 1] !== 0) continue; // a string field starts after a NUL or at a field edge
    out.push(o);
  }
  return out;
}

const srcrefOf = (m: RawMessage) => new DataView(m.bytes.buffer, m.bytes.byteOffset).getBigUint64(SRCREF_AT, true);

/** The messages of one side of a flow: those carrying both its sockaddrs; counts by srcref. */
export function findSide(raw: readonly RawMessage[], side: CalibrationEndpointFacts): SideMessages {
  const out: SideMessages = {};
  // Both ends of a loopback flow carry both sockaddrs; the end is told by their order: `local`
  // precedes `remote` in every published layout (LAYOUTS.md), and no change has swapped them.
  const mine = (m: RawMessage) => {
    const l = findSockaddr(m.bytes, side.local);
    const r = findSockaddr(m.bytes, side.remote);
    return l.length > 0 && r.length > 0 && l[0] < r[0];
  };
  for (const m of raw) {
    if (m.type === MessageType.SRC_UPDATE && mine(m)) out.update = m;
    else if (m.type === MessageType.SRC_DESC && mine(m)) out.desc = m;
  }
  const ref = out.desc ?? out.update;
  if (ref && ref.bytes.length >= SRCREF_AT + 8) {
    const srcref = srcrefOf(ref);
    for (const m of raw) if (m.type === MessageType.SRC_COUNTS && m.bytes.length >= SRCREF_AT + 8 && srcrefOf(m) === srcref) out.counts = m;
  }
  return out;
}

export function flowName(f: CalibrationFlowFacts): string {
  return `${f.proto}${f.family}`;
}

// ---------------------------------------------------------------------------------------------
// Checking a flow with a dialect

function sameEndpoint(v: unknown, ep: Endpoint): boolean {
  const e = v as Endpoint | undefined;
  return !!e && e.family === ep.family && e.address === ep.address && e.port === ep.port;
}

const epText = (v: unknown) => {
  const e = v as Endpoint | undefined;
  return e && typeof e === 'object' && 'address' in e ? `${e.address}:${e.port}` : String(v);
};

/** Kernel name vs our name: p_comm keeps 16 bytes, p_name 32; either may be the shorter. */
function nameMatches(got: unknown, want: string): boolean {
  return typeof got === 'string' && got.length > 0 && (want.startsWith(got) || got.startsWith(want)) && got.length >= Math.min(want.length, 15);
}

function decodeOne(d: Dialect, m: RawMessage): Message | undefined {
  try {
    return decodeDatagram(m.bytes, d, { unknownTypes: 'skip' })[0];
  } catch {
    return undefined;
  }
}

/**
 * Every known fact of one flow, checked in each of its messages decoded with `d`. A field the
 * dialect does not have (left out by inference) is not checked: it is never printed either.
 */
export function checkFlow(d: Dialect, flow: CalibrationFlowFacts, msgs: readonly SideMessages[]): LayoutCheck[] {
  const out: LayoutCheck[] = [];
  const name = flowName(flow);
  const loopback = d.constants['NSTAT_IFNET_IS_LOOPBACK'];
  msgs.forEach((sm, i) => {
    const side = flow.sides[i];
    const check = (message: CheckedMessage, field: string, ok: boolean, want?: string | number, got?: string | number) => {
      const c: LayoutCheck = { message, flow: `${name} side ${i}`, field, ok };
      if (want !== undefined) c.want = want;
      if (got !== undefined) c.got = got;
      out.push(c);
    };
    const descriptorChecks = (message: CheckedMessage, m: Message | undefined, layout: StructLayout | undefined) => {
      const provider = m && (m.kind === 'srcDesc' || m.kind === 'srcUpdate') ? m.provider : undefined;
      const pname = provider === undefined ? undefined : providerName(d, provider);
      check(message, 'provider', pname !== undefined && pname.startsWith(flow.proto), flow.proto, pname ?? String(provider));
      const x: Descriptor | undefined = m && (m.kind === 'srcDesc' || m.kind === 'srcUpdate') ? m.descriptor : undefined;
      if (!x || !layout) return;
      const has = (f: string) => layout.byName.has(f);
      if (has('local')) check(message, 'local', sameEndpoint(x.local, side.local), epText(side.local), epText(x.local));
      if (has('remote')) check(message, 'remote', sameEndpoint(x.remote, side.remote), epText(side.remote), epText(x.remote));
      if (has('pid')) check(message, 'pid', x.pid === flow.pid, flow.pid, x.pid as number);
      if (has('pname')) check(message, 'pname', nameMatches(x.pname, flow.process), flow.process, String(x.pname ?? ''));
      if (flow.proto === 'tcp' && has('state')) check(message, 'state', x.state === 4, 4, x.state as number);
      if (has('ifindex')) check(message, 'ifindex', x.ifindex === LOOPBACK_IFINDEX, LOOPBACK_IFINDEX, x.ifindex as number);
      if (has('ifnet_properties') && typeof loopback === 'number') {
        check(message, 'ifnet_properties', ((x.ifnetProperties as number) & loopback) !== 0, 'LOOPBACK', x.ifnetProperties as number);
      }
      // uid 0 cannot be told from zero padding: only a non-zero uid is a check.
      if (has('uid') && flow.uid) check(message, 'uid', x.uid === flow.uid, flow.uid, x.uid as number);
    };
    const countsChecks = (message: CheckedMessage, c: Counts | undefined) => {
      if (!c) return;
      if (countsFields(d).has('nstat_rxbytes')) check(message, 'rxbytes', c.rxBytes === side.rxBytes, side.rxBytes, c.rxBytes);
      if (countsFields(d).has('nstat_txbytes')) check(message, 'txbytes', c.txBytes === side.txBytes, side.txBytes, c.txBytes);
      if (countsFields(d).has('nstat_rxpackets')) check(message, 'rxpackets', c.rxPackets > 0, '> 0', c.rxPackets);
      if (countsFields(d).has('nstat_txpackets')) check(message, 'txpackets', c.txPackets > 0, '> 0', c.txPackets);
    };
    const descLayout = d.structs.get(flow.proto === 'tcp' ? 'nstat_tcp_descriptor' : 'nstat_udp_descriptor');
    if (sm.update) {
      const m = decodeOne(d, sm.update);
      check('SRC_UPDATE', 'decodes', m?.kind === 'srcUpdate');
      descriptorChecks('SRC_UPDATE', m, descLayout);
      countsChecks('SRC_UPDATE', m?.kind === 'srcUpdate' ? m.counts : undefined);
    }
    if (sm.desc) {
      const m = decodeOne(d, sm.desc);
      check('SRC_DESC', 'decodes', m?.kind === 'srcDesc');
      descriptorChecks('SRC_DESC', m, descLayout);
    }
    if (sm.counts) {
      const m = decodeOne(d, sm.counts);
      check('SRC_COUNTS', 'decodes', m?.kind === 'srcCounts');
      countsChecks('SRC_COUNTS', m?.kind === 'srcCounts' ? m.counts : undefined);
    }
  });
  return out;
}

function countsFields(d: Dialect): ReadonlyMap<string, FieldLayout> {
  return d.structs.get('nstat_counts')?.byName ?? new Map();
}

// ---------------------------------------------------------------------------------------------
// Inference

interface Anchor {
  name: string;
  /** Offset in the assumed layout. */
  assumed: number;
  /** Offset found in the bytes. */
  found: number;
}

export interface Placement {
  layout: StructLayout;
  /** Top-level fields kept (placed) and dropped (not placed). */
  kept: string[];
  dropped: string[];
  anchors: Record<string, number>;
}

const reportable = (f: FieldLayout) => !f.name.includes('.') && !f.name.startsWith('(') && f.name !== 'reserved' && !f.name.startsWith('__pad');

function layoutOf(name: string, size: number, align: number, fields: FieldLayout[]): StructLayout {
  const byName = new Map<string, FieldLayout>();
  for (const f of fields) if (!byName.has(f.name)) byName.set(f.name, f);
  return { name, size, align, fields, byName };
}

/** Place the assumed layout's fields in a region of `size` bytes given the anchors found there. */
export function place(assumed: StructLayout, anchors: readonly Anchor[], size: number): Placement {
  const all = [{ name: '(start)', assumed: 0, found: 0 }, ...anchors, { name: '(end)', assumed: assumed.size, found: size }].sort((a, b) => a.assumed - b.assumed);
  const byName = new Map(anchors.map((a) => [a.name, a]));
  const fields: FieldLayout[] = [];
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const f of assumed.fields) {
    const top = f.name.split('.')[0];
    const own = byName.get(top);
    let delta: number | undefined;
    if (own) delta = own.found - own.assumed;
    else {
      const prev = [...all].reverse().find((a) => a.assumed <= f.offset);
      const next = all.find((a) => a.assumed >= f.offset + f.size);
      if (prev && next && prev.found - prev.assumed === next.found - next.assumed) delta = prev.found - prev.assumed;
    }
    const ok = delta !== undefined && f.offset + delta >= 0 && f.offset + delta + f.size <= size;
    if (ok) fields.push(delta === 0 ? f : { ...f, offset: f.offset + delta! });
    if (reportable(f)) (ok ? kept : dropped).push(f.name);
  }
  return { layout: layoutOf(assumed.name, size, assumed.align, fields), kept, dropped, anchors: Object.fromEntries(anchors.map((a) => [a.name, a.found])) };
}

/** The one offset all sides agree on, or undefined (not found, or ambiguous). */
function agreed(lists: number[][]): number | undefined {
  if (lists.length === 0 || lists.some((l) => l.length !== 1)) return undefined;
  return lists.every((l) => l[0] === lists[0][0]) ? lists[0][0] : undefined;
}

/** Descriptor anchors in each side's descriptor region (bytes from `start`). */
function descriptorAnchors(assumed: StructLayout, flow: CalibrationFlowFacts, regions: Uint8Array[]): Anchor[] {
  const anchors: Anchor[] = [];
  const add = (name: string, found: number | undefined) => {
    const f = assumed.byName.get(name);
    if (f && found !== undefined) anchors.push({ name, assumed: f.offset, found });
  };
  add('local', agreed(regions.map((r, i) => findSockaddr(r, flow.sides[i].local))));
  add('remote', agreed(regions.map((r, i) => findSockaddr(r, flow.sides[i].remote))));
  const pidHits = regions.map((r) => findU32(r, flow.pid, 0, r.length));
  const pid = assumed.byName.get('pid');
  const epid = assumed.byName.get('epid');
  if (pidHits.every((h) => h.length === 1)) add('pid', agreed(pidHits));
  else if (pid && epid && epid.offset === pid.offset + 4 && pidHits.every((h) => h.length === 2 && h[1] === h[0] + 4)) {
    // pid and epid (the same process: no delegation) side by side, in the assumed order.
    add('pid', agreed(pidHits.map((h) => [h[0]])));
    add('epid', agreed(pidHits.map((h) => [h[1]])));
  }
  add('pname', agreed(regions.map((r) => findName(r, flow.process, 0))));
  if (flow.uid) add('uid', agreed(regions.map((r) => findU32(r, flow.uid!, 0, r.length))));
  return anchors;
}

function countsAnchors(assumed: StructLayout, flow: CalibrationFlowFacts, regions: Uint8Array[]): Anchor[] {
  const anchors: Anchor[] = [];
  for (const [name, key] of [['nstat_rxbytes', 'rxBytes'], ['nstat_txbytes', 'txBytes']] as const) {
    const f = assumed.byName.get(name);
    const found = agreed(regions.map((r, i) => findU64(r, flow.sides[i][key], 0, r.length)));
    if (f && found !== undefined) anchors.push({ name, assumed: f.offset, found });
  }
  return anchors;
}

export interface Inference {
  dialect: Dialect;
  /** Offsets found, per struct: field -> offset (in the struct). */
  offsets: Record<string, Record<string, number>>;
  kept: Record<string, string[]>;
  dropped: Record<string, string[]>;
  /** Why inference failed (the caller refuses with ERR_NTSTAT_LAYOUT). */
  problem?: string;
}

const DESC_HEAD = 'nstat_msg_src_description';

/**
 * Derive adjusted tables from the TCP flow (and a UDP flow when one was seen). Structs nothing
 * could verify (route, ifnet, conn descriptors, UDP without a UDP flow) keep no fields at all.
 */
export function inferDialect(assumed: Dialect, tcp: { flow: CalibrationFlowFacts; msgs: SideMessages[] }, udp?: { flow: CalibrationFlowFacts; msgs: SideMessages[] }): Inference {
  const fail = (problem: string): Inference => ({ dialect: assumed, offsets: {}, kept: {}, dropped: {}, problem });
  const structs = new Map(assumed.structs);
  const offsets: Record<string, Record<string, number>> = {};
  const kept: Record<string, string[]> = {};
  const dropped: Record<string, string[]> = {};
  const record = (name: string, p: Placement) => {
    offsets[name] = p.anchors;
    kept[name] = p.kept;
    dropped[name] = p.dropped;
  };
  const descHead = assumed.structs.get(DESC_HEAD)?.byName.get('data')?.offset;
  const countsMsg = assumed.structs.get('nstat_msg_src_counts');
  const updMsg = assumed.structs.get('nstat_msg_src_update');
  const countsLayout = assumed.structs.get('nstat_counts');
  if (descHead === undefined || !countsMsg || !updMsg || !countsLayout) return fail('this dialect has no SRC_DESC/SRC_COUNTS/SRC_UPDATE to calibrate');
  const cOff = countsMsg.byName.get('counts')!.offset;

  // 1. nstat_counts, from SRC_COUNTS (its head is the header + srcref + event_flags).
  const countMsgs = tcp.msgs.map((m) => m.counts);
  if (countMsgs.some((m) => !m)) return fail('no SRC_COUNTS for the calibration flow');
  const cRegions = countMsgs.map((m) => m!.bytes.subarray(cOff));
  if (cRegions.some((r) => r.length !== cRegions[0].length)) return fail('SRC_COUNTS lengths differ between the two ends of the flow');
  const counts = place(countsLayout, countsAnchors(countsLayout, tcp.flow, cRegions), cRegions[0].length);
  record('nstat_counts', counts);
  if (!counts.layout.byName.has('nstat_rxbytes') || !counts.layout.byName.has('nstat_txbytes')) return fail('the byte counters were not found in SRC_COUNTS');
  const cSize = cRegions[0].length;
  structs.set('nstat_counts', counts.layout);
  structs.set('nstat_msg_src_counts', layoutOf(countsMsg.name, cOff + cSize, countsMsg.align, [...countsMsg.fields.filter((f) => f.offset < cOff), { ...countsMsg.byName.get('counts')!, size: cSize }]));

  // 2. Descriptors, from SRC_DESC (head: header, srcref, event_flags, provider).
  const descriptorFrom = (proto: 'tcp' | 'udp', data: { flow: CalibrationFlowFacts; msgs: SideMessages[] }): Placement | string => {
    const name = proto === 'tcp' ? 'nstat_tcp_descriptor' : 'nstat_udp_descriptor';
    const layout = assumed.structs.get(name);
    if (!layout) return `no ${name} in this dialect`;
    const descs = data.msgs.map((m) => m.desc);
    if (descs.some((m) => !m)) return `no SRC_DESC for the ${proto} calibration flow`;
    const regions = descs.map((m) => m!.bytes.subarray(descHead));
    if (regions.some((r) => r.length !== regions[0].length)) return `${proto} SRC_DESC lengths differ between the two ends of the flow`;
    const p = place(layout, descriptorAnchors(layout, data.flow, regions), regions[0].length);
    for (const need of ['local', 'remote', 'pid']) if (!p.layout.byName.has(need)) return `the ${proto} descriptor's ${need} was not found`;
    return p;
  };
  const tcpDesc = descriptorFrom('tcp', tcp);
  if (typeof tcpDesc === 'string') return fail(tcpDesc);
  record('nstat_tcp_descriptor', tcpDesc);
  const emptyLike = (s: StructLayout) => layoutOf(s.name, 0, s.align, []);
  const replaceAll = (target: StructLayout | undefined, by: StructLayout) => {
    if (!target) return;
    for (const [k, v] of assumed.structs) if (v === target) structs.set(k, by);
  };
  // Descriptors nothing verified: no fields (their streams keep counts, lose descriptor fields).
  for (const n of ['nstat_udp_descriptor', 'nstat_route_descriptor', 'nstat_ifnet_descriptor', 'nstat_connection_descriptor', 'nstat_sysinfo_descriptor']) {
    const s = assumed.structs.get(n);
    if (s) {
      replaceAll(s, emptyLike(s));
      dropped[n] = s.fields.filter(reportable).map((f) => f.name);
      kept[n] = [];
    }
  }
  replaceAll(assumed.structs.get('nstat_tcp_descriptor'), tcpDesc.layout);
  if (udp && udp.msgs.every((m) => m.desc)) {
    const u = descriptorFrom('udp', udp);
    if (typeof u !== 'string') {
      record('nstat_udp_descriptor', u);
      replaceAll(assumed.structs.get('nstat_udp_descriptor'), u.layout);
    }
  }

  // 3. SRC_UPDATE: where its descriptor and provider now start, from the addresses in it.
  const updates = tcp.msgs.map((m) => m.update);
  if (updates.every((m) => m)) {
    const dataAt = agreed(updates.map((m, i) => findSockaddr(m!.bytes, tcp.flow.sides[i].local).map((o) => o - tcpDesc.layout.byName.get('local')!.offset)));
    if (dataAt === undefined) return fail('the descriptor was not found in SRC_UPDATE');
    const provAt = dataAt - 8; // provider u32 + reserved u32 right before the descriptor (d4570+)
    const want = new DataView(tcp.msgs[0].desc!.bytes.buffer, tcp.msgs[0].desc!.bytes.byteOffset).getUint32(assumed.structs.get(DESC_HEAD)!.byName.get('provider')!.offset, true);
    const gotProv = new DataView(updates[0]!.bytes.buffer, updates[0]!.bytes.byteOffset).getUint32(provAt, true);
    if (gotProv !== want) return fail(`SRC_UPDATE's provider is not right before its descriptor (${gotProv} at ${provAt}, want ${want})`);
    const uCounts = updMsg.byName.get('counts')!.offset;
    const rxIn = counts.layout.byName.get('nstat_rxbytes')!.offset;
    const countsAt = agreed(updates.map((m, i) => findU64(m!.bytes, tcp.flow.sides[i].rxBytes, 0, provAt).map((o) => o - rxIn)));
    if (countsAt !== uCounts || provAt - countsAt !== cSize) return fail('the counts in SRC_UPDATE are not where the header ends');
    const head = updMsg.fields.filter((f) => f.offset < uCounts);
    structs.set(
      'nstat_msg_src_update',
      layoutOf(updMsg.name, dataAt, updMsg.align, [
        ...head,
        { ...updMsg.byName.get('counts')!, size: cSize },
        { name: 'provider', offset: provAt, size: 4, type: 'u32' },
        { name: 'reserved', offset: provAt + 4, size: 4, type: 'u32' },
        { name: 'data', offset: dataAt, size: 0, type: 'u8[]' },
      ]),
    );
    offsets['nstat_msg_src_update'] = { counts: countsAt, provider: provAt, data: dataAt };
  }
  const dialect: Dialect = { ...assumed, family: `${assumed.family}~inferred`, structs, verified: false, inferred: true };
  return { dialect, offsets, kept, dropped };
}
