/**
 * encodeMessage: typed message -> bytes for a dialect, the exact inverse of decodeDatagram and
 * driven by the same plan (sizes and offsets from the dialect tables). Buffers start zeroed, so
 * reserved and padding bytes are always zero (BEHAVIOUR.md §7). Requests get the exact struct
 * size and a matching `hdr.length` (§9.2); responses are used by the simulator.
 */
import { NtstatError } from '../errors.js';
import { MessageType } from './constants.js';
import type { Dialect } from './dialect.js';
import { parseUuid, writeStruct, writeU64Number } from './fields.js';
import { countsOps } from './decode.js';
import type { Counts, Descriptor, ExtensionItem, Message, Request, SysinfoKeyval } from './messages.js';
import { planFor, type CodecPlan, type MsgLayout } from './plan.js';

function unsupported(what: string, d: Dialect): NtstatError {
  return new NtstatError('ERR_NTSTAT_UNSUPPORTED', `${what} cannot be expressed in the xnu-${d.xnu} dialect (${d.family})`);
}

function need(m: MsgLayout | undefined, what: string, d: Dialect): MsgLayout {
  if (!m) throw unsupported(what, d);
  return m;
}

class Writer {
  readonly b: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.b = new Uint8Array(size);
    this.dv = new DataView(this.b.buffer);
  }
}

const TYPE_OF: Record<Message['kind'], number> = {
  success: MessageType.SUCCESS,
  error: MessageType.ERROR,
  srcAdded: MessageType.SRC_ADDED,
  srcRemoved: MessageType.SRC_REMOVED,
  srcCounts: MessageType.SRC_COUNTS,
  srcDesc: MessageType.SRC_DESC,
  srcUpdate: MessageType.SRC_UPDATE,
  sysinfoCounts: MessageType.SYSINFO_COUNTS,
  addSrc: MessageType.ADD_SRC,
  addAllSrcs: MessageType.ADD_ALL_SRCS,
  remSrc: MessageType.REM_SRC,
  querySrc: MessageType.QUERY_SRC,
  getSrcDesc: MessageType.GET_SRC_DESC,
  setFilter: MessageType.SET_FILTER,
  getUpdate: MessageType.GET_UPDATE,
  subscribeSysinfo: MessageType.SUBSCRIBE_SYSINFO,
};

function writeHeader(plan: CodecPlan, w: Writer, at: number, type: number, context: bigint, length: number, flags: number): void {
  w.dv.setBigUint64(at, BigInt.asUintN(64, context), true);
  w.dv.setUint32(at + 8, type, true);
  if (plan.dialect.hasLength) {
    if (length > 0xffff) throw new NtstatError('ERR_NTSTAT_UNSUPPORTED', `message of ${length} bytes exceeds the u16 length field`);
    w.dv.setUint16(at + 12, length, true);
    w.dv.setUint16(at + 14, flags, true);
  } else if (flags !== 0) {
    throw unsupported('header flags', plan.dialect);
  }
}

function writeSrcref(plan: CodecPlan, w: Writer, off: number, srcref: bigint): void {
  if (plan.dialect.srcrefSize === 8) w.dv.setBigUint64(off, BigInt.asUintN(64, srcref), true);
  else {
    if (srcref > 0xffffffffn || srcref < 0n) throw unsupported(`srcref ${srcref} (32-bit srcrefs)`, plan.dialect);
    w.dv.setUint32(off, Number(srcref), true);
  }
}

function writeCounts(plan: CodecPlan, w: Writer, base: number, c: Counts): void {
  for (const [key, off, wide] of countsOps(plan.counts!)) {
    const v = c[key] ?? 0;
    if (wide) writeU64Number(w.dv, base + off, v);
    else w.dv.setUint32(base + off, v >>> 0, true);
  }
}

function descriptorLayout(plan: CodecPlan, provider: number) {
  const layout = plan.descriptors.get(provider);
  if (!layout) throw unsupported(`provider id ${provider}`, plan.dialect);
  return layout;
}

function itemsSize(plan: CodecPlan, items: readonly ExtensionItem[], padLast: boolean): number {
  let n = 0;
  items.forEach((it, i) => {
    n += plan.itemHdrSize + (padLast || i < items.length - 1 ? Math.ceil(it.data.length / 8) * 8 : it.data.length);
  });
  return n;
}

function writeKeyvals(plan: CodecPlan, w: Writer, start: number, kvs: readonly SysinfoKeyval[]): void {
  const kv = plan.keyval!;
  const u = kv.byName.get('u')!;
  const vs = kv.byName.get('nstat_sysinfo_valsize');
  kvs.forEach((e, i) => {
    const p = start + i * kv.size;
    w.dv.setUint32(p, e.key, true);
    w.dv.setUint32(p + 4, e.flags, true);
    if (e.value.length > 0) w.b.set(e.value.subarray(0, u.size), p + u.offset);
    else w.dv.setBigInt64(p + u.offset, e.scalar, true);
    if (vs) w.dv.setUint32(p + vs.offset, e.valsize ?? 0, true);
  });
}

/** Encode one message. `options.padItems` pads the last extension item to 8 (aggregated form). */
export function encodeMessage(dialect: Dialect, msg: Message, options: { padItems?: boolean } = {}): Uint8Array {
  const plan = planFor(dialect);
  const type = msg.kind === 'srcUpdate' && msg.extended ? MessageType.SRC_EXTENDED_UPDATE : TYPE_OF[msg.kind];
  let w: Writer;
  switch (msg.kind) {
    case 'success':
    case 'subscribeSysinfo': {
      if (msg.kind === 'subscribeSysinfo' && dialect.constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] === undefined) throw unsupported('SUBSCRIBE_SYSINFO', dialect);
      w = new Writer(plan.hdrSize);
      break;
    }
    case 'error': {
      const m = need(plan.error, 'ERROR', dialect);
      const echo = msg.request ?? new Uint8Array(0);
      w = new Writer(m.size + echo.length);
      w.dv.setUint32(m.off('error')!, msg.errno, true);
      w.b.set(echo, m.size);
      break;
    }
    case 'srcAdded': {
      const m = need(plan.srcAdded, 'SRC_ADDED', dialect);
      w = new Writer(m.size);
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      w.dv.setUint32(m.off('provider')!, msg.provider, true);
      break;
    }
    case 'srcRemoved': {
      const m = need(plan.srcRemoved, 'SRC_REMOVED', dialect);
      w = new Writer(m.size);
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      break;
    }
    case 'srcCounts': {
      const m = need(plan.srcCounts, 'SRC_COUNTS', dialect);
      w = new Writer(m.size);
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      const ev = m.off('event_flags');
      if (ev !== undefined) w.dv.setBigUint64(ev, msg.eventFlags, true);
      else if (msg.eventFlags !== 0n) throw unsupported('event_flags', dialect);
      writeCounts(plan, w, m.off('counts')!, msg.counts);
      break;
    }
    case 'srcDesc': {
      const m = need(plan.srcDesc, 'SRC_DESC', dialect);
      const layout = msg.descriptor ? descriptorLayout(plan, msg.provider) : undefined;
      const raw = msg.raw ?? new Uint8Array(0);
      w = new Writer(m.size + (layout ? layout.size : raw.length));
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      const ev = m.off('event_flags');
      if (ev !== undefined) w.dv.setBigUint64(ev, msg.eventFlags, true);
      else if (msg.eventFlags !== 0n) throw unsupported('event_flags', dialect);
      w.dv.setUint32(m.off('provider')!, msg.provider, true);
      if (layout) writeStruct(layout, w.b, w.dv, m.size, msg.descriptor as Descriptor);
      else w.b.set(raw, m.size);
      break;
    }
    case 'srcUpdate': {
      const m = need(plan.srcUpdate, 'SRC_UPDATE', dialect);
      if (msg.extended && dialect.constants['NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE'] === undefined) throw unsupported('SRC_EXTENDED_UPDATE', dialect);
      const layout = msg.descriptor ? descriptorLayout(plan, msg.provider) : undefined;
      const raw = msg.raw ?? new Uint8Array(0);
      const items = msg.extended ? msg.extensions ?? [] : [];
      const fixed = m.size + (layout ? layout.size : raw.length);
      w = new Writer(fixed + itemsSize(plan, items, options.padItems ?? false));
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      const ev = m.off('event_flags');
      if (ev !== undefined) w.dv.setBigUint64(ev, msg.eventFlags, true);
      else if (msg.eventFlags !== 0n) throw unsupported('event_flags', dialect);
      writeCounts(plan, w, m.off('counts')!, msg.counts);
      w.dv.setUint32(m.off('provider')!, msg.provider, true);
      if (layout) writeStruct(layout, w.b, w.dv, m.size, msg.descriptor as Descriptor);
      else w.b.set(raw, m.size);
      let p = fixed;
      items.forEach((it, i) => {
        const padded = options.padItems || i < items.length - 1;
        const len = padded ? Math.ceil(it.data.length / 8) * 8 : it.data.length;
        w.dv.setUint32(p, it.type, true);
        w.dv.setUint32(p + 4, it.length ?? len, true);
        w.b.set(it.data, p + plan.itemHdrSize);
        p += plan.itemHdrSize + len;
      });
      break;
    }
    case 'sysinfoCounts': {
      const m = need(plan.sysinfo, 'SYSINFO_COUNTS', dialect);
      const kvSize = plan.keyval?.size ?? 0;
      const countsOff = m.off('counts')!;
      const kvStart = countsOff + (plan.sysinfoCounts?.byName.get('nstat_sysinfo_keyvals')?.offset ?? 8);
      w = new Writer(kvStart + msg.keyvals.length * kvSize);
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      // nstat_sysinfo_len counts the nstat_sysinfo_counts header too: offsetof(keyvals) + n·keyval
      // (xnu ntstat.c nstat_sysinfo_send_data_internal).
      w.dv.setUint32(countsOff, kvStart - countsOff + msg.keyvals.length * kvSize, true);
      writeKeyvals(plan, w, kvStart, msg.keyvals);
      break;
    }
    case 'addSrc': {
      const m = need(plan.addSrc, 'ADD_SRC', dialect);
      w = new Writer(m.size + msg.param.length);
      w.dv.setUint32(m.off('provider')!, msg.provider, true);
      w.b.set(msg.param, m.size);
      break;
    }
    case 'addAllSrcs': {
      const m = need(plan.addAll, 'ADD_ALL_SRCS', dialect);
      w = new Writer(m.size);
      w.dv.setUint32(m.off('provider')!, msg.provider, true);
      const opt = (field: string, nonZero: boolean, write: (off: number) => void) => {
        const off = m.off(field);
        if (off !== undefined) write(off);
        else if (nonZero) throw unsupported(`ADD_ALL_SRCS ${field}`, dialect);
      };
      opt('filter', msg.filter !== 0n, (o) => w.dv.setBigUint64(o, BigInt.asUintN(64, msg.filter), true));
      opt('events', msg.events !== 0n, (o) => w.dv.setBigUint64(o, BigInt.asUintN(64, msg.events), true));
      opt('target_pid', msg.targetPid !== 0, (o) => w.dv.setInt32(o, msg.targetPid, true));
      opt('target_uuid', msg.targetUuid !== undefined, (o) => msg.targetUuid && parseUuid(msg.targetUuid, w.b, o));
      break;
    }
    case 'remSrc':
    case 'querySrc':
    case 'getSrcDesc':
    case 'getUpdate': {
      const m = need(plan.srcrefReq[msg.kind], msg.kind, dialect);
      w = new Writer(m.size);
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      break;
    }
    case 'setFilter': {
      const m = need(plan.setFilter, 'SET_FILTER', dialect);
      if (dialect.constants['NSTAT_MSG_TYPE_SET_FILTER'] === undefined) throw unsupported('SET_FILTER', dialect);
      w = new Writer(m.size);
      writeSrcref(plan, w, m.off('srcref')!, msg.srcref);
      w.dv.setUint32(m.off('filter')!, msg.filter >>> 0, true);
      break;
    }
  }
  writeHeader(plan, w, 0, type, msg.context, w.b.length, msg.flags);
  return w.b;
}

/** Encode a request (client -> kernel). */
export function encodeRequest(dialect: Dialect, req: Request): Uint8Array {
  return encodeMessage(dialect, req);
}

/** Concatenate encoded messages into one aggregated record (10.11+ only). */
export function aggregate(dialect: Dialect, parts: readonly Uint8Array[]): Uint8Array {
  if (!dialect.hasLength && parts.length > 1) throw unsupported('aggregated records', dialect);
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
