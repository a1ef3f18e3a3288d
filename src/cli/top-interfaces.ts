/**
 * `ntstat top --by interface`: one row per interface from the kernel's ifnet provider (name,
 * index, kind, link, rx/tx rates and totals, 64-bit), for the screen, plain snapshots and CSV.
 */
import type { InterfaceStat } from '../model/interface.js';
import { escapeTerminal } from './escape.js';
import { linkText } from './format-interface.js';
import type { SortKey } from './sort.js';
import { formatBytes, formatRate } from './units.js';

export interface InterfaceCol {
  title: string;
  right?: boolean;
  flex?: 'name';
  drop?: number;
  sorts?: SortKey[];
  cell(i: InterfaceStat): string;
}

export function interfaceCols(raw: boolean): InterfaceCol[] {
  const n = (v: number) => formatBytes(v, raw);
  const r = (v: number) => formatRate(v, raw);
  return [
    { title: 'INDEX', right: true, sorts: ['pid'], cell: (i) => String(i.index) },
    { title: 'INTERFACE', flex: 'name', sorts: ['name'], cell: (i) => escapeTerminal(i.name ?? `if${i.index}`) },
    { title: 'KIND', cell: (i) => i.kind },
    { title: 'LINK', drop: 2, cell: (i) => linkText(i) || '-' },
    { title: 'RX/s', right: true, sorts: ['rate', 'rx'], cell: (i) => r(i.rxBytesPerSec ?? 0) },
    { title: 'TX/s', right: true, sorts: ['rate', 'tx'], cell: (i) => r(i.txBytesPerSec ?? 0) },
    { title: 'RX', right: true, drop: 4, sorts: ['total'], cell: (i) => n(i.rxBytes) },
    { title: 'TX', right: true, drop: 3, sorts: ['total'], cell: (i) => n(i.txBytes) },
  ];
}

/** Same orders as the other groupings: pid means the index, name the interface name; ties by index. */
export function interfaceOrder(key: SortKey, reverse = false): (a: InterfaceStat, b: InterfaceStat) => number {
  const rate = (i: InterfaceStat) => (i.rxBytesPerSec ?? 0) + (i.txBytesPerSec ?? 0);
  const total = (i: InterfaceStat) => i.rxBytes + i.txBytes;
  const cmp: Record<SortKey, (a: InterfaceStat, b: InterfaceStat) => number> = {
    rate: (a, b) => rate(b) - rate(a) || total(b) - total(a),
    rx: (a, b) => (b.rxBytesPerSec ?? 0) - (a.rxBytesPerSec ?? 0) || b.rxBytes - a.rxBytes,
    tx: (a, b) => (b.txBytesPerSec ?? 0) - (a.txBytesPerSec ?? 0) || b.txBytes - a.txBytes,
    total: (a, b) => total(b) - total(a),
    pid: (a, b) => a.index - b.index,
    name: (a, b) => (a.name ?? '').localeCompare(b.name ?? ''),
  };
  const sign = reverse ? -1 : 1;
  const c = cmp[key];
  return (a, b) => sign * c(a, b) || a.index - b.index;
}

export function sortInterfaces(list: InterfaceStat[], key: SortKey, reverse = false): InterfaceStat[] {
  return list.sort(interfaceOrder(key, reverse));
}

/** CSV columns of `top --by interface --csv` (raw numbers, named like the other groupings'). */
export const INTERFACE_CSV: Record<string, (i: InterfaceStat) => string | number> = {
  index: (i) => i.index,
  interface: (i) => i.name ?? '',
  kind: (i) => i.kind,
  link: (i) => i.link.type,
  rx_rate: (i) => Math.round(i.rxBytesPerSec ?? 0),
  tx_rate: (i) => Math.round(i.txBytesPerSec ?? 0),
  rx: (i) => i.rxBytes,
  tx: (i) => i.txBytes,
  rx_packets: (i) => i.rxPackets,
  tx_packets: (i) => i.txPackets,
};

export const DEFAULT_INTERFACE_CSV = ['time', 'index', 'interface', 'kind', 'link', 'rx_rate', 'tx_rate', 'rx', 'tx'];
