/**
 * Traffic on a flow: RTT in kernel units, and bytes moved — totals, packets, per-medium bytes by
 * the interface in use, the activity bitmap, socket buffers, the route's counters and the
 * interface's (which may cross an ifnet threshold, §3.3).
 */
import type { Flow, KernelSocket } from './entities.js';
import type { WorldHooks } from './hooks.js';
import { mediumOf } from './interface-spec.js';

/** MSS-sized segments: packets counted from bytes. */
const SEG = 1448;

/** Duplicate, out-of-order and retransmitted bytes that come with a transfer. */
export interface TransferExtra {
  dup?: number;
  ooo?: number;
  retx?: number;
}

export function setRtt(f: Flow, rttMs: number): void {
  const c = f.counts;
  // Kernel units: srtt/rttbest in 1/32 ms, rttvar in 1/16 ms (§5.1); min clamped to ≤ avg.
  const avg = Math.max(1, Math.round(rttMs * 32));
  const best = c.minRtt === 0 ? avg : Math.min(c.minRtt, avg);
  c.avgRtt = avg;
  c.minRtt = Math.min(best, avg);
  c.varRtt = Math.max(1, Math.round(rttMs * 16 * 0.25));
}

/**
 * Move bytes on a flow: totals, packets, per-medium bytes by the interface in use, the
 * activity bitmap, the interface's counters and the route's.
 */
export function transfer(f: Flow, rx: number, tx: number, extra: TransferExtra, now: number, hooks: WorldHooks): void {
  if (rx <= 0 && tx <= 0) return;
  const c = f.counts;
  rx = Math.floor(rx);
  tx = Math.floor(tx);
  c.rxBytes += rx;
  c.txBytes += tx;
  c.rxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
  c.txPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
  c.rxDuplicateBytes += extra.dup ?? 0;
  c.rxOutOfOrderBytes += extra.ooo ?? 0;
  c.txRetransmit += extra.retx ?? 0;
  const ifp = f.outIf;
  switch (mediumOf(ifp)) {
    case 'cell':
      c.cellRxBytes += rx;
      c.cellTxBytes += tx;
      break;
    case 'wifi':
      c.wifiRxBytes += rx;
      c.wifiTxBytes += tx;
      break;
    case 'wired':
      c.wiredRxBytes += rx;
      c.wiredTxBytes += tx;
      break;
    case 'bt':
      c.btRxBytes += rx;
      c.btTxBytes += tx;
      c.btRxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
      c.btTxPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
      break;
    default:
      break;
  }
  const slot = Math.floor((now - f.createdAt) / 8000);
  if (slot < 128) f.activity |= 1n << BigInt(slot);
  f.version++;
  if (f.kind === 'tcp' || f.kind === 'udp') {
    const s = f as KernelSocket;
    s.rcvbufUsed = rx > 0 ? Math.min(s.rcvbufSize, rx % 65536) : 0;
    s.sndbufUsed = tx > 0 ? Math.min(s.sndbufSize, tx % 32768) : 0;
    s.txUnacked = tx > 0 ? Math.min(tx, 65535) : 0;
    s.txCwindow = Math.min(1 << 20, s.txCwindow + Math.floor(tx / 4));
    s.version++;
    const r = s.route;
    if (r) {
      r.counts.rxBytes += rx;
      r.counts.txBytes += tx;
      r.counts.rxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
      r.counts.txPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
      r.counts.txRetransmit += extra.retx ?? 0;
      // Route RTT: weighted average with weight 1/8 (§5.6).
      r.counts.avgRtt = r.counts.avgRtt === 0 ? c.avgRtt : Math.round((r.counts.avgRtt * 7 + c.avgRtt) / 8);
      r.counts.minRtt = r.counts.minRtt === 0 ? c.minRtt : Math.min(r.counts.minRtt, c.minRtt);
      r.counts.varRtt = r.counts.varRtt === 0 ? c.varRtt : Math.round((r.counts.varRtt * 7 + c.varRtt) / 8);
    }
  }
  if (ifp) {
    ifp.rxBytes += rx;
    ifp.txBytes += tx;
    ifp.rxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
    ifp.txPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
    if (ifp.threshold > 0) hooks.ifnetTraffic(ifp);
  }
}

