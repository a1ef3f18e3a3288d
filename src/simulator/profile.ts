/**
 * KernelProfile: which kernel behaviours apply to a simulated kernel.
 *
 * The wire layout comes from the Dialect (one ntstat.h header version); behaviour changed at
 * finer points than the header (BEHAVIOUR.md §0 "short" names 11 … B15), so every behaviour
 * switch is derived here from the *kernel* version (an XNU tag such as 8796.141.3), defaulting
 * to the header's first tag. Thresholds were checked against the published ntstat.c of each tag:
 *  - B14 trio (TCP/UDP ADD_SRC ENOTSUP, `nstat_control_sanitize_cookie`, `ncs_added_src`
 *    → EALREADY) first appears in xnu-8796.141.3 (macOS 13.5), as BEHAVIOUR.md §2.2 says;
 *  - the B15 set (QUERY/GET_SRC_DESC(ALL) always aggregated, SET_FILTER dispatch removed, idle
 *    check without the REQCOUNTS exemption, `proc_best_name` 32-byte names) first appears in
 *    xnu-11215.1.10 (macOS 15.0), so "B15" here means every macOS 15 kernel.
 */
import type { Dialect } from '../protocol/index.js';
import { providerId } from '../protocol/index.js';

export type Era = 'pre11' | '11' | '12' | '13' | '15' | 'B11' | 'B12' | 'B13' | 'B14' | 'B15';

export interface KernelProfile {
  readonly dialect: Dialect;
  /** The simulated kernel's XNU version, e.g. [8796, 141, 3]. */
  readonly xnu: readonly number[];
  readonly era: Era;
  /** Header has length/flags (10.11+): aggregation, continuation, GET_UPDATE, fix-up. */
  readonly hasLength: boolean;
  /** CTL_FLAG_REG_CRIT registration (10.10+): 25 % reserve and critical growth (§4). */
  readonly criticalClass: boolean;
  /** ERROR echoes the request (10.11+; 10.10 `nstat_control_send` sends a bare ERROR). */
  readonly errorEcho: boolean;
  /** 10.11 only: a non-CONTINUATION poll interrupting a paced one sends EAGAIN (§2.6). */
  readonly eagainOnPlainPollInterrupt: boolean;
  /**
   * 10.13+: `nstat_control_end_query` is given the last *processed* source, so a chunk that
   * ends exactly on the last source still carries CONTINUATION (empty final chunk, §2.6).
   */
  readonly endQueryOnLastProcessed: boolean;
  /** 10.11/10.12 `nstat_control_handle_add_all` clears the watcher bit when the walk fails. */
  readonly addAllUndoOnError: boolean;
  /** 10.13+: SUPPRESS_SRC_ADDED in ADD_ALL sets NSTAT_FLAG_SUPPORTS_UPDATES (§2.3). */
  readonly suppressSetsUpdateMode: boolean;
  /** Userland/conn/subflow ADD_ALL walk: 12 continues past failures; 13+ stops with the error. */
  readonly userlandWalk: 'continue' | 'stop-error';
  /** Unsolicited event updates (10.15+, `nstat_control_send_event`). */
  readonly events: boolean;
  /** B14 FLOW_STATE_LISTEN/OUTBOUND events from tcp_usrreq (xnu-10002+). */
  readonly flowStateEvents: boolean;
  /**
   * xnu-10002+: kernel TCP/UDP `ifnet_properties` are full u32 with SOURCE_IS_* role bits; before,
   * `nstat_tcp_copy_descriptor` truncated `nstat_inpcb_to_flags` to 16 bits (§5.9).
   */
  readonly wideIfnetProps: boolean;
  /** CLOSED_AFTER_DROP/FILTER flags and nts_reported/BORING suppression (12.1+, xnu-8019.61.5). */
  readonly closedAfterFlags: boolean;
  /** Extensions in SRC_EXTENDED_UPDATE (12.1+ form). */
  readonly extensions: boolean;
  /** Extension privilege check (xnu-8792.81.2+; 12.1–13.1 granted them to anyone). */
  readonly extensionsPrivileged: boolean;
  /** CONN_USERLAND/UDP_SUBFLOW ADD_ALL always privileged (xnu-8792.81.2+). */
  readonly connSubflowPrivileged: boolean;
  /** B14 (xnu-8796.141.3+): TCP/UDP ADD_SRC ENOTSUP, duplicate sanitising, ADD_SRC blocks ADD_ALL. */
  readonly b14AddSrcRules: boolean;
  /** B15 (xnu-11215+): every ALL poll aggregated, SET_FILTER gone, idle check for all clients. */
  readonly b15: boolean;
  /** Largest appended SRC_UPDATE: 512 up to B11, NSTAT_MAX_MSG_SIZE/2 = 2048 from xnu-8019.41.5. */
  readonly aggregatedUpdateCap: number;
  /** Largest appended SRC_DESC (`nstat_control_append_description`). */
  readonly aggregatedDescCap: number;
  /** 10.13+: ifnet threshold notices rate-limited to one per 2 s (§3.3). */
  readonly ifnetThresholdRateLimit: boolean;
  /** 10.12 bug: new UDP-userland flows are attached with the TCP-userland provider (§5.3). */
  readonly udpUserlandAsTcpBug: boolean;
  /** pname bytes: p_comm (16) up to B14, p_name (32) from B15 (§7). */
  readonly pnameBytes: number;
  /** srcref allocator: 32-bit with reuse avoidance (11) or 64-bit ++counter (12+). */
  readonly srcref32: boolean;
  /** ifnet flag bits the kernel's reporting filter considers (§2.4 masks). */
  readonly ifnetFilterMask: bigint;
  readonly providers: ProviderIds;
}

export interface ProviderIds {
  route?: number;
  tcp?: number;
  udp?: number;
  tcpUserland?: number;
  udpUserland?: number;
  quic?: number;
  conn?: number;
  udpSubflow?: number;
  ifnet?: number;
  sysinfo?: number;
}

/** Behaviour of the newest kernel anything is known about (macOS 26, xnu-12377, REAL-CAPTURES.md §2). */
const NEWEST_KNOWN_XNU = '12377';

export function parseXnu(v: string): number[] {
  const m = /(\d+(?:\.\d+)*)/.exec(v.replace(/^xnu-/, ''));
  if (!m) throw new TypeError(`not an XNU version: ${v}`);
  return m[1].split('.').map(Number);
}

export function cmpVersion(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function eraOf(x: readonly number[]): Era {
  const ge = (v: string) => cmpVersion(x, parseXnu(v)) >= 0;
  if (ge('11215')) return 'B15';
  if (ge('8796.141.3')) return 'B14';
  if (ge('8792.81.2')) return 'B13';
  if (ge('8019')) return 'B12';
  if (ge('7195')) return 'B11';
  if (ge('6153')) return '15';
  if (ge('4570')) return '13';
  if (ge('3789')) return '12';
  if (ge('3247')) return '11';
  return 'pre11';
}

/**
 * Build the profile for `dialect`, optionally for a specific kernel tag inside the dialect's
 * range (e.g. dialect xnu-8792.41.9 with kernel 8796.141.3 = macOS 13.5).
 */
export function kernelProfile(dialect: Dialect, kernelVersion?: string): KernelProfile {
  // A provisional dialect without a known xnu build (macOS 27) behaves as the newest known kernel.
  const xnu = parseXnu(kernelVersion || dialect.xnu || NEWEST_KNOWN_XNU);
  const ge = (v: string) => cmpVersion(xnu, parseXnu(v)) >= 0;
  const era = eraOf(xnu);
  const c = dialect.constants;
  const has = (k: string) => c[k] !== undefined;
  const providers: ProviderIds = {};
  for (const n of ['route', 'tcp', 'udp', 'tcpUserland', 'udpUserland', 'quic', 'conn', 'udpSubflow', 'ifnet', 'sysinfo'] as const) {
    const id = providerId(dialect, n);
    if (id !== undefined) providers[n] = id;
  }
  // §2.4: the kernel tests "any bit within the mask" with its own mask, which for 10.11 is
  // NSTAT_FILTER_ACCEPT_ALL (0x1F) although the header's IFNET_FLAGS is 0xFF (LAYOUTS.md).
  const ifMask =
    era === '11' ? 0x1fn : era === 'pre11' ? 0n : BigInt((c['NSTAT_FILTER_IFNET_FLAGS'] as number | undefined) ?? 0);
  return {
    dialect,
    xnu,
    era,
    hasLength: dialect.hasLength,
    criticalClass: ge('2782'),
    errorEcho: dialect.hasLength,
    // nstat_control_begin_query: 10.11 and 10.12.0/10.12.1 (xnu-3789.1.32, 3789.21.4) also tell the
    // old context EAGAIN on a plain poll; from xnu-3789.31.2 (10.12.2) that branch is gone.
    eagainOnPlainPollInterrupt: era === '11' || (era === '12' && !ge('3789.31.2')),
    endQueryOnLastProcessed: ge('4570'),
    addAllUndoOnError: !ge('4570'),
    suppressSetsUpdateMode: ge('4570'),
    userlandWalk: ge('4570') ? 'stop-error' : 'continue',
    events: ge('6153'),
    flowStateEvents: ge('10002'),
    wideIfnetProps: ge('10002'),
    closedAfterFlags: ge('8019.61.5') && has('NSTAT_MSG_HDR_FLAG_CLOSED_AFTER_DROP'),
    extensions: ge('8019.61.5') && has('NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE') && has('NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT'),
    extensionsPrivileged: ge('8792.81.2'),
    connSubflowPrivileged: ge('8792.81.2'),
    b14AddSrcRules: ge('8796.141.3'),
    b15: ge('11215'),
    aggregatedUpdateCap: ge('8019') ? 2048 : 512,
    aggregatedDescCap: 512,
    ifnetThresholdRateLimit: ge('4570'),
    udpUserlandAsTcpBug: era === '12',
    pnameBytes: ge('11215') ? 32 : 16,
    srcref32: dialect.srcrefSize === 4,
    ifnetFilterMask: ifMask,
    providers,
  };
}
