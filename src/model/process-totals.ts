/**
 * Per-process totals that are monotonic: bytes of closed flows keep counting, unlike
 * `nettop -P`, whose per-process numbers drop when a connection closes. Fed with stream events;
 * groups by pid, by process name, or by the effective (delegated) process.
 */
import type { Stream } from './stream.js';

export type GroupBy = 'pid' | 'process' | 'epid';

export interface ProcessTotal {
  key: string;
  pid?: number;
  process?: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  /** Live streams in this group now. */
  liveStreams: number;
  /** Streams ever seen in this group. */
  totalStreams: number;
  /** Bytes/s over the last update window (sum over live streams). */
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

interface Seen {
  key: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

export function groupKey(s: Stream, by: GroupBy): string {
  switch (by) {
    case 'pid':
      return `pid:${s.pid ?? '?'}`;
    case 'process':
      return `name:${s.process ?? '?'}`;
    case 'epid':
      // The effective process: the delegate when the socket was delegated (BEHAVIOUR.md §5.1).
      return `pid:${s.epid || s.pid || '?'}`;
  }
}

export class ProcessTotals {
  /** @internal */
  private readonly groups = new Map<string, ProcessTotal>();
  /** @internal */
  private readonly seen = new Map<string, Seen>();

  constructor(readonly by: GroupBy) {}

  /** Account one event; counter deltas are never negative, so totals only grow. */
  apply(event: 'added' | 'update' | 'removed', s: Stream): void {
    const key = groupKey(s, this.by);
    let g = this.groups.get(key);
    if (!g) {
      g = { key, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, liveStreams: 0, totalStreams: 0, rxBytesPerSec: 0, txBytesPerSec: 0 };
      this.groups.set(key, g);
    }
    if (s.pid !== undefined) g.pid = this.by === 'epid' ? s.epid || s.pid : s.pid;
    if (s.process !== undefined) g.process = s.process;
    let prev = this.seen.get(s.id);
    if (!prev) {
      prev = { key, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
      this.seen.set(s.id, prev);
      g.liveStreams++;
      g.totalStreams++;
    } else if (prev.key !== key) {
      // The socket changed hands: its later traffic counts for the new owner.
      const old = this.groups.get(prev.key);
      if (old) old.liveStreams--;
      prev.key = key;
      g.liveStreams++;
      g.totalStreams++;
    }
    const c = s.counts;
    if (c) {
      g.rxBytes += Math.max(0, c.rxBytes - prev.rxBytes);
      g.txBytes += Math.max(0, c.txBytes - prev.txBytes);
      g.rxPackets += Math.max(0, c.rxPackets - prev.rxPackets);
      g.txPackets += Math.max(0, c.txPackets - prev.txPackets);
      prev.rxBytes = Math.max(prev.rxBytes, c.rxBytes);
      prev.txBytes = Math.max(prev.txBytes, c.txBytes);
      prev.rxPackets = Math.max(prev.rxPackets, c.rxPackets);
      prev.txPackets = Math.max(prev.txPackets, c.txPackets);
    }
    if (event === 'removed') {
      this.seen.delete(s.id);
      g.liveStreams--;
    }
  }

  /** Recompute current rates from the live streams' rates. */
  updateRates(live: Iterable<Stream>): void {
    for (const g of this.groups.values()) {
      g.rxBytesPerSec = 0;
      g.txBytesPerSec = 0;
    }
    for (const s of live) {
      const g = this.groups.get(groupKey(s, this.by));
      if (!g) continue;
      g.rxBytesPerSec += s.rxBytesPerSec ?? 0;
      g.txBytesPerSec += s.txBytesPerSec ?? 0;
    }
  }

  totals(): ProcessTotal[] {
    return [...this.groups.values()];
  }

  get(key: string): ProcessTotal | undefined {
    return this.groups.get(key);
  }
}
