/**
 * Where a live stream's heap goes (issue 17): the client holds `n` streams of the long-lived
 * world (as bench/memory.ts perStream), a V8 heap snapshot is written and read back, and every
 * object reachable from a stream is charged to the path that reaches it (stream, descriptor,
 * descriptor.activityBitmap, counts, ...). An object reached from many streams (an interned
 * string, an endpoint two fields share) is counted once, so the rows add up to what the streams
 * hold. The table's own storage (its Map, the slot columns) is listed apart.
 *
 *   npm run build:test && node --expose-gc build/bench/heap-breakdown.js [streams=20000] [--wall-clock]
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { holdStreams } from './memory.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Objects at or below this depth from a stream are charged to it (stream.descriptor.local = 2). */
const DEPTH = 2;

function breakdown(file: string, streamCount: number): void {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const m = snap.snapshot.meta;
  const NF = m.node_fields.length;
  const EF = m.edge_fields.length;
  const nTypes = m.node_types[0];
  const eTypes = m.edge_types[0];
  const { nodes, edges, strings } = snap;
  const N_TYPE = m.node_fields.indexOf('type');
  const N_NAME = m.node_fields.indexOf('name');
  const N_SIZE = m.node_fields.indexOf('self_size');
  const N_EDGES = m.node_fields.indexOf('edge_count');
  const E_TYPE = m.edge_fields.indexOf('type');
  const E_NAME = m.edge_fields.indexOf('name_or_index');
  const E_TO = m.edge_fields.indexOf('to_node');
  const count = nodes.length / NF;
  const first = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    first[i] = e;
    e += nodes[i * NF + N_EDGES] * EF;
  }
  first[count] = edges.length;
  const type = (i: number) => nTypes[nodes[i * NF + N_TYPE]];
  const name = (i: number) => strings[nodes[i * NF + N_NAME]];
  const size = (i: number) => nodes[i * NF + N_SIZE];
  const edgesOf = (i: number): [string, string, number][] => {
    const out: [string, string, number][] = [];
    for (let e = first[i]; e < first[i + 1]; e += EF) {
      const t = eTypes[edges[e + E_TYPE]];
      const nm = t === 'element' || t === 'hidden' ? String(edges[e + E_NAME]) : strings[edges[e + E_NAME]];
      out.push([t, nm, edges[e + E_TO] / NF]);
    }
    return out;
  };
  const streams: number[] = [];
  for (let i = 0; i < count; i++) if (type(i) === 'object' && name(i) === 'StreamRecord') streams.push(i);
  // Charge each object once, to the first path that reaches it; heap numbers and the property
  // array are charged to the object that holds them.
  const charged = new Set<number>();
  const rows = new Map<string, { bytes: number; objects: number }>();
  const charge = (path: string, i: number) => {
    if (charged.has(i)) return false;
    charged.add(i);
    const r = rows.get(path) ?? { bytes: 0, objects: 0 };
    r.bytes += size(i);
    r.objects++;
    rows.set(path, r);
    return true;
  };
  const walk = (i: number, path: string, depth: number) => {
    for (const [t, nm, to] of edgesOf(i)) {
      if (t === 'weak' || t === 'shortcut' || nm === 'map' || nm === '__proto__') continue;
      const tt = type(to);
      if (tt === 'code' || tt === 'synthetic' || tt === 'closure' || tt === 'object shape') continue;
      if (tt === 'hidden' && nm !== 'properties') continue;
      if (tt === 'number' || nm === 'properties') {
        charge(`${path} (${nm === 'properties' ? 'property array' : 'boxed numbers'})`, to);
        if (nm === 'properties') walk(to, path, depth);
        continue;
      }
      if (tt === 'object') {
        const p = `${path}.${nm}`;
        if (charge(p, to) && depth > 0) walk(to, p, depth - 1);
      } else if (tt === 'string' || tt === 'concatenated string' || tt === 'sliced string' || tt === 'bigint') {
        charge(`${path}.${nm} (${tt})`, to);
      }
    }
  };
  for (const s of streams) {
    charge('stream', s);
  }
  for (const s of streams) walk(s, 'stream', DEPTH);
  let total = 0;
  console.log(`${streams.length} streams (${streamCount} in the table); bytes per stream by what holds them:`);
  for (const [path, r] of [...rows].sort((a, b) => b[1].bytes - a[1].bytes)) {
    total += r.bytes;
    if (r.bytes / streams.length < 0.5) continue;
    console.log(`  ${path.padEnd(44)} ${(r.bytes / streams.length).toFixed(1).padStart(7)} B   (${r.objects} objects)`);
  }
  console.log(`  ${'total reachable from streams'.padEnd(44)} ${(total / streams.length).toFixed(1).padStart(7)} B`);
  // The table: its Map's hash table and the slot columns (source-slots.ts).
  let table = 0;
  for (let i = 0; i < count; i++) {
    if (type(i) !== 'object' || name(i) !== 'SourceSlots') continue;
    for (const [, nm, to] of edgesOf(i)) {
      if (['stream', 'seen', 'missed', 'flags', 'free'].includes(nm)) {
        // An array's elements; a typed array's buffer and its backing store (outside heapUsed).
        let b = size(to);
        for (const [, n2, to2] of edgesOf(to)) {
          if (n2 === 'elements') b += size(to2);
          if (n2 === 'buffer') for (const [, n3, to3] of edgesOf(to2)) if (n3 === 'backing_store') b += size(to3);
        }
        console.log(`  table: slots.${nm.padEnd(37)} ${(b / streams.length).toFixed(1).padStart(7)} B`);
        table += b;
      }
    }
  }
  for (let i = 0; i < count; i++) {
    if (type(i) !== 'object' || name(i) !== 'SourceTable') continue;
    for (const [, nm, to] of edgesOf(i)) {
      if (nm !== 'entries') continue;
      for (const [, n2, to2] of edgesOf(to)) {
        if (n2 !== 'table') continue;
        console.log(`  table: entries (Map hash table)${''.padEnd(14)} ${(size(to2) / streams.length).toFixed(1).padStart(7)} B`);
        table += size(to2);
      }
    }
  }
  console.log(`  ${'total with the table'.padEnd(44)} ${((total + table) / streams.length).toFixed(1).padStart(7)} B`);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const wall = process.argv.includes('--wall-clock');
  const file = join(tmpdir(), `ntstat-heap-${process.pid}.heapsnapshot`);
  const held = await holdStreams(
    n,
    () => {
      writeHeapSnapshot(file);
    },
    wall,
  );
  console.log(`per stream (heapUsed after GC + ArrayBuffers, minus the empty client): ${held.bytesPerStream.toFixed(0)} B, of which ArrayBuffers ${held.arrayBuffersPerStream.toFixed(1)} B`);
  try {
    breakdown(file, held.streams);
  } finally {
    rmSync(file, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
