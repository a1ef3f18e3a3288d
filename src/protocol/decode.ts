/**
 * decodeDatagram: bytes -> typed messages, for any dialect. Pure: no I/O, no state.
 *
 * One datagram is one kernel record. From 10.11 a record may hold several messages back to back
 * (aggregation, BEHAVIOUR.md §2.6, §4): split by `hdr.length`. Before 10.11 the header has no
 * length and a record is exactly one message (LAYOUTS.md trap 7).
 * Every message's length is checked against its type's struct size for the dialect; extended
 * updates, ERROR (echoed request), ADD_SRC (param) and SYSINFO_COUNTS carry variable tails.
 */
import { NtstatError } from '../errors.js';
import { MessageType, providerName } from './constants.js';
import type { Dialect } from './dialect.js';
import { formatUuid, readStruct, readU64Number } from './fields.js';
import type {
  Counts,
  Descriptor,
  DomainInfo,
  ExtensionItem,
  Message,
  SysinfoKeyval,
} from './messages.js';
import { planFor, type CodecPlan, type MsgLayout } from './plan.js';
import { countsReaderFor } from './counts-reader.js';
import { updateDecoder } from './update-decoder.js';

export interface DecodeOptions {
  /**
   * What to do with a message whose type the dialect does not define: 'error' (default) throws
   * ERR_NTSTAT_MALFORMED; 'skip' drops it (only possible when the header carries a length).
   */
  unknownTypes?: 'error' | 'skip';
  /**
   * 'kernel': the bytes came from the kernel, so a request type (1001–1008, client→kernel) is
   * malformed and named as such, with where it sits (issue 13: it was reported as "SET_FILTER must
   * be 32 bytes"). Default 'any' (recordings and the simulator decode requests too).
   */
  from?: 'kernel' | 'any';
  /**
   * Unverified dialects only (a kernel newer than every published header): called for a message
   * that does not decode, which is then dropped instead of rejecting the whole record, so one
   * message in an unexpected shape never costs the other messages of an aggregated record.
   * Framing errors (a header that does not add up) still throw.
   */
  onInvalidMessage?: (error: NtstatError) => void;
}

const REQUEST_NAMES: Record<number, string> = {
  1001: 'ADD_SRC',
  1002: 'ADD_ALL_SRCS',
  1003: 'REM_SRC',
  1004: 'QUERY_SRC',
  1005: 'GET_SRC_DESC',
  1006: 'SET_FILTER',
  1007: 'GET_UPDATE',
  1008: 'SUBSCRIBE_SYSINFO',
};

function malformed(message: string, offset: number): NtstatError {
  return new NtstatError('ERR_NTSTAT_MALFORMED', `${message} (at byte ${offset})`, { offset });
}

export { countsOps } from './counts-reader.js';

function readCounts(plan: CodecPlan, dv: DataView, base: number): Counts {
  return countsReaderFor(plan.counts!)(dv, base);
}

function readSrcref(plan: CodecPlan, dv: DataView, off: number): bigint {
  return plan.dialect.srcrefSize === 8 ? dv.getBigUint64(off, true) : BigInt(dv.getUint32(off, true));
}

/**
 * A u64 that is almost always 0 (a kernel message's context, event flags): the shared 0n then,
 * instead of a new BigInt per message.
 */
function readU64Big(dv: DataView, off: number): bigint {
  return dv.getUint32(off, true) === 0 && dv.getUint32(off + 4, true) === 0 ? 0n : dv.getBigUint64(off, true);
}

function need(m: MsgLayout | undefined, type: number, at: number): MsgLayout {
  if (!m) throw malformed(`message type ${type} does not exist in this dialect`, at);
  return m;
}

function exact(len: number, size: number, what: string, at: number): void {
  if (len !== size) throw malformed(`${what} must be ${size} bytes, got ${len}`, at);
}

/**
 * Length check for a message or descriptor of known size. On a verified dialect the length is
 * exact. On an unverified one (a kernel newer than every published header) a longer message is
 * accepted by its `hdr.length`: Apple has grown these structs by appending and inserting fields
 * (LAYOUTS.md "What changed"), so the known prefix is decoded and the extra bytes are counted in
 * `trailing`, never decoded. Shorter is always an error.
 */
function sized(plan: CodecPlan, len: number, size: number, what: string, at: number): number {
  if (plan.dialect.verified) {
    exact(len, size, what, at);
    return 0;
  }
  atLeast(len, size, what, at);
  return len - size;
}

function withTrailing<M extends Message>(msg: M, trailing: number): M {
  if (trailing > 0) (msg as M & { trailing?: number }).trailing = trailing;
  return msg;
}

function atLeast(len: number, size: number, what: string, at: number): void {
  if (len < size) throw malformed(`${what} needs at least ${size} bytes, got ${len}`, at);
}

function decodeDescriptor(plan: CodecPlan, provider: number, b: Uint8Array, dv: DataView, off: number): Descriptor {
  return readStruct(plan.descriptors.get(provider)!, b, dv, off) as Descriptor;
}

function decodeDomain(plan: CodecPlan, b: Uint8Array, dv: DataView, off: number, len: number): DomainInfo | undefined {
  const layout = plan.domainInfo;
  if (!layout || len < layout.size) return undefined;
  return readStruct(layout, b, dv, off) as DomainInfo;
}

/** Extension items after an extended update's descriptor (BEHAVIOUR.md §6). */
function decodeItems(plan: CodecPlan, b: Uint8Array, dv: DataView, start: number, end: number): ExtensionItem[] {
  const items: ExtensionItem[] = [];
  let p = start;
  while (p < end) {
    if (end - p < plan.itemHdrSize) throw malformed('truncated extension item header', p);
    const type = dv.getUint32(p, true);
    const length = dv.getUint32(p + 4, true);
    const dataStart = p + plan.itemHdrSize;
    // Type 0 = the kernel's size-mismatch filler: its length covers the rest; stop (§6).
    if (type === 0) {
      items.push({ type, length, data: b.slice(dataStart, end) });
      break;
    }
    if (length > end - dataStart) throw malformed(`extension item of ${length} bytes overruns its message`, p);
    const data = b.slice(dataStart, dataStart + length);
    const item: ExtensionItem = { type, length, data };
    if (type === 1 || type === 4) {
      const dom = decodeDomain(plan, data, new DataView(data.buffer, data.byteOffset, data.byteLength), 0, length);
      if (dom) item.domain = dom;
    }
    items.push(item);
    // Items are 8-aligned: the next one starts after the data rounded up to 8.
    p = dataStart + Math.ceil(length / 8) * 8;
  }
  return items;
}

function decodeKeyvals(plan: CodecPlan, b: Uint8Array, dv: DataView, start: number, end: number): SysinfoKeyval[] {
  const kv = plan.keyval;
  if (!kv) return [];
  const out: SysinfoKeyval[] = [];
  const valueField = kv.byName.get('u');
  const valsize = kv.byName.get('nstat_sysinfo_valsize');
  if ((end - start) % kv.size !== 0) throw malformed(`sysinfo keyvals are not a multiple of ${kv.size} bytes`, start);
  for (let p = start; p + kv.size <= end; p += kv.size) {
    const vOff = p + (valueField?.offset ?? 8);
    const entry: SysinfoKeyval = {
      key: dv.getUint32(p, true),
      flags: dv.getUint32(p + 4, true),
      scalar: dv.getBigInt64(vOff, true),
      distribution: dv.getFloat64(vOff, true),
      value: b.slice(vOff, vOff + (valueField?.size ?? 8)),
    };
    if (valsize) entry.valsize = dv.getUint32(p + valsize.offset, true);
    out.push(entry);
  }
  return out;
}


/** Decode one message of `len` bytes at `at`; undefined for a type the dialect does not define. */
function decodeOne(plan: CodecPlan, b: Uint8Array, dv: DataView, at: number, len: number, type: number, context: bigint, flags: number): Message | undefined {
  const d = plan.dialect;
  if (!plan.types.has(type)) return undefined;
  switch (type) {
    case MessageType.SUCCESS:
      return withTrailing({ kind: 'success', context, flags }, sized(plan, len, plan.hdrSize, 'SUCCESS', at));
    case MessageType.ERROR: {
      const m = need(plan.error, type, at);
      atLeast(len, m.size, 'ERROR', at);
      const msg: Message = { kind: 'error', context, flags, errno: dv.getUint32(at + m.f.error!, true) };
      if (len > m.size) msg.request = b.slice(at + m.size, at + len);
      return msg;
    }
    case MessageType.SRC_ADDED: {
      const m = need(plan.srcAdded, type, at);
      const trailing = sized(plan, len, m.size, 'SRC_ADDED', at);
      return withTrailing({ kind: 'srcAdded', context, flags, srcref: readSrcref(plan, dv, at + m.f.srcref!), provider: dv.getUint32(at + m.f.provider!, true) }, trailing);
    }
    case MessageType.SRC_REMOVED: {
      const m = need(plan.srcRemoved, type, at);
      const trailing = sized(plan, len, m.size, 'SRC_REMOVED', at);
      return withTrailing({ kind: 'srcRemoved', context, flags, srcref: readSrcref(plan, dv, at + m.f.srcref!) }, trailing);
    }
    case MessageType.SRC_COUNTS: {
      const m = need(plan.srcCounts, type, at);
      const trailing = sized(plan, len, m.size, 'SRC_COUNTS', at);
      const ev = m.f.event_flags;
      return withTrailing(
        {
          kind: 'srcCounts',
          context,
          flags,
          srcref: readSrcref(plan, dv, at + m.f.srcref!),
          eventFlags: ev === undefined ? 0n : readU64Big(dv, at + ev),
          counts: readCounts(plan, dv, at + m.f.counts!),
        },
        trailing,
      );
    }
    case MessageType.SRC_DESC: {
      const m = need(plan.srcDesc, type, at);
      atLeast(len, m.size, 'SRC_DESC', at);
      const provider = dv.getUint32(at + m.f.provider!, true);
      const ev = m.f.event_flags;
      const msg: Message = {
        kind: 'srcDesc',
        context,
        flags,
        srcref: readSrcref(plan, dv, at + m.f.srcref!),
        eventFlags: ev === undefined ? 0n : readU64Big(dv, at + ev),
        provider,
      };
      const layout = plan.descriptors.get(provider);
      if (layout) {
        const trailing = sized(plan, len, m.size + layout.size, `SRC_DESC for provider ${providerName(d, provider)}`, at);
        msg.descriptor = decodeDescriptor(plan, provider, b, dv, at + m.size);
        if (trailing > 0) msg.trailing = trailing;
      } else {
        msg.raw = b.slice(at + m.size, at + len);
      }
      return msg;
    }
    case MessageType.SRC_UPDATE:
    case MessageType.SRC_EXTENDED_UPDATE: {
      const m = need(plan.srcUpdate, type, at);
      if (type === MessageType.SRC_EXTENDED_UPDATE && d.constants['NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE'] === undefined) {
        throw malformed('SRC_EXTENDED_UPDATE does not exist in this dialect', at);
      }
      const what = type === MessageType.SRC_UPDATE ? 'SRC_UPDATE' : 'SRC_EXTENDED_UPDATE';
      atLeast(len, m.size, what, at);
      const provider = dv.getUint32(at + m.f.provider!, true);
      const ev = m.f.event_flags;
      const msg: Message = {
        kind: 'srcUpdate',
        context,
        flags,
        srcref: readSrcref(plan, dv, at + m.f.srcref!),
        eventFlags: ev === undefined ? 0n : readU64Big(dv, at + ev),
        counts: readCounts(plan, dv, at + m.f.counts!),
        provider,
      };
      const layout = plan.descriptors.get(provider);
      if (!layout) {
        msg.raw = b.slice(at + m.size, at + len);
        if (type === MessageType.SRC_EXTENDED_UPDATE) msg.extended = true;
        return msg;
      }
      const fixed = m.size + layout.size;
      if (type === MessageType.SRC_UPDATE) {
        const trailing = sized(plan, len, fixed, `SRC_UPDATE for provider ${providerName(d, provider)}`, at);
        if (trailing > 0) msg.trailing = trailing;
      } else atLeast(len, fixed, `SRC_EXTENDED_UPDATE for provider ${providerName(d, provider)}`, at);
      msg.descriptor = decodeDescriptor(plan, provider, b, dv, at + m.size);
      if (type === MessageType.SRC_EXTENDED_UPDATE) {
        msg.extended = true;
        msg.extensions = decodeItems(plan, b, dv, at + fixed, at + len);
      }
      return msg;
    }
    case MessageType.SYSINFO_COUNTS: {
      const m = need(plan.sysinfo, type, at);
      atLeast(len, m.size, 'SYSINFO_COUNTS', at);
      const countsOff = m.f.counts!;
      const kvStart = at + countsOff + (plan.sysinfoCounts?.byName.get('nstat_sysinfo_keyvals')?.offset ?? 8);
      return {
        kind: 'sysinfoCounts',
        context,
        flags,
        srcref: readSrcref(plan, dv, at + m.f.srcref!),
        keyvals: decodeKeyvals(plan, b, dv, kvStart, at + len),
      };
    }
    // ---- requests (client -> kernel); they appear in recordings and at the simulator.
    case MessageType.ADD_SRC: {
      const m = need(plan.addSrc, type, at);
      atLeast(len, m.size, 'ADD_SRC', at);
      return { kind: 'addSrc', context, flags, provider: dv.getUint32(at + m.f.provider!, true), param: b.slice(at + m.size, at + len) };
    }
    case MessageType.ADD_ALL_SRCS: {
      const m = need(plan.addAll, type, at);
      exact(len, m.size, 'ADD_ALL_SRCS', at);
      const f = m.f.filter;
      const e = m.f.events;
      const tp = m.f.target_pid;
      const tu = m.f.target_uuid;
      const msg: Message = {
        kind: 'addAllSrcs',
        context,
        flags,
        provider: dv.getUint32(at + m.f.provider!, true),
        filter: f === undefined ? 0n : dv.getBigUint64(at + f, true),
        events: e === undefined ? 0n : dv.getBigUint64(at + e, true),
        targetPid: tp === undefined ? 0 : dv.getInt32(at + tp, true),
      };
      if (tu !== undefined) {
        const u = formatUuid(b, at + tu);
        if (u !== '00000000-0000-0000-0000-000000000000') msg.targetUuid = u;
      }
      return msg;
    }
    case MessageType.REM_SRC:
    case MessageType.QUERY_SRC:
    case MessageType.GET_SRC_DESC:
    case MessageType.GET_UPDATE: {
      const kind = type === MessageType.REM_SRC ? 'remSrc' : type === MessageType.QUERY_SRC ? 'querySrc' : type === MessageType.GET_SRC_DESC ? 'getSrcDesc' : 'getUpdate';
      const m = need(plan.srcrefReq[kind], type, at);
      exact(len, m.size, kind, at);
      return { kind, context, flags, srcref: readSrcref(plan, dv, at + m.f.srcref!) };
    }
    case MessageType.SET_FILTER: {
      const m = need(plan.setFilter, type, at);
      if (d.constants['NSTAT_MSG_TYPE_SET_FILTER'] === undefined) throw malformed('SET_FILTER does not exist in this dialect', at);
      exact(len, m.size, 'SET_FILTER', at);
      return { kind: 'setFilter', context, flags, srcref: readSrcref(plan, dv, at + m.f.srcref!), filter: dv.getUint32(at + m.f.filter!, true) };
    }
    case MessageType.SUBSCRIBE_SYSINFO:
      if (d.constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] === undefined) throw malformed('SUBSCRIBE_SYSINFO does not exist in this dialect', at);
      exact(len, plan.hdrSize, 'SUBSCRIBE_SYSINFO', at);
      return { kind: 'subscribeSysinfo', context, flags };
    default:
      return undefined;
  }
}

/**
 * Split a datagram into messages and decode each. Throws NtstatError (ERR_NTSTAT_MALFORMED with
 * the byte offset, or ERR_NTSTAT_RANGE) on any inconsistency; never returns a partial guess.
 */
export function decodeDatagram(bytes: Uint8Array, dialect: Dialect, options: DecodeOptions = {}): Message[] {
  return decodeWith(bytes, dialect, options, undefined) as Message[];
}

/**
 * A message decodeWith left undecoded because `defer` claimed it: its place in the datagram.
 * Its framing and length were checked; decodeMessageAt decodes it when it is needed.
 */
export interface DeferredMessage {
  kind: 'deferred';
  type: number;
  at: number;
  len: number;
}

/**
 * Decode the message of `len` bytes at `at` (one that decodeWith deferred). Throws like
 * decodeDatagram for a message that does not decode; undefined for a type the dialect lacks.
 */
export function decodeMessageAt(bytes: Uint8Array, dv: DataView, dialect: Dialect, at: number, len: number): Message | undefined {
  const flags = dialect.hasLength ? dv.getUint16(at + 14, true) : 0;
  const plan = planFor(dialect);
  const type = dv.getUint32(at + 8, true);
  const context = readU64Big(dv, at);
  const fast = type === MessageType.SRC_UPDATE ? updateDecoder(plan) : undefined;
  return fast?.decode(bytes, dv, at, len, context, flags) ?? decodeOne(plan, bytes, dv, at, len, type, context, flags);
}

/**
 * decodeDatagram without the SRC_UPDATE fast path (update-decoder.ts): every message through
 * decodeOne. The reference the fast path is tested against (test/decode-fast.test.ts).
 * @internal
 */
export function decodeDatagramReference(bytes: Uint8Array, dialect: Dialect, options: DecodeOptions = {}): Message[] {
  return decodeWith(bytes, dialect, options, undefined, false) as Message[];
}

/**
 * decodeDatagram, except that messages `defer` claims (after the framing checks, called with the
 * type, offset and length) are returned as DeferredMessage markers in their place, undecoded:
 * the poll hot path decodes only the messages that change something (client/fast-update.ts).
 */
export function decodeWith(
  bytes: Uint8Array,
  dialect: Dialect,
  options: DecodeOptions,
  defer: ((type: number, dv: DataView, at: number, len: number) => boolean) | undefined,
  fastUpdates = true,
): (Message | DeferredMessage)[] {
  const plan = planFor(dialect);
  const fast = fastUpdates ? updateDecoder(plan) : undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: (Message | DeferredMessage)[] = [];
  const total = bytes.byteLength;
  if (total === 0) throw malformed('empty datagram', 0);
  let at = 0;
  while (at < total) {
    const remaining = total - at;
    if (remaining < plan.hdrSize) throw malformed(`${remaining} trailing bytes are shorter than a ${plan.hdrSize}-byte header`, at);
    const context = readU64Big(dv, at);
    const type = dv.getUint32(at + 8, true);
    let len: number;
    let flags = 0;
    if (dialect.hasLength) {
      len = dv.getUint16(at + 12, true);
      flags = dv.getUint16(at + 14, true);
      if (len < plan.hdrSize) throw malformed(`message length ${len} is shorter than the header`, at);
      if (len > remaining) throw malformed(`message length ${len} exceeds the ${remaining} bytes left in the datagram`, at);
    } else {
      // No length field before 10.11: the record is one message (LAYOUTS.md trap 7).
      len = remaining;
    }
    const request = options.from === 'kernel' ? REQUEST_NAMES[type] : undefined;
    if (request !== undefined) {
      const e = malformed(`the kernel sent message type ${type}, which is the ${request} request (client to kernel only): ${len} bytes, message ${out.length + 1} of a ${total}-byte record`, at);
      if (!options.onInvalidMessage || dialect.verified || !dialect.hasLength) throw e;
      options.onInvalidMessage(e);
      at += len;
      continue;
    }
    if (defer !== undefined && defer(type, dv, at, len)) {
      out.push({ kind: 'deferred', type, at, len });
      at += len;
      continue;
    }
    let msg: Message | undefined;
    try {
      msg = (type === MessageType.SRC_UPDATE && fast !== undefined ? fast.decode(bytes, dv, at, len, context, flags) : undefined) ?? decodeOne(plan, bytes, dv, at, len, type, context, flags);
    } catch (e) {
      // Unverified dialect with framing intact (hdr.length checked above): drop this message only.
      if (!options.onInvalidMessage || dialect.verified || !dialect.hasLength || !(e instanceof NtstatError)) throw e;
      options.onInvalidMessage(e);
      at += len;
      continue;
    }
    if (msg) out.push(msg);
    else if (!dialect.hasLength || options.unknownTypes !== 'skip') throw malformed(`unknown message type ${type}`, at);
    at += len;
  }
  return out;
}

/** Header-only scan: message count and types of a datagram without decoding bodies. */
export function scanDatagram(bytes: Uint8Array, dialect: Dialect, onMessage?: (type: number, offset: number, length: number) => void): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = bytes.byteLength;
  if (!dialect.hasLength) {
    if (total < 16) throw malformed('datagram shorter than a header', 0);
    onMessage?.(dv.getUint32(8, true), 0, total);
    return 1;
  }
  let at = 0;
  let n = 0;
  while (at < total) {
    if (total - at < 16) throw malformed('trailing bytes shorter than a header', at);
    const len = dv.getUint16(at + 12, true);
    if (len < 16 || len > total - at) throw malformed(`bad message length ${len}`, at);
    onMessage?.(dv.getUint32(at + 8, true), at, len);
    at += len;
    n++;
  }
  return n;
}
