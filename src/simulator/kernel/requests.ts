/**
 * Request dispatch (`nstat_control_send` / `nstat_client_send`, BEHAVIOUR.md §2.1) and the
 * non-poll handlers: ADD_SRC (§2.2), ADD_ALL_SRCS (§2.3), REM_SRC (§2.5), SET_FILTER (§2.7),
 * SUBSCRIBE_SYSINFO (§2.8). Everything runs synchronously inside the client's send().
 */
import { decodeDatagram, MessageType, srcrefAll, type Message } from '../../protocol/index.js';
import type { IfnetObject } from '../world/entities.js';
import type { Connection } from './connection.js';
import { handlePoll, type PollKind } from './polls.js';
import {
  EALREADY,
  EINVAL,
  EMSGSIZE,
  ENOENT,
  ENOTSUP,
  EPERM,
  IFNET_MIN_THRESHOLD,
  type Provider,
} from './providers.js';

/** `so_snd` high-water mark: `nstat_sendspace` 2048 (§1). */
export const SEND_SPACE = 2048;

/** What send(2) reports: 0, or an errno with nothing (or only what was queued) delivered. */
export class SendError extends Error {
  constructor(readonly errno: number) {
    super(`send() failed with errno ${errno}`);
    this.name = 'SendError';
  }
}

/** Decode the first `size` bytes of a request, as the handler's `mbuf_copydata(sizeof(req))`. */
function parseFixed(c: Connection, bytes: Uint8Array, size: number): Message | undefined {
  if (bytes.length < size) return undefined;
  const copy = bytes.slice(0, size);
  if (c.profile.hasLength) new DataView(copy.buffer).setUint16(12, size, true);
  return decodeDatagram(copy, c.profile.dialect)[0];
}

function structSize(c: Connection, name: string): number {
  return c.profile.dialect.structs.get(name)?.size ?? Number.MAX_SAFE_INTEGER;
}

/**
 * The whole send(): size limits, header fix-up, dispatch, ERROR with echoed request.
 * Throws SendError (EMSGSIZE, EINVAL, ENOBUFS) exactly where send(2) would fail.
 */
export function handleSend(c: Connection, datagram: Uint8Array): void {
  if (datagram.length > SEND_SPACE) throw new SendError(EMSGSIZE); // sosend: larger than so_snd
  if (datagram.length < 16) throw new SendError(EINVAL); // nothing queued
  const bytes = datagram.slice();
  const dv = new DataView(bytes.buffer);
  if (c.profile.hasLength && dv.getUint16(12, true) !== bytes.length) {
    // Legacy fix-up: length rewritten, flags cleared (so CONTINUATION/AGGREGATE are lost).
    dv.setUint16(12, bytes.length, true);
    dv.setUint16(14, 0, true);
  }
  const context = dv.getBigUint64(0, true);
  const type = dv.getUint32(8, true);
  c.inRequest = true;
  try {
    const result = dispatch(c, type, bytes);
    if (result === 0) return;
    // Any handler error becomes an ERROR (critical) with the request echoed (10.11+); if that
    // cannot be queued a bare ERROR is tried; if even that fails, send() fails.
    let err = 1;
    if (c.profile.errorEcho) err = c.enqueue(c.wire.error(context, result, bytes), true, 'error', context, 0);
    if (err !== 0) err = c.enqueue(c.wire.error(context, result), true, 'error', context, 0);
    if (err !== 0) throw new SendError(err);
  } finally {
    c.inRequest = false;
  }
}

function has(c: Connection, name: string): boolean {
  return c.profile.dialect.constants[name] !== undefined;
}

function dispatch(c: Connection, type: number, bytes: Uint8Array): number {
  switch (type) {
    case MessageType.ADD_SRC:
      return addSrc(c, bytes);
    case MessageType.ADD_ALL_SRCS:
      return addAll(c, bytes);
    case MessageType.REM_SRC:
      return remSrc(c, bytes);
    case MessageType.QUERY_SRC:
      return poll(c, bytes, 'querySrc', 'nstat_msg_query_src');
    case MessageType.GET_SRC_DESC:
      return poll(c, bytes, 'getSrcDesc', 'nstat_msg_get_src_description');
    case MessageType.GET_UPDATE:
      if (!c.profile.hasLength) return EINVAL;
      return poll(c, bytes, 'getUpdate', 'nstat_msg_query_src');
    case MessageType.SET_FILTER:
      // Gone from the B15 dispatch ("unknown type"); absent before 10.9.
      if (c.profile.b15 || !has(c, 'NSTAT_MSG_TYPE_SET_FILTER')) return EINVAL;
      return setFilter(c, bytes);
    case MessageType.SUBSCRIBE_SYSINFO:
      // Not dispatched by the 10.10 kernel; from 10.11 always privileged.
      if (!c.profile.hasLength) return EINVAL;
      if (!c.privileged) return EPERM;
      c.sysinfoSubscribed = true;
      return 0;
    default:
      return EINVAL;
  }
}

function poll(c: Connection, bytes: Uint8Array, kind: PollKind, struct: string): number {
  const m = parseFixed(c, bytes, structSize(c, struct));
  if (!m || !('srcref' in m)) return EINVAL;
  const all = m.srcref === srcrefAll(c.profile.dialect);
  return handlePoll(c, { kind, context: m.context, flags: m.flags, srcref: m.srcref, all });
}

function remSrc(c: Connection, bytes: Uint8Array): number {
  const m = parseFixed(c, bytes, structSize(c, 'nstat_msg_rem_src'));
  if (!m || m.kind !== 'remSrc') return EINVAL;
  const src = c.sources.get(m.srcref);
  if (!src) return ENOENT;
  c.unlink(src);
  c.cleanupSource(src, true); // SRC_REMOVED, context 0, flags 0; no SUCCESS
  return 0;
}

function setFilter(c: Connection, bytes: Uint8Array): number {
  const m = parseFixed(c, bytes, structSize(c, 'nstat_msg_set_filter'));
  if (!m || m.kind !== 'setFilter') return EINVAL;
  if (m.srcref === srcrefAll(c.profile.dialect) || m.srcref === 0n) return EINVAL;
  const src = c.sources.get(m.srcref);
  if (!src) return ENOENT;
  src.filter = m.filter >>> 0;
  return 0;
}

// ------------------------------------------------------------------------------ ADD_SRC

function addSrc(c: Connection, bytes: Uint8Array): number {
  const hdr = c.profile.dialect.structs.get('nstat_msg_add_src')?.byName.get('param')?.offset ?? 20;
  if (bytes.length < hdr) return EINVAL;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const providerId = dv.getUint32(16, true);
  const param = bytes.subarray(hdr);
  if (param.length > 2048) return EINVAL;
  const provider = c.kernel.providers.get(providerId);
  if (!provider) return ENOENT; // nstat_lookup_entry: unknown provider (sysinfo included)
  const context = dv.getBigUint64(0, true);
  const found = provider.name === 'ifnet' ? ifnetLookup(c, provider, param) : provider.lookup(c.env, param);
  if (found.errno !== 0) return found.errno;
  const obj = (found as { obj: IfnetObject }).obj;
  if (c.profile.b14AddSrcRules) sanitizeCookie(c, provider, obj);
  const result = c.sourceAdd(context, provider, obj);
  if (result !== 0) c.kernel.releaseCookie(provider, obj);
  // B14+: any ADD_SRC for P makes a later ADD_ALL_SRCS(P) fail EALREADY (`ncs_added_src`).
  if (c.profile.b14AddSrcRules) c.addedSrc.add(provider.id);
  return result;
}

/** `nstat_control_sanitize_cookie` (B14, route/ifnet): goodbye the old duplicate first. */
function sanitizeCookie(c: Connection, provider: Provider, obj: IfnetObject | object): void {
  if (provider.name !== 'route' && provider.name !== 'ifnet') return;
  for (const src of c.sources) {
    if (src.provider.id === provider.id && provider.cookieEqual(src.obj, obj as never)) {
      c.sendGoodbye(src);
      c.unlink(src);
      c.cleanupSource(src, false);
      return;
    }
  }
}

/**
 * `nstat_ifnet_lookup`: threshold ≥ 1 MiB, privcheck, attached interface; lowering an
 * interface's threshold sends SRC_DESC (context 0) to every ifnet source of every client.
 */
function ifnetLookup(c: Connection, provider: Provider, param: Uint8Array): { errno: number } | { errno: 0; obj: IfnetObject } {
  const layout = c.profile.dialect.structs.get('nstat_ifnet_add_param');
  if (!layout || param.length < layout.size) return { errno: EINVAL };
  const dv = new DataView(param.buffer, param.byteOffset, param.byteLength);
  const ifindex = dv.getUint32(layout.byName.get('ifindex')!.offset, true);
  const tOff = layout.byName.get('threshold')!.offset;
  const threshold = dv.getUint32(tOff, true) + dv.getUint32(tOff + 4, true) * 0x1_0000_0000;
  if (threshold < IFNET_MIN_THRESHOLD) return { errno: EINVAL };
  if (c.kernel.privcheck && !c.privileged) return { errno: EPERM };
  const ifp = c.kernel.world.interfaces.get(ifindex);
  if (!ifp || !ifp.attached) return { errno: EINVAL };
  let changed = false;
  if (!ifp.threshold || ifp.threshold > threshold) {
    changed = true;
    ifp.threshold = threshold;
    ifp.thresholdBase = ifp.rxBytes + ifp.txBytes;
  }
  if (changed) {
    for (const conn of c.kernel.connections()) {
      for (const src of conn.sources) if (src.provider.id === provider.id) conn.sendDescription(src, 0n, 0);
    }
  }
  const obj: IfnetObject = { id: c.kernel.world.id(), kind: 'ifnet', version: 0, ifp, threshold };
  return { errno: 0, obj };
}

// ------------------------------------------------------------------------------ ADD_ALL

function addAll(c: Connection, bytes: Uint8Array): number {
  const m = parseFixed(c, bytes, structSize(c, 'nstat_msg_add_all_srcs'));
  if (!m || m.kind !== 'addAllSrcs') return EINVAL;
  const last = c.profile.dialect.constants['NSTAT_PROVIDER_LAST'];
  if (typeof last === 'number' && m.provider > last) return ENOENT;
  const provider = c.kernel.providers.get(m.provider);
  if (!provider) return ENOENT;
  if (!provider.hasWatcher) return ENOTSUP;
  const p = c.profile;
  const alwaysPrivileged = p.connSubflowPrivileged && (provider.name === 'conn' || provider.name === 'udpSubflow');
  if ((c.kernel.privcheck || alwaysPrivileged) && !c.privileged) return EPERM;

  if (!p.suppressSetsUpdateMode) {
    // 10.11/10.12 (and earlier): bit set before the walk, undone if the walk fails.
    if (c.watching.has(provider.id)) return EALREADY;
    c.watching.add(provider.id);
    const f = c.filterFor(provider.id);
    f.flags = m.filter;
    f.events = m.events;
    f.pid = m.targetPid;
    f.uuid = m.targetUuid ?? f.uuid;
    c.kernel.watchersChanged(provider.id, +1);
    const result = walk(c, provider);
    if (result !== 0) {
      f.flags = 0n;
      c.watching.delete(provider.id);
    } else c.sendSuccess(m.context, 0);
    return result;
  }

  // 10.13+: SUPPRESS_SRC_ADDED switches the client to update mode before anything can fail.
  if ((m.filter & c.bits.suppressSrcAdded) !== 0n) c.updateMode = true;
  // `nstat_set_provider_filter`: the watcher bit is set first, so a rejected request still
  // leaves the provider marked as watched (§7).
  const already = c.watching.has(provider.id);
  c.watching.add(provider.id);
  if (already) return EALREADY;
  if (p.b14AddSrcRules && c.addedSrc.has(provider.id)) return EALREADY;
  const f = c.filterFor(provider.id);
  f.flags = m.filter;
  f.events = m.events;
  f.pid = m.targetPid;
  f.uuid = m.targetUuid ?? '00000000-0000-0000-0000-000000000000';
  // Extensions: bits 40+k; granted only to privileged callers from xnu-8792.81.2, silently
  // ignored otherwise (§6).
  if (p.extensions && (c.privileged || !p.extensionsPrivileged)) {
    f.extensions = (m.filter >> BigInt(c.bits.extensionShift)) & c.bits.extensionMask;
  }
  c.kernel.watchersChanged(provider.id, +1);
  const result = walk(c, provider);
  if (result === 0) c.sendSuccess(m.context, 0);
  return result;
}

/** The provider's `*_add_watcher` walk: one SRC_ADDED (context 0) per existing object (§2.3). */
function walk(c: Connection, provider: Provider): number {
  const mode = provider.walkFailure(c.profile);
  const f = c.filterFor(provider.id);
  const b = c.bits;
  const initial = b.initialProperties !== 0n && (f.flags & b.initialProperties) !== 0n && provider.initialProperties;
  const ifConnMask = c.profile.ifnetFilterMask | BigInt(c.profile.dialect.constants['NSTAT_FILTER_CONN_FLAGS'] as number | undefined ?? 0);
  for (const obj of provider.walk(c.env)) {
    if (initial) {
      const want = f.flags & ifConnMask;
      if (want !== 0n && (want & BigInt(provider.initialProperties!(c.env, obj) >>> 0)) === 0n) continue;
    }
    const r = c.sourceAdd(0n, provider, obj);
    if (r === 0) continue;
    if (mode === 'continue') continue;
    if (mode === 'stop-success') return 0; // TCP/UDP: walk stops, SUCCESS anyway
    return r; // route, userland/generic (13+): ERROR, watcher stays (13+)
  }
  return 0;
}
