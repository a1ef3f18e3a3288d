/**
 * What `ntstat doctor` says about privilege and visibility (issue 13 §2):
 *  - net.statistics_privcheck (BEHAVIOUR.md §1): 0 (the macOS default) lets any user subscribe to
 *    kernel TCP/UDP; otherwise ADD_ALL needs root or the entitlement;
 *  - which flows this client actually sees, counted by uid (descriptors carry `uid` from macOS 14)
 *    and pid: third parties report that macOS 26/27 show an unprivileged client only its own
 *    user's flows, so doctor says plainly when everything it sees is its own.
 */
import type { Stream } from '../model/stream.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';

/** net.statistics_privcheck: from the source (simulator), else the live kernel's sysctl. */
export async function readPrivcheck(o: CliOptions, io: CliIo, fromSource?: () => number | undefined): Promise<number | undefined> {
  if (fromSource) return fromSource();
  if (io.platform !== 'darwin' || o.simulate || o.socket) return undefined;
  try {
    const { readIntSysctl } = await import('../transport/darwin.js');
    return readIntSysctl('net.statistics_privcheck');
  } catch {
    return undefined;
  }
}

export function privcheckText(value: number | undefined): string {
  if (value === undefined) return 'net.statistics_privcheck unreadable';
  return value === 0
    ? 'net.statistics_privcheck = 0: any user may subscribe to kernel TCP/UDP (sysinfo, conn, udpSubflow and extensions still need root or the entitlement)'
    : `net.statistics_privcheck = ${value}: subscribing needs root or the network-statistics entitlement`;
}

export interface Self {
  uid?: number;
  pid: number;
}

function uidOf(s: Stream): number | undefined {
  const u = (s.descriptor as { uid?: unknown } | undefined)?.uid;
  return typeof u === 'number' ? u : undefined;
}

/** One line: flows seen, by uid and pid, and whether they are only this user's / process's own. */
export function visibilityText(streams: readonly Stream[], self: Self): string {
  if (streams.length === 0) return 'no flows seen in one sweep';
  const uids = new Map<number, number>();
  const pids = new Map<number, number>();
  for (const s of streams) {
    const u = uidOf(s);
    if (u !== undefined) uids.set(u, (uids.get(u) ?? 0) + 1);
    if (s.pid !== undefined) pids.set(s.pid, (pids.get(s.pid) ?? 0) + 1);
  }
  const byUid = [...uids].sort((a, b) => b[1] - a[1]).map(([u, n]) => `uid ${u}: ${n}`).join(', ');
  const head = `${streams.length} flows from ${pids.size} processes${uids.size ? ` (${byUid})` : ' (this kernel does not report uids)'}`;
  if (self.uid !== undefined && uids.size === 1 && uids.has(self.uid) && self.uid !== 0) {
    return `${head}: ONLY this user's own flows (uid ${self.uid}) — this kernel shows an unprivileged client only its own user's flows; run as root to see all`;
  }
  if (pids.size === 1 && pids.has(self.pid)) return `${head}: ONLY this process's own flows — other processes' flows are hidden from this client`;
  return `${head}: flows of other ${uids.size > 1 ? 'users' : 'processes'} are visible`;
}
