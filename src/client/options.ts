/**
 * The client's public vocabulary: options, states, provider status, drop reasons and the event
 * shapes (re-exported by client.ts, the only entry users import them from).
 */
import type { ProviderName } from '../protocol/constants.js';
import type { Dialect } from '../protocol/dialect.js';
import type { Stream } from '../model/stream.js';
import type { InterfaceNames } from '../model/interface-names.js';
import type { Transport } from '../transport/transport.js';
import type { ClientEventMap } from './events.js';
import type { CalibrationFlowMaker } from './calibration-flow.js';
import type { SelfTestMode } from './calibration.js';

/** Provider groups a user asks for. */
export type ClientProvider = 'tcp' | 'udp' | 'quic' | 'conn' | 'udpSubflow' | 'route' | 'ifnet' | 'sysinfo';

export const GROUPS: Record<ClientProvider, ProviderName[]> = {
  tcp: ['tcp', 'tcpUserland'],
  udp: ['udp', 'udpUserland'],
  quic: ['quic'],
  conn: ['conn'],
  udpSubflow: ['udpSubflow'],
  route: ['route'],
  ifnet: ['ifnet'],
  sysinfo: ['sysinfo'],
};

export type ClientState = 'idle' | 'connecting' | 'subscribing' | 'running' | 'stopping' | 'closed';

export interface ProviderStatus {
  provider: ProviderName;
  available: boolean;
  /** Why not: e.g. 'ENOENT: not in this kernel', 'EPERM: needs root or an entitlement'. */
  reason?: string;
  errno?: number;
}

export type DropReason =
  | 'enobufs' // ERROR ENOBUFS/ENOMEM for one of our requests (§4)
  | 'send-enobufs' // send() itself failed for lack of queue space
  | 'truncated' // a record larger than the receive buffer (MSG_TRUNC)
  | 'closed-after-drop' // SRC_REMOVED with CLOSED_AFTER_DROP: the goodbye update was lost
  | 'vanished' // a source missing from complete sweeps: its SRC_REMOVED was lost
  | 'timeout' // a request never completed: its SUCCESS/ERROR was lost
  | 'batch-lost' // a paced chunk reported fewer sources than it covered: aggregated batches dropped
  | 'flush-failed' // macOS 15: net.stats.stats nstat_flush_accumulated_msgs_failures rose during a sweep
  | 'malformed'; // a record that does not decode for the dialect

export interface DropInfo {
  reason: DropReason;
  count: number;
  total: number;
}

export interface ClientOptions {
  /** Default ['tcp', 'udp']. */
  providers?: readonly ClientProvider[];
  /** Poll interval in ms (default 1000). 0 disables automatic polling: call `sweep()`. */
  interval?: number;
  signal?: AbortSignal;
  /** Inject a transport (simulator, socket, replay); otherwise the macOS kernel is opened. */
  transport?: Transport;
  /** The kernel's dialect, required with an injected transport (a Dialect or a version string). */
  dialect?: Dialect | string;
  /** SO_RCVBUF to request before subscribing (default 4 MiB, BEHAVIOUR.md §4). */
  receiveBufferSize?: number;
  /** Clock for stream timestamps (ms); default Date.now. */
  clock?: () => number;
  /** How long to wait for a SUCCESS/ERROR (default 10 s). */
  requestTimeout?: number;
  /**
   * macOS 15+: reads sysctl net.stats.stats `nstat_flush_accumulated_msgs_failures` (a rise during
   * a sweep means aggregated batches were lost, see loss.ts). Default: the real sysctl for the live
   * kernel; none for an injected transport (the simulator offers `kernel.nstatStats()`).
   */
  flushFailures?: () => number | undefined;
  /**
   * Ask for domain names (the DOMAIN extension, macOS 12.1+, §6). The kernel honours it only for a
   * privileged client (from xnu-8792.81.2) and ignores it silently otherwise; updates grow by
   * ~1 KiB per source, so it is off unless asked for.
   */
  domains?: boolean;
  /**
   * Observe only: send no request, just interpret what arrives (a replayed recording, a tap).
   * Streams reported before the first SUCCESS (the recorded subscription walk) are `initial`.
   */
  passive?: boolean;
  /**
   * Layout self-test (issue 12): 'auto' (default) runs it when the dialect is unverified (a kernel
   * newer than every published header), 'always' runs it anyway, 'never' skips it.
   */
  selfTest?: SelfTestMode;
  /** Makes the self-test's flows (default: real loopback sockets in this process). */
  calibrationFlows?: CalibrationFlowMaker;
  /**
   * Ask the kernel to report only this pid's sources (SPECIFIC_USER_BY_PID, see pid-filter.ts).
   * Headers before 10.12 have no `target_pid`: there the kernel cannot filter and every stream
   * still arrives (check `stream.pid`).
   */
  pid?: number;
  /**
   * The watched machine's interfaces (index <-> BSD name, model/interface-names.ts): each flow gets
   * `ifname` from its ifindex. Default: if_nameindex() for the live kernel; none otherwise.
   */
  interfaceNames?: InterfaceNames;
  /** Bytes in+out per ifnet threshold notice, ≥ 1 MiB (default 1 GiB, see ifnet.ts). */
  ifnetThreshold?: number;
}

export type ClientEvent =
  | { type: 'added' | 'update' | 'removed'; stream: Stream; time: number; initial?: boolean }
  | { type: 'drop'; drop: DropInfo };

/** The client's events: names and listener payloads (src/client/events.ts). */
export type ClientEvents = ClientEventMap<DropInfo>;
