/**
 * The kernel's own per-process filter for ADD_ALL_SRCS: SPECIFIC_USER_BY_PID with `target_pid`
 * (BEHAVIOUR.md §2.3, §2.4). The bit moved: 0x01000000 from 10.12 up to xnu-8019.41.5 (macOS
 * 12.0), 0x100000000 from xnu-8019.61.5 (12.1) on, where 0x01000000 now means
 * CONN_HAS_NET_ACCESS (ntstat-layouts.json; the move is inside one layout family, LAYOUTS.md
 * "Traps" 3). The value therefore comes from the dialect's generated constants, never a literal.
 */
import { constantBig } from '../protocol/constants.js';
import type { Dialect } from '../protocol/dialect.js';

export interface PidFilter {
  /** Bits to OR into ADD_ALL_SRCS.filter. */
  filter: bigint;
  targetPid: number;
}

/**
 * The filter for `pid` in this dialect, or undefined when the header has no `target_pid` (before
 * 10.12/xnu-3789): then the kernel cannot filter and the caller must filter streams itself.
 */
export function pidFilterFor(dialect: Dialect, pid: number): PidFilter | undefined {
  const bit = constantBig(dialect, 'NSTAT_FILTER_SPECIFIC_USER_BY_PID');
  const hasTarget = dialect.structs.get('nstat_msg_add_all_srcs')?.byName.has('target_pid') ?? false;
  if (bit === undefined || !hasTarget) return undefined;
  return { filter: bit, targetPid: pid };
}
