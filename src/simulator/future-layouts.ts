/**
 * "Future" layouts for the simulated kernel: the newest layout changed the ways Apple has changed
 * it before (LAYOUTS.md "What changed between consecutive versions"), so a client can be tested
 * against a kernel whose structs it does not know (issue 12). Each is a table transform of a
 * Dialect: the simulated kernel encodes with the transformed tables, the client decodes with the
 * untransformed ones.
 *
 *  - appended:     16 bytes appended to the TCP and UDP descriptors (7195 grew them at the end);
 *  - inserted:     16 bytes inserted before the addresses in both descriptors (7195 inserted
 *                  transfer sizes before everything after @32; the real macOS 27 capture inserted 16 bytes);
 *  - counts-grown: `nstat_counts` grows by 16 bytes, so SRC_COUNTS grows and the descriptor in
 *                  SRC_UPDATE moves (2422 and 2782 grew the counts);
 *  - reordered:    rxbytes and txbytes swap places, sizes unchanged (4570 re-ordered nstat_counts);
 *  - header:       the message header grows by 8 bytes (a u64 after `flags`), moving every body
 *                  field (3247 rewrote the header). Requests in the old shape no longer parse.
 */
import type { Dialect, FieldLayout, StructLayout } from '../protocol/index.js';

export const FUTURE_LAYOUTS = ['appended', 'inserted', 'counts-grown', 'reordered', 'header'] as const;
export type FutureLayoutName = (typeof FUTURE_LAYOUTS)[number];

export function isFutureLayout(name: string): name is FutureLayoutName {
  return (FUTURE_LAYOUTS as readonly string[]).includes(name);
}

function rebuild(s: StructLayout, fields: FieldLayout[], size: number): StructLayout {
  const byName = new Map<string, FieldLayout>();
  for (const f of fields) if (!byName.has(f.name)) byName.set(f.name, f);
  return { name: s.name, size, align: s.align, fields, byName };
}

/** `by` bytes inserted at offset `at`: every field from there on moves, the struct grows. */
function insertAt(s: StructLayout, at: number, by: number, resized: Record<string, number> = {}): StructLayout {
  const fields = s.fields.map((f) => {
    const offset = f.offset >= at ? f.offset + by : f.offset;
    const size = resized[f.name] ?? f.size;
    return offset === f.offset && size === f.size ? f : { ...f, offset, size };
  });
  return rebuild(s, fields, s.size + by);
}

/** Two same-size fields trade places. */
function swap(s: StructLayout, a: string, b: string): StructLayout {
  const fa = s.byName.get(a)!;
  const fb = s.byName.get(b)!;
  const fields = s.fields.map((f) => (f.name === a ? { ...f, offset: fb.offset } : f.name === b ? { ...f, offset: fa.offset } : f));
  return rebuild(s, fields, s.size);
}

const DESCRIPTORS = ['nstat_tcp_descriptor', 'nstat_udp_descriptor'];

/** The simulated kernel's dialect for a future layout (never verified; named in `family`). */
export function futureDialect(base: Dialect, name: FutureLayoutName): Dialect {
  const structs = new Map(base.structs);
  const replace = (n: string, f: (s: StructLayout) => StructLayout) => {
    const s = base.structs.get(n);
    if (!s) return;
    const t = f(s);
    // Aliases (nstat_quic_descriptor = the TCP descriptor) follow their target.
    for (const [k, v] of base.structs) if (v === s) structs.set(k, t);
  };
  switch (name) {
    case 'appended':
      for (const d of DESCRIPTORS) replace(d, (s) => insertAt(s, s.size, 16));
      break;
    case 'inserted':
      for (const d of DESCRIPTORS) replace(d, (s) => insertAt(s, s.byName.get('local')!.offset, 16));
      break;
    case 'counts-grown': {
      const counts = base.structs.get('nstat_counts')!;
      replace('nstat_counts', (s) => insertAt(s, s.size, 16));
      // Messages embedding the counts: everything after them moves.
      for (const m of ['nstat_msg_src_counts', 'nstat_msg_src_update']) {
        replace(m, (s) => {
          const c = s.byName.get('counts')!;
          return insertAt(s, c.offset + counts.size, 16, { counts: counts.size + 16 });
        });
      }
      break;
    }
    case 'reordered':
      replace('nstat_counts', (s) => swap(s, 'nstat_rxbytes', 'nstat_txbytes'));
      break;
    case 'header': {
      const hdr = base.structs.get('nstat_msg_hdr')!;
      replace('nstat_msg_hdr', (s) => rebuild(s, [...s.fields, { name: 'sequence', offset: s.size, size: 8, type: 'u64' }], s.size + 8));
      for (const [n, s] of base.structs) {
        if (s.byName.get('hdr')?.type === 'nstat_msg_hdr') replace(n, (x) => insertAt(x, hdr.size, 8, { hdr: hdr.size + 8 }));
      }
      break;
    }
  }
  return { ...base, family: `${base.family}+${name}`, structs, verified: false, warning: `simulated future layout "${name}"` };
}
