/**
 * Sort orders of `top` (and its snapshots): by current rate, receive or send rate, total bytes,
 * pid or name. The natural direction is largest first for amounts and ascending for pid and
 * name; --reverse flips it. Ties fall back to a stable key so frames do not flicker.
 */
import type { Stream } from '../model/stream.js';
import type { ProcessTotal } from '../model/process-totals.js';

export const SORT_KEYS = ['rate', 'rx', 'tx', 'total', 'pid', 'name'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

interface Sortable {
  rxBytesPerSec?: number;
  txBytesPerSec?: number;
  pid?: number;
  process?: string;
}

/** Total bytes received and sent of a row (read in place: comparators run ~n log n times a frame). */
interface Totals<T> {
  rx(x: T): number;
  tx(x: T): number;
}

function comparator<T extends Sortable>(key: SortKey, totals: Totals<T>): (a: T, b: T) => number {
  const rx = (x: T) => x.rxBytesPerSec ?? 0;
  const tx = (x: T) => x.txBytesPerSec ?? 0;
  const total = (x: T) => totals.rx(x) + totals.tx(x);
  switch (key) {
    case 'rate':
      return (a, b) => rx(b) + tx(b) - (rx(a) + tx(a)) || total(b) - total(a);
    case 'rx':
      return (a, b) => rx(b) - rx(a) || totals.rx(b) - totals.rx(a);
    case 'tx':
      return (a, b) => tx(b) - tx(a) || totals.tx(b) - totals.tx(a);
    case 'total':
      return (a, b) => total(b) - total(a);
    case 'pid':
      return (a, b) => (a.pid ?? 0) - (b.pid ?? 0);
    case 'name':
      return (a, b) => (a.process ?? '').localeCompare(b.process ?? '');
  }
}

const STREAM_TOTALS: Totals<Stream> = { rx: (s) => s.counts?.rxBytes ?? 0, tx: (s) => s.counts?.txBytes ?? 0 };
const TOTAL_TOTALS: Totals<ProcessTotal> = { rx: (t) => t.rxBytes, tx: (t) => t.txBytes };

/** The order of `top`'s stream rows: the key, then the srcref (unique), so the order is total. */
export function streamOrder(key: SortKey, reverse = false): (a: Stream, b: Stream) => number {
  const cmp = comparator<Stream>(key, STREAM_TOTALS);
  const sign = reverse ? -1 : 1;
  return (a, b) => sign * cmp(a, b) || (a.srcref < b.srcref ? -1 : a.srcref > b.srcref ? 1 : 0);
}

/**
 * A number that orders streams as `streamOrder(key, reverse)` does first (before its tie
 * breaks): primary(a) < primary(b) implies a comes before b. Lets a selection skip most streams
 * with one number compared (firstInOrder). None for `name` (a string order).
 */
export function streamPrimary(key: SortKey, reverse = false): ((s: Stream) => number) | undefined {
  const sign = reverse ? -1 : 1;
  switch (key) {
    case 'rate':
      // The comparator orders by the sum, computed the same way.
      return (s) => -sign * ((s.rxBytesPerSec ?? 0) + (s.txBytesPerSec ?? 0));
    case 'rx':
      return (s) => -sign * (s.rxBytesPerSec ?? 0);
    case 'tx':
      return (s) => -sign * (s.txBytesPerSec ?? 0);
    case 'total':
      return (s) => -sign * ((s.counts?.rxBytes ?? 0) + (s.counts?.txBytes ?? 0));
    case 'pid':
      return (s) => sign * (s.pid ?? 0);
    case 'name':
      return undefined;
  }
}

/** The order of `top`'s process/app rows: the key, then the group key (unique). */
export function totalOrder(key: SortKey, reverse = false): (a: ProcessTotal, b: ProcessTotal) => number {
  const cmp = comparator<ProcessTotal>(key, TOTAL_TOTALS);
  const sign = reverse ? -1 : 1;
  return (a, b) => sign * cmp(a, b) || a.key.localeCompare(b.key);
}

export function sortStreams(list: Stream[], key: SortKey, reverse = false): Stream[] {
  return list.sort(streamOrder(key, reverse));
}

export function sortTotals(list: ProcessTotal[], key: SortKey, reverse = false): ProcessTotal[] {
  return list.sort(totalOrder(key, reverse));
}

/**
 * The first `k` elements of `list` in the order `cmp` (a total order), without sorting or
 * copying the whole list: a screen of `top` shows ~50 of thousands of streams each second.
 * Same result as `[...list].sort(cmp).slice(0, k)`. `list` is not modified. With `primary` (see
 * streamPrimary), an element whose number is above the last kept one's is skipped without
 * calling `cmp` (NaN never skips). Indexed loops: this runs once a second, unoptimised by V8.
 */
export function firstInOrder<T>(list: readonly T[], cmp: (a: T, b: T) => number, k: number, primary?: (x: T) => number): T[] {
  if (k <= 0) return [];
  // Selecting costs up to n * k / 2 moves when the input arrives in order: sort beyond ~n/16.
  if (k * 16 >= list.length) return [...list].sort(cmp).slice(0, k);
  const best: T[] = [];
  let worst = NaN;
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (best.length === k) {
      if (primary && primary(x) > worst) continue;
      if (cmp(x, best[k - 1]) >= 0) continue;
      best.pop();
    }
    // Binary search for the insertion point among the kept rows.
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(best[mid], x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, x);
    if (primary && best.length === k) worst = primary(best[k - 1]);
  }
  return best;
}

/** The column a sort key orders, as titled in the table (for the ▼/▲ mark). */
export const SORTED_COLUMN: Record<SortKey, string> = {
  rate: 'RX/s+TX/s',
  rx: 'RX/s',
  tx: 'TX/s',
  total: 'RX+TX',
  pid: 'PID',
  name: 'PROCESS',
};
