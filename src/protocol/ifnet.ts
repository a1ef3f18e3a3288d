/**
 * The ifnet provider's own shapes (BEHAVIOUR.md §2.2, §5.7), as data from the dialect's tables:
 *  - the ADD_SRC parameter: `ifindex u32 @0, threshold u64 @4` (12 B, pack 4) up to 10.12,
 *    `threshold u64 @0, ifindex u32 @8` + 4 reserved (16 B) from 10.13 (`nstat_ifnet_add_param`);
 *  - the descriptor's link status (`nstat_ifnet_desc_link_status`): a type and a union of the
 *    cellular or Wi-Fi report, each field meaningful only when its VALID bit is set
 *    (`nstat_ifnet_copy_link_status`).
 * The descriptor itself is read by the generic table reader (name, ifindex, threshold, type,
 * description, linkStatus as bytes); this module interprets the link status bytes.
 */
import { NtstatError } from '../errors.js';
import type { Dialect, StructLayout } from './dialect.js';
import { camelCase, readStruct, writeStruct, writeU64Number } from './fields.js';

/** `nstat_ifnet_lookup`: a threshold below 1 MiB is refused with EINVAL (§2.2). */
export const IFNET_MIN_THRESHOLD = 1024 * 1024;

export type LinkStatusType = 'none' | 'cellular' | 'wifi' | 'ethernet' | 'unknown';

/** A decoded link status: the type, and the report's fields whose VALID bit is set (camelCase). */
export interface IfnetLinkStatus {
  type: LinkStatusType;
  /** The raw `link_status_type` when it is none of the known ones. */
  typeValue?: number;
  /** Valid fields only (absent data is omitted, never faked). */
  fields?: Record<string, number>;
}

function unsupported(what: string, d: Dialect): NtstatError {
  return new NtstatError('ERR_NTSTAT_UNSUPPORTED', `${what} cannot be expressed in the xnu-${d.xnu} dialect (${d.family})`);
}

/** True when this dialect has the ifnet provider (10.9+ headers). */
export function hasIfnetProvider(d: Dialect): boolean {
  return d.structs.has('nstat_ifnet_add_param') && d.structs.has('nstat_ifnet_descriptor');
}

/**
 * The ADD_SRC parameter for the ifnet provider: the fields at the dialect's offsets, reserved
 * bytes zero. `threshold` is in bytes (in+out since the last notice), at least 1 MiB.
 */
export function encodeIfnetAddParam(d: Dialect, ifindex: number, threshold: number): Uint8Array {
  const layout = d.structs.get('nstat_ifnet_add_param');
  if (!layout) throw unsupported('the ifnet ADD_SRC parameter', d);
  if (!Number.isInteger(ifindex) || ifindex < 0 || ifindex > 0xffff_ffff) throw new NtstatError('ERR_NTSTAT_RANGE', `ifindex ${ifindex} is not a u32`);
  if (!Number.isSafeInteger(threshold) || threshold < 0) throw new NtstatError('ERR_NTSTAT_RANGE', `threshold ${threshold} is not an exact u64`);
  const b = new Uint8Array(layout.size);
  const dv = new DataView(b.buffer);
  dv.setUint32(layout.byName.get('ifindex')!.offset, ifindex, true);
  writeU64Number(dv, layout.byName.get('threshold')!.offset, threshold);
  return b;
}

const TYPE_NAMES: Record<string, LinkStatusType> = {
  NSTAT_IFNET_DESC_LINK_STATUS_TYPE_NONE: 'none',
  NSTAT_IFNET_DESC_LINK_STATUS_TYPE_CELLULAR: 'cellular',
  NSTAT_IFNET_DESC_LINK_STATUS_TYPE_WIFI: 'wifi',
  NSTAT_IFNET_DESC_LINK_STATUS_TYPE_ETHERNET: 'ethernet',
};

/** The report struct and the VALID constants' prefix of each union member. */
const REPORTS: Partial<Record<LinkStatusType, { member: string; struct: string; prefix: string }>> = {
  cellular: { member: 'u.cellular', struct: 'nstat_ifnet_desc_cellular_status', prefix: 'NSTAT_IFNET_DESC_CELL_' },
  wifi: { member: 'u.wifi', struct: 'nstat_ifnet_desc_wifi_status', prefix: 'NSTAT_IFNET_DESC_WIFI_' },
};

function typeName(d: Dialect, value: number): LinkStatusType {
  for (const [c, name] of Object.entries(TYPE_NAMES)) if (d.constants[c] === value) return name;
  return 'unknown';
}

function typeValue(d: Dialect, type: LinkStatusType): number {
  for (const [c, name] of Object.entries(TYPE_NAMES)) if (name === type && typeof d.constants[c] === 'number') return d.constants[c] as number;
  throw unsupported(`link status type ${type}`, d);
}

/**
 * The VALID bit of a report field (`link_quality_metric` → NSTAT_IFNET_DESC_WIFI_LINK_QUALITY_METRIC_VALID;
 * the scan fields are named CONFIG_SCAN_* there). Undefined for fields without one (the bitmask itself).
 */
function validBit(d: Dialect, prefix: string, field: string): number | undefined {
  const f = field.toUpperCase();
  for (const name of [`${prefix}${f}_VALID`, `${prefix}CONFIG_${f}_VALID`]) {
    const v = d.constants[name];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

function reportLayout(d: Dialect, type: LinkStatusType): { layout: StructLayout; prefix: string; offset: number } | undefined {
  const r = REPORTS[type];
  const outer = d.structs.get('nstat_ifnet_desc_link_status');
  const layout = r ? d.structs.get(r.struct) : undefined;
  const member = r ? outer?.byName.get(r.member) : undefined;
  return r && layout && member ? { layout, prefix: r.prefix, offset: member.offset } : undefined;
}

/**
 * Interpret the descriptor's `linkStatus` bytes (absent = all zero = type none). Only fields whose
 * VALID bit is set are returned (`nstat_ifnet_copy_link_status` fills only those).
 */
export function decodeIfnetLinkStatus(d: Dialect, raw: Uint8Array | undefined): IfnetLinkStatus {
  if (!raw || raw.length < 4) return { type: 'none' };
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const value = dv.getUint32(0, true);
  const type = typeName(d, value);
  if (type === 'unknown') return { type, typeValue: value };
  const rep = reportLayout(d, type);
  if (!rep || raw.length < rep.offset + rep.layout.size) return { type };
  const all = readStruct(rep.layout, raw, dv, rep.offset) as Record<string, number>;
  const mask = dv.getUint32(rep.offset + (rep.layout.byName.get('valid_bitmask')?.offset ?? 0), true);
  const fields: Record<string, number> = {};
  for (const f of rep.layout.fields) {
    const bit = validBit(d, rep.prefix, f.name);
    const key = camelCase(f.name);
    if (bit !== undefined && (mask & bit) !== 0 && typeof all[key] === 'number') fields[key] = all[key];
  }
  return Object.keys(fields).length > 0 ? { type, fields } : { type };
}

/**
 * Encode a link status for a descriptor (the simulator's side): the type, the given fields and
 * their VALID bits. Fields the dialect's report lacks are an error (never silently dropped).
 */
export function encodeIfnetLinkStatus(d: Dialect, status: IfnetLinkStatus): Uint8Array | undefined {
  const outer = d.structs.get('nstat_ifnet_desc_link_status');
  if (!outer) return undefined; // 10.9/10.10 descriptors have no link status
  const b = new Uint8Array(outer.size);
  const dv = new DataView(b.buffer);
  if (status.type === 'none') return b;
  dv.setUint32(0, status.type === 'unknown' ? status.typeValue ?? 0 : typeValue(d, status.type), true);
  const rep = reportLayout(d, status.type);
  if (!rep) return b;
  let mask = 0;
  const values: Record<string, number> = {};
  for (const [key, v] of Object.entries(status.fields ?? {})) {
    const f = rep.layout.fields.find((x) => camelCase(x.name) === key);
    const bit = f ? validBit(d, rep.prefix, f.name) : undefined;
    if (!f || bit === undefined) throw unsupported(`link status field ${key} (${status.type})`, d);
    mask |= bit;
    values[key] = v;
  }
  writeStruct(rep.layout, b, dv, rep.offset, values);
  dv.setUint32(rep.offset + (rep.layout.byName.get('valid_bitmask')?.offset ?? 0), mask >>> 0, true);
  return b;
}
