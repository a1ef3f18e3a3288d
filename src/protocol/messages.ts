/**
 * Typed protocol messages, the output of decodeDatagram and the input of encodeMessage.
 * Every message kind of every dialect, requests and responses alike (the simulator reuses them).
 */
import type { ProviderName } from './constants.js';
import type { FieldValue } from './fields.js';
import type { Endpoint, OtherSockaddr } from './sockaddr.js';

/**
 * Counters of one source (`nstat_counts`). 64-bit counters are exact JS numbers (values above
 * 2^53 are rejected with ERR_NTSTAT_RANGE instead of being rounded). RTTs are in kernel units:
 * minRtt/avgRtt 1/32 ms, varRtt 1/16 ms (BEHAVIOUR.md §5.1); the model converts to ms.
 * Fields a dialect lacks (cell/wifi before 10.9, wired before 10.10) are absent.
 */
export interface Counts {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDuplicateBytes: number;
  rxOutOfOrderBytes: number;
  txRetransmit: number;
  connectAttempts: number;
  connectSuccesses: number;
  minRtt: number;
  avgRtt: number;
  varRtt: number;
  cellRxBytes?: number;
  cellTxBytes?: number;
  wifiRxBytes?: number;
  wifiTxBytes?: number;
  wiredRxBytes?: number;
  wiredTxBytes?: number;
}

/** A decoded descriptor: camelCase names of the dialect's descriptor fields. */
export interface Descriptor {
  [field: string]: FieldValue;
  /** IP endpoints; a sockaddr of another family decodes as OtherSockaddr (kept, not guessed). */
  local?: Endpoint | OtherSockaddr;
  remote?: Endpoint | OtherSockaddr;
  ifindex?: number;
  state?: number;
  pid?: number;
  epid?: number;
  upid?: number;
  eupid?: number;
  pname?: string;
  uuid?: string;
  euuid?: string;
  ifnetProperties?: number;
}

export interface DomainInfo {
  domainName?: string;
  domainOwner?: string;
  domainTrackerCtxt?: string;
  domainAttributedBundleId?: string;
  remote?: Endpoint | OtherSockaddr;
  isTracker?: boolean;
  isNonAppInitiated?: boolean;
  isSilent?: boolean;
}

/** One item of a SRC_EXTENDED_UPDATE (BEHAVIOUR.md §6). */
export interface ExtensionItem {
  type: number;
  /** Length as sent (exact for single updates, padded to 8 in aggregated ones). */
  length: number;
  data: Uint8Array;
  /** Decoded for DOMAIN (1) and ORIGINAL_DOMAIN (4). */
  domain?: DomainInfo;
}

export interface SysinfoKeyval {
  key: number;
  flags: number;
  /** The value union as a signed 64-bit scalar. */
  scalar: bigint;
  /** The same 8 bytes read as an IEEE double (distribution values). */
  distribution: number;
  /** Declared value size (10.13+ keyvals). */
  valsize?: number;
  /** Raw value bytes (8 before 10.13, 24 after). */
  value: Uint8Array;
}

interface Base {
  /** Request/response matching value chosen by the client; 0 for unsolicited messages. */
  context: bigint;
  /** Header flags (0 before 10.11, where the header has no flags). */
  flags: number;
  /**
   * Bytes beyond the known layout, counted and not decoded (unverified dialects only: a kernel
   * newer than every published header whose message or descriptor grew).
   */
  trailing?: number;
}

export interface SuccessMessage extends Base { kind: 'success' }
export interface ErrorMessage extends Base {
  kind: 'error';
  errno: number;
  /** The failed request echoed by the kernel after the ERROR struct (10.11+), if any. */
  request?: Uint8Array;
}
export interface SrcAddedMessage extends Base { kind: 'srcAdded'; srcref: bigint; provider: number }
export interface SrcRemovedMessage extends Base { kind: 'srcRemoved'; srcref: bigint }
export interface SrcCountsMessage extends Base { kind: 'srcCounts'; srcref: bigint; eventFlags: bigint; counts: Counts }
export interface SrcDescMessage extends Base {
  kind: 'srcDesc';
  srcref: bigint;
  eventFlags: bigint;
  provider: number;
  /** Decoded descriptor; undefined when the provider id is unknown to the dialect (see `raw`). */
  descriptor?: Descriptor;
  raw?: Uint8Array;
}
export interface SrcUpdateMessage extends Base {
  kind: 'srcUpdate';
  srcref: bigint;
  eventFlags: bigint;
  counts: Counts;
  provider: number;
  descriptor?: Descriptor;
  raw?: Uint8Array;
  /** true for SRC_EXTENDED_UPDATE (10007). */
  extended?: boolean;
  extensions?: ExtensionItem[];
}
export interface SysinfoCountsMessage extends Base { kind: 'sysinfoCounts'; srcref: bigint; keyvals: SysinfoKeyval[] }

export interface AddSrcRequest extends Base { kind: 'addSrc'; provider: number; param: Uint8Array }
export interface AddAllSrcsRequest extends Base {
  kind: 'addAllSrcs';
  provider: number;
  filter: bigint;
  events: bigint;
  targetPid: number;
  targetUuid?: string;
}
export interface SrcrefRequest extends Base { kind: 'remSrc' | 'querySrc' | 'getSrcDesc' | 'getUpdate'; srcref: bigint }
export interface SetFilterRequest extends Base { kind: 'setFilter'; srcref: bigint; filter: number }
export interface SubscribeSysinfoRequest extends Base { kind: 'subscribeSysinfo' }

export type Request = AddSrcRequest | AddAllSrcsRequest | SrcrefRequest | SetFilterRequest | SubscribeSysinfoRequest;
export type Response =
  | SuccessMessage
  | ErrorMessage
  | SrcAddedMessage
  | SrcRemovedMessage
  | SrcCountsMessage
  | SrcDescMessage
  | SrcUpdateMessage
  | SysinfoCountsMessage;
export type Message = Request | Response;
export type MessageKind = Message['kind'];

export function isRequest(m: Message): m is Request {
  return (
    m.kind === 'addSrc' ||
    m.kind === 'addAllSrcs' ||
    m.kind === 'remSrc' ||
    m.kind === 'querySrc' ||
    m.kind === 'getSrcDesc' ||
    m.kind === 'getUpdate' ||
    m.kind === 'setFilter' ||
    m.kind === 'subscribeSysinfo'
  );
}

export type { ProviderName };
