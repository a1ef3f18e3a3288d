/**
 * Filter, event and interface-flag values of one dialect, taken from its own header constants
 * (never from the newest header: LAYOUTS.md trap 3). Absent constants are 0n: a bit the header
 * does not define can never match.
 */
import { constantBig, type Dialect } from '../../protocol/index.js';

export interface Bits {
  // ADD_ALL filter bits (§2.4)
  providerNoZeroBytes: bigint;
  suppressSrcAdded: bigint;
  tcpNoEarlyClose: bigint;
  byPid: bigint;
  byEpid: bigint;
  byUuid: bigint;
  byEuuid: bigint;
  specificUser: bigint;
  suppressBoringClose: bigint;
  suppressBoringPoll: bigint;
  initialProperties: bigint;
  acceptCellular: bigint;
  acceptExpensive: bigint;
  acceptWifi: bigint;
  acceptWired: bigint;
  acceptCompanionBt: bigint;
  extensionShift: number;
  extensionMask: bigint;
  extensionMax: number;
  // per-source filter (SET_FILTER u32)
  srcNoZeroBytes: number;
  // events (§3.3)
  evEnterCellFallback: bigint;
  evExitCellFallback: bigint;
  evListen: bigint;
  evOutbound: bigint;
  evFlowUuidAssigned: bigint;
  evFlowUuidChanged: bigint;
  evAttributionChange: bigint;
  // NSTAT_IFNET_IS_* (§5.9)
  ifUnknown: number;
  ifLoopback: number;
  ifCellular: number;
  ifWifi: number;
  ifWired: number;
  ifAwdl: number;
  ifExpensive: number;
  ifVpn: number;
  ifCellFallback: number;
  ifCompanion: number;
  ifCompanionBt: number;
  ifConstrained: number;
  ifLocal: number;
  ifNonLocal: number;
  ifLlw: number;
  ifWifiInfra: number;
  roleListener: number;
  roleInbound: number;
  roleOutbound: number;
  // header flags
  closedAfterDrop: number;
  closedAfterFilter: number;
}

const cache = new WeakMap<Dialect, Bits>();

export function bitsFor(d: Dialect): Bits {
  let b = cache.get(d);
  if (b) return b;
  const big = (n: string) => constantBig(d, n) ?? 0n;
  const num = (n: string) => {
    const v = d.constants[n];
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
  };
  b = {
    providerNoZeroBytes: big('NSTAT_FILTER_PROVIDER_NOZEROBYTES'),
    suppressSrcAdded: big('NSTAT_FILTER_SUPPRESS_SRC_ADDED'),
    tcpNoEarlyClose: big('NSTAT_FILTER_TCP_NO_EARLY_CLOSE'),
    byPid: big('NSTAT_FILTER_SPECIFIC_USER_BY_PID'),
    byEpid: big('NSTAT_FILTER_SPECIFIC_USER_BY_EPID'),
    byUuid: big('NSTAT_FILTER_SPECIFIC_USER_BY_UUID'),
    byEuuid: big('NSTAT_FILTER_SPECIFIC_USER_BY_EUUID'),
    specificUser: big('NSTAT_FILTER_SPECIFIC_USER'),
    suppressBoringClose: big('NSTAT_FILTER_SUPPRESS_BORING_CLOSE'),
    suppressBoringPoll: big('NSTAT_FILTER_SUPPRESS_BORING_POLL'),
    initialProperties: big('NSTAT_FILTER_INITIAL_PROPERTIES'),
    acceptCellular: big('NSTAT_FILTER_ACCEPT_CELLULAR'),
    acceptExpensive: big('NSTAT_FILTER_ACCEPT_EXPENSIVE'),
    acceptWifi: big('NSTAT_FILTER_ACCEPT_WIFI'),
    acceptWired: big('NSTAT_FILTER_ACCEPT_WIRED'),
    acceptCompanionBt: big('NSTAT_FILTER_ACCEPT_COMPANIONLINK_BT'),
    extensionShift: num('NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT'),
    extensionMask: big('NSTAT_EXTENDED_UPDATE_FLAG_MASK'),
    extensionMax: num('NSTAT_EXTENDED_UPDATE_TYPE_MAX'),
    srcNoZeroBytes: num('NSTAT_FILTER_NOZEROBYTES') || 1,
    evEnterCellFallback: big('NSTAT_EVENT_SRC_ENTER_CELLFALLBACK'),
    evExitCellFallback: big('NSTAT_EVENT_SRC_EXIT_CELLFALLBACK'),
    evListen: big('NSTAT_EVENT_SRC_FLOW_STATE_LISTEN'),
    evOutbound: big('NSTAT_EVENT_SRC_FLOW_STATE_OUTBOUND'),
    evFlowUuidAssigned: big('NSTAT_EVENT_SRC_FLOW_UUID_ASSIGNED'),
    evFlowUuidChanged: big('NSTAT_EVENT_SRC_FLOW_UUID_CHANGED'),
    evAttributionChange: big('NSTAT_EVENT_SRC_ATTRIBUTION_CHANGE'),
    ifUnknown: num('NSTAT_IFNET_IS_UNKNOWN_TYPE'),
    ifLoopback: num('NSTAT_IFNET_IS_LOOPBACK'),
    ifCellular: num('NSTAT_IFNET_IS_CELLULAR'),
    ifWifi: num('NSTAT_IFNET_IS_WIFI'),
    ifWired: num('NSTAT_IFNET_IS_WIRED'),
    ifAwdl: num('NSTAT_IFNET_IS_AWDL'),
    ifExpensive: num('NSTAT_IFNET_IS_EXPENSIVE'),
    ifVpn: num('NSTAT_IFNET_IS_VPN'),
    ifCellFallback: num('NSTAT_IFNET_VIA_CELLFALLBACK'),
    ifCompanion: num('NSTAT_IFNET_IS_COMPANIONLINK'),
    ifCompanionBt: num('NSTAT_IFNET_IS_COMPANIONLINK_BT'),
    ifConstrained: num('NSTAT_IFNET_IS_CONSTRAINED'),
    ifLocal: num('NSTAT_IFNET_IS_LOCAL'),
    ifNonLocal: num('NSTAT_IFNET_IS_NON_LOCAL'),
    ifLlw: num('NSTAT_IFNET_IS_LLW'),
    ifWifiInfra: num('NSTAT_IFNET_IS_WIFI_INFRA'),
    roleListener: num('NSTAT_SOURCE_IS_LISTENER'),
    roleInbound: num('NSTAT_SOURCE_IS_INBOUND'),
    roleOutbound: num('NSTAT_SOURCE_IS_OUTBOUND'),
    closedAfterDrop: num('NSTAT_MSG_HDR_FLAG_CLOSED_AFTER_DROP'),
    closedAfterFilter: num('NSTAT_MSG_HDR_FLAG_CLOSED_AFTER_FILTER'),
  };
  cache.set(d, b);
  return b;
}
