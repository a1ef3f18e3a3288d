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

type Amounts = (x: Sortable) => { rx: number; tx: number };

function comparator<T extends Sortable>(key: SortKey, totals: (x: T) => { rx: number; tx: number }): (a: T, b: T) => number {
  const rx = (x: T) => x.rxBytesPerSec ?? 0;
  const tx = (x: T) => x.txBytesPerSec ?? 0;
  const total = (x: T) => totals(x).rx + totals(x).tx;
  switch (key) {
    case 'rate':
      return (a, b) => rx(b) + tx(b) - (rx(a) + tx(a)) || total(b) - total(a);
    case 'rx':
      return (a, b) => rx(b) - rx(a) || totals(b).rx - totals(a).rx;
    case 'tx':
      return (a, b) => tx(b) - tx(a) || totals(b).tx - totals(a).tx;
    case 'total':
      return (a, b) => total(b) - total(a);
    case 'pid':
      return (a, b) => (a.pid ?? 0) - (b.pid ?? 0);
    case 'name':
      return (a, b) => (a.process ?? '').localeCompare(b.process ?? '');
  }
}

const streamAmounts: Amounts = (s) => {
  const c = (s as Stream).counts;
  return { rx: c?.rxBytes ?? 0, tx: c?.txBytes ?? 0 };
};

export function sortStreams(list: Stream[], key: SortKey, reverse = false): Stream[] {
  const cmp = comparator<Stream>(key, streamAmounts);
  const sign = reverse ? -1 : 1;
  return list.sort((a, b) => sign * cmp(a, b) || (a.srcref < b.srcref ? -1 : a.srcref > b.srcref ? 1 : 0));
}

export function sortTotals(list: ProcessTotal[], key: SortKey, reverse = false): ProcessTotal[] {
  const cmp = comparator<ProcessTotal>(key, (t) => ({ rx: t.rxBytes, tx: t.txBytes }));
  const sign = reverse ? -1 : 1;
  return list.sort((a, b) => sign * cmp(a, b) || a.key.localeCompare(b.key));
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
