/**
 * A per-dialect "plan": the sizes and offsets the codec needs, looked up once from the
 * dialect's struct tables and cached. Absent structs/fields (older headers) are undefined.
 */
import type { Dialect, StructLayout } from './dialect.js';
import { DESCRIPTOR_STRUCT, providerName } from './constants.js';

export interface MsgLayout {
  size: number;
  layout: StructLayout;
  off(field: string): number | undefined;
  /** Offsets of the top-level fields by name (plain object: fast named loads on hot paths). */
  f: Readonly<Record<string, number | undefined>>;
}

export interface CodecPlan {
  dialect: Dialect;
  hdrSize: number;
  error?: MsgLayout;
  addSrc?: MsgLayout;
  addAll?: MsgLayout;
  srcrefReq: Partial<Record<'remSrc' | 'querySrc' | 'getSrcDesc' | 'getUpdate', MsgLayout>>;
  setFilter?: MsgLayout;
  srcAdded?: MsgLayout;
  srcRemoved?: MsgLayout;
  srcCounts?: MsgLayout;
  srcDesc?: MsgLayout;
  srcUpdate?: MsgLayout;
  sysinfo?: MsgLayout;
  sysinfoCounts?: StructLayout;
  keyval?: StructLayout;
  counts?: StructLayout;
  itemHdrSize: number;
  domainInfo?: StructLayout;
  /** provider id -> descriptor layout */
  descriptors: Map<number, StructLayout>;
  /** Message types this header defines (NSTAT_MSG_TYPE_* constants). */
  types: Set<number>;
}

function msg(d: Dialect, name: string): MsgLayout | undefined {
  const layout = d.structs.get(name);
  if (!layout) return undefined;
  const f: Record<string, number | undefined> = {};
  for (const name of ['srcref', 'provider', 'event_flags', 'counts', 'error', 'filter', 'events', 'target_pid', 'target_uuid']) {
    f[name] = layout.byName.get(name)?.offset;
  }
  return { size: layout.size, layout, off: (n) => layout.byName.get(n)?.offset, f };
}

const plans = new WeakMap<Dialect, CodecPlan>();

export function planFor(d: Dialect): CodecPlan {
  let p = plans.get(d);
  if (p) return p;
  const descriptors = new Map<number, StructLayout>();
  for (let id = 0; id < 64; id++) {
    const name = providerName(d, id);
    if (!name) continue;
    const layout = d.structs.get(DESCRIPTOR_STRUCT[name]);
    if (layout) descriptors.set(id, layout);
  }
  // The fixed part of SRC_DESC / SRC_UPDATE is where the flexible `data[]` starts.
  const withData = (name: string): MsgLayout | undefined => {
    const m = msg(d, name);
    if (!m) return undefined;
    const data = m.layout.byName.get('data');
    return data ? { ...m, size: data.offset } : m;
  };
  const param = (name: string): MsgLayout | undefined => {
    const m = msg(d, name);
    if (!m) return undefined;
    const p = m.layout.byName.get('param');
    return p ? { ...m, size: p.offset } : m;
  };
  p = {
    dialect: d,
    hdrSize: d.structs.get('nstat_msg_hdr')?.size ?? 16,
    error: msg(d, 'nstat_msg_error'),
    addSrc: param('nstat_msg_add_src'),
    addAll: msg(d, 'nstat_msg_add_all_srcs'),
    srcrefReq: {
      remSrc: msg(d, 'nstat_msg_rem_src'),
      querySrc: msg(d, 'nstat_msg_query_src'),
      getSrcDesc: msg(d, 'nstat_msg_get_src_description'),
      // GET_UPDATE shares the query struct (BEHAVIOUR.md A.2); the type exists from 10.11.
      getUpdate: d.constants['NSTAT_MSG_TYPE_GET_UPDATE'] !== undefined ? msg(d, 'nstat_msg_query_src') : undefined,
    },
    setFilter: msg(d, 'nstat_msg_set_filter'),
    srcAdded: msg(d, 'nstat_msg_src_added'),
    srcRemoved: msg(d, 'nstat_msg_src_removed'),
    srcCounts: msg(d, 'nstat_msg_src_counts'),
    srcDesc: withData('nstat_msg_src_description'),
    srcUpdate: withData('nstat_msg_src_update'),
    sysinfo: msg(d, 'nstat_msg_sysinfo_counts'),
    sysinfoCounts: d.structs.get('nstat_sysinfo_counts'),
    keyval: d.structs.get('nstat_sysinfo_keyval'),
    counts: d.structs.get('nstat_counts'),
    itemHdrSize: d.structs.get('nstat_msg_src_extended_item_hdr')?.size ?? 8,
    domainInfo: d.structs.get('nstat_domain_info'),
    descriptors,
    types: new Set(Object.entries(d.constants).flatMap(([k, v]) => (k.startsWith('NSTAT_MSG_TYPE_') && typeof v === 'number' ? [v] : []))),
  };
  plans.set(d, p);
  return p;
}
