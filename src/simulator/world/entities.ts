/**
 * The simulated machine's objects: processes, interfaces, routes, sockets and flows. These are
 * the kernel objects ntstat providers report on (BEHAVIOUR.md §5); the simulator's providers
 * read them to build descriptors and counts. They hold the TRUE state: ground truth.
 */
import type { Endpoint, IfnetLinkStatus } from '../../protocol/index.js';

export type InterfaceKind = 'loopback' | 'wifi' | 'wired' | 'cellular' | 'awdl' | 'llw' | 'utun' | 'companionBt' | 'other';
export type Medium = 'cell' | 'wifi' | 'wired' | 'bt' | 'loopback' | 'other';

export interface Process {
  readonly pid: number;
  /** Unique pid (`p_uniqueid`), u64. */
  readonly upid: number;
  /** Full executable name (p_name); the kernel reports 16 (p_comm) or 32 bytes of it (§7). */
  readonly name: string;
  readonly uuid: string;
  readonly uid: number;
  readonly personaId: number;
  alive: boolean;
}

export interface NetInterface {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: InterfaceKind;
  /** IFT_* type (net/if_types.h): ETHER 6, LOOP 24, CELLULAR 0xff, OTHER 1. */
  readonly ifType: number;
  readonly description: string;
  readonly expensive: boolean;
  readonly constrained: boolean;
  attached: boolean;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  /** Effective threshold (min over ifnet sources, §5.7); 0 = none. */
  threshold: number;
  /** in+out bytes at the last threshold notice. */
  thresholdBase: number;
  /** Last notice time (ms) for the 2 s rate limit (13+). */
  lastThresholdNotice: number;
  /** The driver's link status report (Wi-Fi, cellular), when it gives one (world/interfaces.ts). */
  link?: IfnetLinkStatus;
  /** Traffic not carried by any flow (before the simulation, ARP/ND/mDNS…): part of the counters above. */
  nonFlow?: InterfaceCounters;
}

/** An interface's byte and packet counters (64-bit in the kernel, `if_data`). */
export interface InterfaceCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/** True counters of one object (`nstat_counts` semantics, RTT in kernel units). */
export interface TrueCounts {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDuplicateBytes: number;
  rxOutOfOrderBytes: number;
  txRetransmit: number;
  /** 1/32 ms */
  minRtt: number;
  /** 1/32 ms */
  avgRtt: number;
  /** 1/16 ms */
  varRtt: number;
  cellRxBytes: number;
  cellTxBytes: number;
  wifiRxBytes: number;
  wifiTxBytes: number;
  wiredRxBytes: number;
  wiredTxBytes: number;
  /** Companion-link Bluetooth traffic (`inp_btstat`, B15 BLUETOOTH_COUNTS extension). */
  btRxPackets: number;
  btRxBytes: number;
  btTxPackets: number;
  btTxBytes: number;
}

export function zeroCounts(): TrueCounts {
  return {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxDuplicateBytes: 0,
    rxOutOfOrderBytes: 0,
    txRetransmit: 0,
    minRtt: 0,
    avgRtt: 0,
    varRtt: 0,
    cellRxBytes: 0,
    cellTxBytes: 0,
    wifiRxBytes: 0,
    wifiTxBytes: 0,
    wiredRxBytes: 0,
    wiredTxBytes: 0,
    btRxPackets: 0,
    btRxBytes: 0,
    btTxPackets: 0,
    btTxBytes: 0,
  };
}

export interface DomainAttribution {
  domainName: string;
  domainOwner?: string;
  domainTrackerCtxt?: string;
  domainAttributedBundleId?: string;
  isTracker?: boolean;
  isNonAppInitiated?: boolean;
  isSilent?: boolean;
}

export type ObjectKind = 'tcp' | 'udp' | 'tcpUserland' | 'udpUserland' | 'quic' | 'conn' | 'udpSubflow' | 'route' | 'ifnet';

interface ObjectBase {
  /** World object id (unique, never reused). */
  readonly id: number;
  readonly kind: ObjectKind;
  /** Bumped on every change that affects a descriptor (caches key on it). */
  version: number;
}

/** Fields shared by every transport-level flow (kernel sockets and userland flows). */
interface FlowBase extends ObjectBase {
  /** Last process to use the socket (`so->last_pid` …) or the registering process. */
  proc: Process;
  /** Delegate (SOF_DELEGATED: e_pid/e_upid/e_uuid), when the socket was delegated. */
  delegate?: Process;
  /** B14+ responsible UUID (`so_ruuid`) when not delegated (epid left 0). */
  responsibleUuid?: string;
  /** Voucher originator UUID (`so_vuuid`). */
  vuuid?: string;
  /** NECP client UUID (`necp_client_uuid` / flow registration). */
  fuuid?: string;
  family: 4 | 6;
  local?: Endpoint;
  remote?: Endpoint;
  /** Last output interface (`inp_last_outifp`), undefined before the first packet. */
  outIf?: NetInterface;
  /** Creation time (ms of simulated time). */
  readonly createdAt: number;
  counts: TrueCounts;
  /** 8 s activity slots with traffic since creation (activity_bitmap). */
  activity: bigint;
  trafficClass: number;
  /** Cell fallback in effect (NSTAT_IFNET_VIA_CELLFALLBACK). */
  viaCellFallback: boolean;
  domain?: DomainAttribution;
  /** Raw NECP TLV blob reported by the NECP_TLV extension (userland, CONN). */
  necpTlv?: Uint8Array;
  /** Closed (userland/generic) or detached (kernel pcb). */
  closed: boolean;
  closedAt?: number;
}

/** Kernel TCP/UDP socket (inpcb). */
export interface KernelSocket extends FlowBase {
  readonly kind: 'tcp' | 'udp';
  /** TCP FSM state (0 CLOSED … 4 ESTABLISHED … 10 TIME_WAIT); UDP: 0. */
  state: number;
  /** INPCB_STATE_DEAD once detached: providers call it gone, descriptors fail (§3.2). */
  pcbDead: boolean;
  /** Accepted from a listener (SOF1_INBOUND). */
  inbound: boolean;
  /** UDP connect()ed. */
  connected: boolean;
  ccAlgo: string;
  sndbufSize: number;
  sndbufUsed: number;
  rcvbufSize: number;
  rcvbufUsed: number;
  txUnacked: number;
  txWindow: number;
  txCwindow: number;
  background: boolean;
  connstatus: number;
  fallbackMode: number;
  /** The (cloned) route the connection uses: its counts accumulate there (§5.6). */
  route?: RouteEntry;
}

/** Userland TCP/UDP/QUIC flow (NECP flow registration, `ntstat_userland_stats_open`). */
export interface UserlandFlow extends FlowBase {
  readonly kind: 'tcpUserland' | 'udpUserland' | 'quic';
  state: number;
  /** `shad_live`. */
  live: boolean;
  /** NECP_CLIENT_STATISTICS_EVENT_TIME_WAIT reported. */
  timeWait: boolean;
  ccAlgo: string;
  /** ORIGINAL_* extensions (before any NECP parameter change). */
  originalDomain?: DomainAttribution;
  originalNecpTlv?: Uint8Array;
}

/** CONN_USERLAND: one NECP client (Network.framework connection). Counts always zero (§5.4). */
export interface ConnFlow extends FlowBase {
  readonly kind: 'conn';
  cuuid: string;
  puuid?: string;
  /** Open-time interface flags (INITIAL_PROPERTIES filter, §2.4). */
  readonly initialIfFlags: number;
}

/** UDP_SUBFLOW: per-peer flow of an unconnected UDP socket (`soflow_get_flow`). */
export interface UdpSubflow extends FlowBase {
  readonly kind: 'udpSubflow';
  readonly parent: KernelSocket;
}

/** A routing-table entry (`rtentry`). */
export interface RouteEntry extends ObjectBase {
  readonly kind: 'route';
  /** Kernel address hashes (u64 as decimal strings, like the decoder reports them). */
  readonly routeId: string;
  parentId: string;
  gatewayId: string;
  readonly dst: Endpoint;
  readonly mask?: Endpoint;
  readonly prefixLen: number;
  gateway?: Endpoint;
  readonly ifp: NetInterface;
  /** RTF_* flags (net/route.h): UP 0x1, GATEWAY 0x2, HOST 0x4, STATIC 0x800, CLONING 0x100, LLINFO 0x400. */
  flags: number;
  counts: TrueCounts;
  connectAttempts: number;
  connectSuccesses: number;
  /** Last time a connection picked this route (cloned routes expire a minute later). */
  lastUse?: number;
}

export type Flow = KernelSocket | UserlandFlow | ConnFlow | UdpSubflow;
export type WorldObject = Flow | RouteEntry | IfnetObject;

/**
 * The ifnet provider's cookie (`nstat_ifnet_cookie`): one per ADD_SRC, holding the interface and
 * the threshold that client asked for (the interface's effective threshold is the minimum).
 */
export interface IfnetObject extends ObjectBase {
  readonly kind: 'ifnet';
  readonly ifp: NetInterface;
  readonly threshold: number;
}

export const RTF_UP = 0x1;
export const RTF_GATEWAY = 0x2;
export const RTF_HOST = 0x4;
export const RTF_CLONING = 0x100;
export const RTF_LLINFO = 0x400;
export const RTF_STATIC = 0x800;
export const RTF_PRCLONING = 0x10000;
export const RTF_WASCLONED = 0x20000;
export const RTF_IFSCOPE = 0x1000000;

export const TCPS = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  CLOSE_WAIT: 5,
  FIN_WAIT_1: 6,
  CLOSING: 7,
  LAST_ACK: 8,
  FIN_WAIT_2: 9,
  TIME_WAIT: 10,
} as const;
