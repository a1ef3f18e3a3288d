/**
 * nstat_counts -> Counts: the field table of the dialect's counts struct and a reader unrolled
 * for it (generated once per layout: object literals with a fixed shape are several times faster
 * than keyed stores, see fields.ts readStruct), with the table interpreted where code generation
 * is disallowed.
 */
import type { StructLayout } from './dialect.js';
import { readU64Number } from './values.js';
import { firstTooBig, u64Inline } from './fields.js';
import type { Counts } from './messages.js';

/** Counts field names (nstat_counts, stripped of `nstat_`) -> our names. */
const COUNT_NAMES: Record<string, keyof Counts> = {
  nstat_rxpackets: 'rxPackets',
  nstat_rxbytes: 'rxBytes',
  nstat_txpackets: 'txPackets',
  nstat_txbytes: 'txBytes',
  nstat_rxduplicatebytes: 'rxDuplicateBytes',
  nstat_rxoutoforderbytes: 'rxOutOfOrderBytes',
  nstat_txretransmit: 'txRetransmit',
  nstat_connectattempts: 'connectAttempts',
  nstat_connectsuccesses: 'connectSuccesses',
  nstat_min_rtt: 'minRtt',
  nstat_avg_rtt: 'avgRtt',
  nstat_var_rtt: 'varRtt',
  nstat_cell_rxbytes: 'cellRxBytes',
  nstat_cell_txbytes: 'cellTxBytes',
  nstat_wifi_rxbytes: 'wifiRxBytes',
  nstat_wifi_txbytes: 'wifiTxBytes',
  nstat_wired_rxbytes: 'wiredRxBytes',
  nstat_wired_txbytes: 'wiredTxBytes',
};

type CountOp = [key: keyof Counts, offset: number, wide: boolean];
const countOps = new WeakMap<StructLayout, CountOp[]>();
export function countsOps(layout: StructLayout): CountOp[] {
  let ops = countOps.get(layout);
  if (!ops) {
    ops = [];
    for (const f of layout.fields) {
      const key = COUNT_NAMES[f.name];
      if (key) ops.push([key, f.offset, f.size === 8]);
    }
    countOps.set(layout, ops);
  }
  return ops;
}

export type CountsReader = (dv: DataView, base: number) => Counts;
const countsReaders = new WeakMap<StructLayout, CountsReader>();

/** Counts reader specialised to the dialect's nstat_counts order. */
export function countsReaderFor(layout: StructLayout): CountsReader {
  let r = countsReaders.get(layout);
  if (r) return r;
  const ops = countsOps(layout);
  try {
    // 64-bit counters read inline, no call (fields.ts u64Inline): one range test after the reads.
    const wide = ops.filter(([, , w]) => w).map(([, off]) => off);
    const body = ops.map(([key, off, w]) => `${key}: ${w ? u64Inline(`base + ${off}`) : `dv.getUint32(base + ${off}, true)`}`);
    const reads = body.map((kv, i) => `  const c${i} = ${kv.slice(kv.indexOf(': ') + 2)};`).join('\n');
    const literal = ops.map(([key], i) => `${key}: c${i}`).join(', ');
    const src = `return function readCounts(dv, base) {\n  let h;\n  let big = 0;\n${reads}\n  if ((big & ~0x1fffff) !== 0) tooBig(dv, base, ${JSON.stringify(wide)});\n  return { ${literal} };\n};`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    r = new Function('tooBig', src)(firstTooBig) as CountsReader;
  } catch {
    r = (dv, base) => {
      const out = {} as Record<keyof Counts, number>;
      for (const [key, off, wide] of ops) out[key] = wide ? readU64Number(dv, base + off) : dv.getUint32(base + off, true);
      return out as Counts;
    };
  }
  countsReaders.set(layout, r);
  return r;
}
