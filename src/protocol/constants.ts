/**
 * Semantic names over the per-dialect constants. Numbers come from the dialect's own header
 * facts (never from the newest header: LAYOUTS.md "Traps" 3); this module only names them.
 */
import type { Dialect } from './dialect.js';

/** Message types are stable across every header version (BEHAVIOUR.md A.1). */
export const MessageType = {
  SUCCESS: 0,
  ERROR: 1,
  ADD_SRC: 1001,
  ADD_ALL_SRCS: 1002,
  REM_SRC: 1003,
  QUERY_SRC: 1004,
  GET_SRC_DESC: 1005,
  SET_FILTER: 1006,
  GET_UPDATE: 1007,
  SUBSCRIBE_SYSINFO: 1008,
  SRC_ADDED: 10001,
  SRC_REMOVED: 10002,
  SRC_DESC: 10003,
  SRC_COUNTS: 10004,
  SYSINFO_COUNTS: 10005,
  SRC_UPDATE: 10006,
  SRC_EXTENDED_UPDATE: 10007,
} as const;

/** Header flags (10.11+). */
export const HeaderFlag = {
  SUPPORTS_AGGREGATE: 0x1,
  CONTINUATION: 0x2,
  CLOSING: 0x4,
  CLOSED_AFTER_DROP: 0x8,
  CLOSED_AFTER_FILTER: 0x10,
  CLOSED_AFTER_GONE: 0x40,
} as const;

/** Our provider names. `tcp`/`udp` are the kernel providers (ids 2/3 before 10.12, 2/4 after). */
export type ProviderName =
  | 'route'
  | 'tcp'
  | 'udp'
  | 'tcpUserland'
  | 'udpUserland'
  | 'quic'
  | 'conn'
  | 'udpSubflow'
  | 'ifnet'
  | 'sysinfo';

const PROVIDER_CONSTANTS: Record<ProviderName, readonly string[]> = {
  route: ['NSTAT_PROVIDER_ROUTE'],
  tcp: ['NSTAT_PROVIDER_TCP_KERNEL', 'NSTAT_PROVIDER_TCP'],
  udp: ['NSTAT_PROVIDER_UDP_KERNEL', 'NSTAT_PROVIDER_UDP'],
  tcpUserland: ['NSTAT_PROVIDER_TCP_USERLAND'],
  udpUserland: ['NSTAT_PROVIDER_UDP_USERLAND'],
  quic: ['NSTAT_PROVIDER_QUIC_USERLAND'],
  conn: ['NSTAT_PROVIDER_CONN_USERLAND'],
  udpSubflow: ['NSTAT_PROVIDER_UDP_SUBFLOW'],
  ifnet: ['NSTAT_PROVIDER_IFNET'],
  sysinfo: ['NSTAT_PROVIDER_SYSINFO'],
};

export const PROVIDER_NAMES = Object.keys(PROVIDER_CONSTANTS) as ProviderName[];

/** The descriptor struct each provider sends (QUIC uses the TCP descriptor: LAYOUTS.md trap 4). */
export const DESCRIPTOR_STRUCT: Record<ProviderName, string> = {
  route: 'nstat_route_descriptor',
  tcp: 'nstat_tcp_descriptor',
  tcpUserland: 'nstat_tcp_descriptor',
  quic: 'nstat_tcp_descriptor',
  udp: 'nstat_udp_descriptor',
  udpUserland: 'nstat_udp_descriptor',
  udpSubflow: 'nstat_udp_descriptor',
  conn: 'nstat_connection_descriptor',
  ifnet: 'nstat_ifnet_descriptor',
  sysinfo: 'nstat_sysinfo_descriptor',
};

/** Provider id for a name in this dialect, or undefined when the header has no such provider. */
export function providerId(dialect: Dialect, name: ProviderName): number | undefined {
  for (const c of PROVIDER_CONSTANTS[name]) {
    const v = dialect.constants[c];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

const providerNameCache = new WeakMap<Dialect, Map<number, ProviderName>>();
/** Provider name for an id in this dialect, or undefined for an id the header does not define. */
export function providerName(dialect: Dialect, id: number): ProviderName | undefined {
  let m = providerNameCache.get(dialect);
  if (!m) {
    m = new Map();
    for (const n of PROVIDER_NAMES) {
      const pid = providerId(dialect, n);
      if (pid !== undefined) m.set(pid, n);
    }
    providerNameCache.set(dialect, m);
  }
  return m.get(id);
}

/** A constant of this dialect as a bigint (filter/event masks are u64). */
export function constantBig(dialect: Dialect, name: string): bigint | undefined {
  const v = dialect.constants[name];
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  return undefined;
}

/** NSTAT_SRC_REF_ALL: 0xffffffff before 10.12, all-ones u64 after (LAYOUTS.md trap 8). */
export function srcrefAll(dialect: Dialect): bigint {
  return dialect.srcrefSize === 8 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
}

/** TCP FSM states (netinet/tcp_fsm.h; BEHAVIOUR.md §5.1: 0 CLOSED … 4 ESTABLISHED … 10 TIME_WAIT). */
export const TCP_STATES = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RECEIVED',
  'ESTABLISHED',
  'CLOSE_WAIT',
  'FIN_WAIT_1',
  'CLOSING',
  'LAST_ACK',
  'FIN_WAIT_2',
  'TIME_WAIT',
] as const;
export type TcpStateName = (typeof TCP_STATES)[number];

export function tcpStateName(state: number): string {
  return TCP_STATES[state] ?? `STATE_${state}`;
}

/** Darwin errno values (bsd/sys/errno.h; BEHAVIOUR.md §0). Note ENOTSUP 45 vs EOPNOTSUPP 102. */
export const DarwinErrno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EINVAL: 22,
  EAGAIN: 35,
  EALREADY: 37,
  EMSGSIZE: 40,
  EPROTOTYPE: 41,
  ENOTSUP: 45,
  EAFNOSUPPORT: 47,
  ENOBUFS: 55,
  ENOTCONN: 57,
  EOPNOTSUPP: 102,
} as const;

const ERRNO_NAMES = new Map<number, string>(Object.entries(DarwinErrno).map(([k, v]) => [v, k]));
export function darwinErrnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** Socket address families on Darwin (bsd/sys/socket.h). */
export const AF_INET = 2;
export const AF_INET6 = 30;
