/**
 * What the providers share (BEHAVIOUR.md §5): interface flags (`nstat_ifnet_to_flags`,
 * `nstat_inpcb_to_flags`), process names, counts, effective ids, the domain extension, the
 * reporting filters, and sockaddr parsing for ADD_SRC parameters.
 */
import type { Counts, StructLayout } from '../../protocol/index.js';
import { writeStruct } from '../../protocol/fields.js';
import { type Flow, type KernelSocket, type NetInterface, TCPS, type UserlandFlow } from '../world/entities.js';
import { addrBytes } from '../world/addresses.js';
import { type ExtensionData, type ProviderEnv, type ProviderFilter, ZERO_UUID } from './provider-api.js';
// --------------------------------------------------------------------------- interface flags

/** `nstat_ifnet_to_flags`: interface functional type → NSTAT_IFNET_IS_* (dialect values). */
export function ifnetFlags(env: ProviderEnv, ifp: NetInterface): number {
  const b = env.bits;
  let f = 0;
  switch (ifp.kind) {
    case 'loopback':
      f |= b.ifLoopback;
      break;
    case 'wired':
      f |= b.ifWired;
      break;
    case 'wifi':
      f |= b.ifWifi | b.ifWifiInfra;
      break;
    case 'awdl':
      f |= b.ifWifi | b.ifAwdl;
      break;
    case 'llw':
      f |= b.ifWifi | b.ifLlw;
      break;
    case 'cellular':
      f |= b.ifCellular;
      break;
    case 'companionBt':
      f |= b.ifCompanion | b.ifCompanionBt;
      break;
    default:
      f |= b.ifUnknown;
      break;
  }
  if (ifp.expensive) f |= b.ifExpensive;
  if (ifp.constrained) f |= b.ifConstrained;
  // IS_VPN is only set by B15 kernels (§5.9).
  if (ifp.kind === 'utun' && env.profile.b15) f |= b.ifVpn;
  return f;
}

function isLocalPeer(remote: { address: string } | undefined): boolean {
  if (!remote) return false;
  const a = remote.address;
  return a.startsWith('fe80:') || a === '::1' || a.startsWith('127.') || a.startsWith('10.') || a.startsWith('192.168.') || a.startsWith('169.254.');
}

/** `nstat_inpcb_to_flags`: interface flags of the last output interface (+ local, cell fallback). */
export function flowIfFlags(env: ProviderEnv, f: Flow): number {
  const b = env.bits;
  let flags = f.outIf ? ifnetFlags(env, f.outIf) : b.ifUnknown;
  if (b.ifLocal) flags |= isLocalPeer(f.remote) ? b.ifLocal : b.ifNonLocal;
  if (f.viaCellFallback) flags |= b.ifCellFallback;
  return flags >>> 0;
}

// --------------------------------------------------------------------------- helpers

/** p_comm (16 bytes) up to B14, p_name (32 bytes) from B15, cut on a UTF-8 boundary. */
export function kernelProcName(env: ProviderEnv, name: string): string {
  const max = env.profile.pnameBytes;
  const enc = new TextEncoder().encode(name);
  if (enc.length <= max) return name;
  let n = max;
  while (n > 0 && (enc[n] & 0xc0) === 0x80) n--;
  return new TextDecoder().decode(enc.subarray(0, n));
}

export function activityBitmap(env: ProviderEnv, f: Flow): { start: number; bits: string } {
  return { start: env.world.uptimeSeconds(f.createdAt), bits: f.activity.toString(16).padStart(32, '0').slice(-32) };
}

export function timestamps(env: ProviderEnv, f: Flow): { startTimestamp: number; timestamp: number } {
  return { startTimestamp: env.world.machTicks(f.createdAt), timestamp: env.world.machTicks() };
}

export function u64(v: number): number {
  return Math.max(0, Math.floor(v));
}

/** Totals and per-medium bytes only (UDP, subflows): the other fields stay 0 (§5.2). */
export function totalsCounts(f: Flow, perMedium: boolean): Counts {
  const c = f.counts;
  return {
    rxPackets: c.rxPackets,
    rxBytes: c.rxBytes,
    txPackets: c.txPackets,
    txBytes: c.txBytes,
    rxDuplicateBytes: 0,
    rxOutOfOrderBytes: 0,
    txRetransmit: 0,
    connectAttempts: 0,
    connectSuccesses: 0,
    minRtt: 0,
    avgRtt: 0,
    varRtt: 0,
    cellRxBytes: perMedium ? c.cellRxBytes : 0,
    cellTxBytes: perMedium ? c.cellTxBytes : 0,
    wifiRxBytes: perMedium ? c.wifiRxBytes : 0,
    wifiTxBytes: perMedium ? c.wifiTxBytes : 0,
    wiredRxBytes: perMedium ? c.wiredRxBytes : 0,
    wiredTxBytes: perMedium ? c.wiredTxBytes : 0,
  };
}

/** `nstat_tcp_counts`: attempts/successes from the FSM state, RTT with min clamped to avg. */
export function tcpCounts(f: KernelSocket | UserlandFlow): Counts {
  const c = f.counts;
  return {
    ...totalsCounts(f, true),
    rxDuplicateBytes: c.rxDuplicateBytes,
    rxOutOfOrderBytes: c.rxOutOfOrderBytes,
    txRetransmit: c.txRetransmit,
    connectAttempts: f.state >= TCPS.SYN_SENT ? 1 : 0,
    connectSuccesses: f.state >= TCPS.ESTABLISHED ? 1 : 0,
    minRtt: Math.min(c.minRtt, c.avgRtt),
    avgRtt: c.avgRtt,
    varRtt: c.varRtt,
  };
}

/** Epid/eupid/euuid rules of `nstat_tcp_copy_descriptor` (§5.1). */
export function effectiveIds(env: ProviderEnv, f: Flow): { eupid: number; epid: number; euuid?: string } {
  if (f.delegate) return { eupid: f.delegate.upid, epid: f.delegate.pid, euuid: f.delegate.uuid };
  if (f.responsibleUuid && env.profile.b14AddSrcRules) return { eupid: 0, epid: 0, euuid: f.responsibleUuid };
  return { eupid: f.proc.upid, epid: f.proc.pid, euuid: f.proc.uuid };
}

export function domainItem(env: ProviderEnv, f: Flow, original: boolean): ExtensionData | undefined {
  const layout = env.profile.dialect.structs.get('nstat_domain_info');
  if (!layout) return undefined;
  const dom = original ? (f as UserlandFlow).originalDomain : f.domain;
  const isKernel = f.kind === 'tcp' || f.kind === 'udp' || f.kind === 'udpSubflow';
  if (!dom && !isKernel) return undefined;
  // Kernel TCP/UDP always answer with a (possibly empty) nstat_domain_info (`nstat_inp_domain_info`).
  const values: Record<string, unknown> = {};
  if (dom && !dom.isSilent) {
    values.domainName = dom.domainName;
    if (dom.domainOwner) values.domainOwner = dom.domainOwner;
    if (dom.domainTrackerCtxt) values.domainTrackerCtxt = dom.domainTrackerCtxt;
    if (!isKernel && dom.domainAttributedBundleId) values.domainAttributedBundleId = dom.domainAttributedBundleId;
    if (!isKernel && f.remote) values.remote = f.remote;
    values.isTracker = dom.isTracker ?? false;
    values.isNonAppInitiated = dom.isNonAppInitiated ?? false;
  }
  if (dom?.isSilent) values.isSilent = true;
  return { size: layout.size, data: writeValues(layout, values) };
}

/** writeStruct into a fresh zeroed buffer (used for extension payloads). */
export function writeValues(layout: StructLayout, values: Record<string, unknown>): Uint8Array {
  const b = new Uint8Array(layout.size);
  writeStruct(layout, b, new DataView(b.buffer), 0, values);
  return b;
}

export function uuidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * `check_reporting_for_user` / the SPECIFIC_USER part of `nstat_tcpudp_reporting_allowed`.
 * For kernel sockets the EPID test reproduces the kernel's mis-parenthesised expression
 * `npf_pid == (so_flags & SOF_DELEGATED) ? e_upid : last_pid`, true for nearly any socket (§2.4).
 */
export function userAllowed(env: ProviderEnv, filter: ProviderFilter, f: Flow, kernelSocket: boolean): boolean {
  const b = env.bits;
  const fl = filter.flags;
  if ((fl & b.specificUser) === 0n) return true;
  const uuid = f.proc.uuid;
  const eff = effectiveIds(env, f);
  if ((fl & b.byPid) !== 0n && filter.pid === f.proc.pid) return true;
  if ((fl & b.byEpid) !== 0n) {
    if (kernelSocket) {
      const delegatedBit = f.delegate ? 0x40000000 : 0;
      const v = filter.pid === delegatedBit ? (f.delegate ? f.delegate.upid : 0) : f.proc.pid;
      if (v !== 0) return true;
    } else if (filter.pid === eff.epid) return true;
  }
  if ((fl & b.byUuid) !== 0n && filter.uuid === uuid) return true;
  if ((fl & b.byEuuid) !== 0n && filter.uuid === (kernelSocket ? (f.delegate ? f.delegate.uuid : uuid) : eff.euuid ?? ZERO_UUID)) return true;
  return false;
}

/** Interface part of the reporting filter; `mask` is the version's IFNET_FLAGS mask. */
export function ifAllowed(env: ProviderEnv, filter: ProviderFilter, flags: number): boolean {
  const ifFilter = filter.flags & env.profile.ifnetFilterMask;
  if (ifFilter === 0n) return true;
  return (ifFilter & BigInt(flags >>> 0)) !== 0n;
}

// --------------------------------------------------------------------------- sockaddrs (ADD_SRC parameters)

export function parseSockaddr(b: Uint8Array, dv: DataView, off: number): { len: number; family: number; port: number; addr: string; scope: number } {
  const len = b[off];
  const family = b[off + 1];
  const port = dv.getUint16(off + 2, false);
  let addr = '';
  let scope = 0;
  if (family === 2) addr = `${b[off + 4]}.${b[off + 5]}.${b[off + 6]}.${b[off + 7]}`;
  else if (family === 30) {
    const g: string[] = [];
    for (let i = 0; i < 8; i++) g.push(dv.getUint16(off + 8 + 2 * i, false).toString(16));
    addr = g.join(':');
    scope = dv.getUint32(off + 24, true);
  }
  return { len, family, port, addr, scope };
}

export function sameAddr(a: string, b: string): boolean {
  const x = addrBytes(a);
  const y = addrBytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
export function isAny(a: string): boolean {
  return addrBytes(a).every((v) => v === 0);
}
