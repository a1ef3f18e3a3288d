/**
 * Interface events (issue 13 §2): what the ifnet provider reports about one network interface —
 * its index, BSD name, kind, link status and the kernel's own 64-bit counters (`if_ibytes` …,
 * `nstat_ifnet_counts`), with rates. Built from the ifnet source's stream (descriptor + counts);
 * they are their own event, never mixed with flows: `{event: "interface", change, …}` in JSON.
 */
import type { Dialect } from '../protocol/dialect.js';
import { decodeIfnetLinkStatus, type IfnetLinkStatus } from '../protocol/ifnet.js';
import type { Descriptor } from '../protocol/messages.js';
import type { StreamEvent } from './events.js';
import type { InterfaceKind, Stream } from './stream.js';

export type InterfaceChange = 'added' | 'update' | 'removed';

export interface InterfaceStat {
  /** The ifnet source's srcref, decimal. */
  id: string;
  /** if_index. */
  index: number;
  /** BSD name (en0, utun3), from the descriptor (or the interface list before it arrives). */
  name?: string;
  kind: InterfaceKind;
  /** IFT_* type (net/if_types.h: ETHER 6, LOOP 24, CELLULAR 0xff). */
  ifType?: number;
  /** The driver's description (may be cut at 128 bytes without a NUL, §5.7). */
  description?: string;
  link: IfnetLinkStatus;
  /** The interface's effective notification threshold in bytes (the minimum over all clients). */
  threshold?: number;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  /** Bytes/s since the previous sample (absent until two samples exist). */
  rxBytesPerSec?: number;
  txBytesPerSec?: number;
  firstSeen: number;
  lastUpdated: number;
  /** The interface went away (detached). */
  closed: boolean;
}

export interface InterfaceEvent {
  change: InterfaceChange;
  /** ms since epoch (the client's clock). */
  time: number;
  interface: InterfaceStat;
  /** The interface existed when the subscription started. */
  initial?: boolean;
}

/** IFT_* values (net/if_types.h). */
const IFT_ETHER = 0x6;
const IFT_LOOP = 0x18;
const IFT_IEEE80211 = 0x47;
const IFT_CELLULAR = 0xff;

/**
 * The interface's kind from what the descriptor says: the link status type (Wi-Fi and cellular
 * drivers report one), the IFT type, and the name for AWDL/LLW (Ethernet-typed on macOS). An
 * Ethernet-typed interface without a Wi-Fi report counts as wired.
 */
export function ifnetKind(d: Descriptor, link: IfnetLinkStatus): InterfaceKind {
  const type = typeof d.type === 'number' ? d.type : undefined;
  const name = typeof d.name === 'string' ? d.name : '';
  if (link.type === 'wifi' || type === IFT_IEEE80211) return 'wifi';
  if (link.type === 'cellular' || type === IFT_CELLULAR) return 'cellular';
  if (type === IFT_LOOP) return 'loopback';
  if (/^(awdl|llw)\d/.test(name)) return 'awdl';
  if (type === IFT_ETHER) return 'wired';
  return type === undefined ? 'unknown' : 'other';
}

/** The interface view of an ifnet source's stream. `names` fills the name before the descriptor. */
export function interfaceFromStream(dialect: Dialect, s: Stream, names?: ReadonlyMap<number, string>): InterfaceStat {
  const d = s.descriptor ?? {};
  const link = decodeIfnetLinkStatus(dialect, d.linkStatus instanceof Uint8Array ? d.linkStatus : undefined);
  const index = typeof d.ifindex === 'number' ? d.ifindex : s.ifindex ?? 0;
  const c = s.counts;
  const out: InterfaceStat = {
    id: s.id,
    index,
    kind: ifnetKind(d, link),
    link,
    rxBytes: c?.rxBytes ?? 0,
    txBytes: c?.txBytes ?? 0,
    rxPackets: c?.rxPackets ?? 0,
    txPackets: c?.txPackets ?? 0,
    firstSeen: s.firstSeen,
    lastUpdated: s.lastUpdated,
    closed: s.closed,
  };
  const name = s.ifname ?? names?.get(index);
  if (name !== undefined) out.name = name;
  if (typeof d.type === 'number') out.ifType = d.type;
  if (typeof d.description === 'string') out.description = d.description;
  if (typeof d.threshold === 'number') out.threshold = d.threshold;
  if (s.rxBytesPerSec !== undefined) out.rxBytesPerSec = s.rxBytesPerSec;
  if (s.txBytesPerSec !== undefined) out.txBytesPerSec = s.txBytesPerSec;
  return out;
}

export function interfaceEventFrom(dialect: Dialect, ev: StreamEvent, names?: ReadonlyMap<number, string>): InterfaceEvent {
  const out: InterfaceEvent = { change: ev.event, time: ev.time, interface: interfaceFromStream(dialect, ev.stream, names) };
  if (ev.initial) out.initial = true;
  return out;
}

/** One line of `ntstat json` for an interface (schema/events.schema.json, "interface"). */
export interface JsonInterfaceEvent {
  event: 'interface';
  change: InterfaceChange;
  time: string;
  id: string;
  index: number;
  name?: string;
  kind: InterfaceKind;
  type?: number;
  description?: string;
  link: { type: string; typeValue?: number } & Record<string, number | string>;
  threshold?: number;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxBytesPerSec?: number;
  txBytesPerSec?: number;
  initial?: boolean;
}

export function interfaceToJson(ev: InterfaceEvent): JsonInterfaceEvent {
  const i = ev.interface;
  const j: JsonInterfaceEvent = { event: 'interface', change: ev.change, time: new Date(ev.time).toISOString(), id: i.id, index: i.index, kind: i.kind, link: { type: i.link.type } } as JsonInterfaceEvent;
  if (i.name !== undefined) j.name = i.name;
  if (i.ifType !== undefined) j.type = i.ifType;
  if (i.description !== undefined) j.description = i.description;
  if (i.link.typeValue !== undefined) j.link.typeValue = i.link.typeValue;
  for (const [k, v] of Object.entries(i.link.fields ?? {})) j.link[k] = v;
  if (i.threshold !== undefined) j.threshold = i.threshold;
  j.rxBytes = i.rxBytes;
  j.txBytes = i.txBytes;
  j.rxPackets = i.rxPackets;
  j.txPackets = i.txPackets;
  if (i.rxBytesPerSec !== undefined) j.rxBytesPerSec = Math.round(i.rxBytesPerSec);
  if (i.txBytesPerSec !== undefined) j.txBytesPerSec = Math.round(i.txBytesPerSec);
  if (ev.initial) j.initial = true;
  return j;
}
