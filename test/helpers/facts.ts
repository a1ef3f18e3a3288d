/**
 * Test-only access to the shared facts (`ntstat-layouts.json`) and an INDEPENDENT byte builder.
 *
 * Nothing here imports src/: offsets, sizes and constants are read from the JSON itself, and the
 * few wire conventions that are not in the JSON's struct tables (sockaddr internals, IPv6 text
 * form) are written out from the JSON "notes" / LAYOUTS.md / RFC 5952. Tests compare what
 * src/protocol does against what this module computes.
 *
 * Location: `$NTSTAT_SHARED_DIR/xnu/ntstat-layouts.json`, default `<repo>/../shared`. When the file
 * is absent, tests that need it are skipped with a visible reason — except under CI=true, where
 * absence is a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Locating and loading the JSON

function findRepoRoot(): string {
  // Compiled: <repo>/build/test/helpers/facts.js. Walk up to the package that owns us.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = resolve(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ntstat') return dir;
      } catch {
        /* keep walking */
      }
    }
    dir = dirname(dir);
  }
  // Fallback: the layout the brief describes (build/test/helpers -> three levels up).
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

export const REPO_ROOT = findRepoRoot();
export const SHARED_DIR = process.env.NTSTAT_SHARED_DIR ?? resolve(REPO_ROOT, '../shared');
export const FACTS_PATH = resolve(SHARED_DIR, 'xnu/ntstat-layouts.json');

export interface JField {
  name: string;
  offset: number;
  size: number;
  type: string;
  ctype?: string;
  flexible?: boolean;
  bitfield?: boolean;
  bitMask?: string;
  bitShift?: number;
  anonymous?: boolean;
  members?: JField[];
}

export interface JStruct {
  size: number;
  align: number;
  typedef?: string;
  pack: number | null;
  source: string;
  role: 'wire' | 'embedded' | 'sysctl' | 'internal';
  tagSizeAlign?: [number, number];
  fields: JField[];
}

export interface JVersion {
  xnu: string;
  dialect: string;
  blob: string;
  tags: string[];
  macos: string;
  macosByTag: Record<string, string>;
  revision: number;
  packed4: boolean;
  packed4Structs: string | string[];
  typedefs: Record<string, string>;
  aliases: Record<string, string>;
  constants: Record<string, number | string>;
  debugOnlyConstants: string[];
  structs: Record<string, JStruct>;
  internalStructsOmitted: string[];
}

export interface JDialect {
  name: string;
  versions: string[];
  tags: string[];
  macos: string[];
}

export interface Facts {
  generatedFrom: string;
  abi: string;
  notes: Record<string, string>;
  dialects: JDialect[];
  versions: JVersion[];
}

function load(): Facts | undefined {
  if (!existsSync(FACTS_PATH)) return undefined;
  return JSON.parse(readFileSync(FACTS_PATH, 'utf8')) as Facts;
}

export const facts: Facts | undefined = load();
export const FACTS_MISSING_REASON = `ntstat-layouts.json not found at ${FACTS_PATH} (set NTSTAT_SHARED_DIR to the directory holding xnu/)`;
const IN_CI = process.env.CI === 'true';

/** Options for a test that needs the facts: skip with a reason locally, run (and fail) under CI. */
export function needsFacts(): { skip?: string } {
  if (facts || IN_CI) return {};
  return { skip: FACTS_MISSING_REASON };
}

/** The facts, or a failure (only reached when CI=true and the file is absent). */
export function mustFacts(): Facts {
  if (!facts) throw new Error(`CI=true and ${FACTS_MISSING_REASON}`);
  return facts;
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

export interface FlatField {
  name: string;
  offset: number;
  size: number;
  type: string;
  bitMask?: number;
}

/** Pre-order flattening (nested union/struct members follow their parent). */
export function flattenFields(fields: readonly JField[]): FlatField[] {
  const out: FlatField[] = [];
  const walk = (list: readonly JField[]) => {
    for (const f of list) {
      const row: FlatField = { name: f.name, offset: f.offset, size: f.size, type: f.type };
      if (f.bitfield) row.bitMask = Number(f.bitMask);
      out.push(row);
      if (f.members) walk(f.members);
    }
  };
  walk(fields);
  return out;
}

export function isLayoutStruct(s: JStruct): boolean {
  return s.role === 'wire' || s.role === 'embedded';
}

/** A struct by name, following the version's aliases (nstat_quic_descriptor -> nstat_tcp_descriptor). */
export function structOf(v: JVersion, name: string): JStruct | undefined {
  return v.structs[name] ?? (v.aliases[name] ? v.structs[v.aliases[name]] : undefined);
}

export function mustStruct(v: JVersion, name: string): JStruct {
  const s = structOf(v, name);
  if (!s) throw new Error(`xnu-${v.xnu} has no struct ${name}`);
  return s;
}

/** Top-level field (searching anonymous unions/structs, whose members keep plain names). */
export function fieldOf(s: JStruct, name: string): JField | undefined {
  const search = (list: readonly JField[]): JField | undefined => {
    for (const f of list) {
      if (f.name === name) return f;
      if (f.name === '(anonymous)' && f.members) {
        const hit = search(f.members);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  return search(s.fields);
}

export function mustField(v: JVersion, struct: string, name: string): JField {
  const f = fieldOf(mustStruct(v, struct), name);
  if (!f) throw new Error(`xnu-${v.xnu} ${struct} has no field ${name}`);
  return f;
}

/** Size of the fixed part: where a flexible tail (`data[]`, `param[]`) starts, else sizeof. */
export function fixedSize(s: JStruct): number {
  const flex = s.fields.find((f) => f.flexible);
  return flex ? flex.offset : s.size;
}

export function constant(v: JVersion, name: string): number {
  const c = v.constants[name];
  if (typeof c !== 'number') throw new Error(`xnu-${v.xnu}: constant ${name} is ${JSON.stringify(c)}`);
  return c;
}

export function hasConstant(v: JVersion, name: string): boolean {
  return v.constants[name] !== undefined;
}

/** JSON constant value as the dialect should expose it (hex strings -> bigint). */
export function constantValue(c: number | string): number | bigint | string {
  if (typeof c === 'string' && /^0x[0-9a-f]+$/i.test(c)) return BigInt(c);
  return c;
}

export function hasLength(v: JVersion): boolean {
  return fieldOf(mustStruct(v, 'nstat_msg_hdr'), 'length') !== undefined;
}

export function srcrefBytes(v: JVersion): 4 | 8 {
  const t = v.typedefs['nstat_src_ref_t'];
  if (t === 'u32') return 4;
  if (t === 'u64') return 8;
  throw new Error(`xnu-${v.xnu}: nstat_src_ref_t is ${t}`);
}

/** Message type numbers by short name, from the version's own constants. */
export function msgType(v: JVersion, short: string): number {
  return constant(v, `NSTAT_MSG_TYPE_${short}`);
}

/**
 * Providers of a version: [constant name, id, descriptor struct]. The descriptor per provider is
 * from BEHAVIOUR.md §5 / LAYOUTS.md (QUIC uses the TCP descriptor: trap 4; UDP subflows the UDP one).
 */
const DESCRIPTOR_FOR: Record<string, string> = {
  NSTAT_PROVIDER_ROUTE: 'nstat_route_descriptor',
  NSTAT_PROVIDER_TCP: 'nstat_tcp_descriptor',
  NSTAT_PROVIDER_UDP: 'nstat_udp_descriptor',
  NSTAT_PROVIDER_TCP_KERNEL: 'nstat_tcp_descriptor',
  NSTAT_PROVIDER_TCP_USERLAND: 'nstat_tcp_descriptor',
  NSTAT_PROVIDER_UDP_KERNEL: 'nstat_udp_descriptor',
  NSTAT_PROVIDER_UDP_USERLAND: 'nstat_udp_descriptor',
  NSTAT_PROVIDER_IFNET: 'nstat_ifnet_descriptor',
  NSTAT_PROVIDER_SYSINFO: 'nstat_sysinfo_descriptor',
  NSTAT_PROVIDER_QUIC_USERLAND: 'nstat_quic_descriptor',
  NSTAT_PROVIDER_CONN_USERLAND: 'nstat_connection_descriptor',
  NSTAT_PROVIDER_UDP_SUBFLOW: 'nstat_udp_descriptor',
};

export interface ProviderFact {
  constName: string;
  id: number;
  descriptor: string;
}

export function providersOf(v: JVersion): ProviderFact[] {
  const out: ProviderFact[] = [];
  for (const [k, val] of Object.entries(v.constants)) {
    if (!k.startsWith('NSTAT_PROVIDER_') || typeof val !== 'number') continue;
    if (k === 'NSTAT_PROVIDER_NONE' || k === 'NSTAT_PROVIDER_LAST' || k === 'NSTAT_PROVIDER_COUNT') continue;
    const desc = DESCRIPTOR_FOR[k];
    if (!desc) throw new Error(`xnu-${v.xnu}: provider constant ${k} has no known descriptor (facts changed?)`);
    out.push({ constName: k, id: val, descriptor: desc });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sockaddrs (JSON notes: sockaddr_in 16 B, sockaddr_in6 28 B; byte 0 len, byte 1 family,
// port BE @2; v4 address @4; v6 flowinfo @4 (network order), address @8, scope_id @24 (host order)).

export const AF_INET = 2;
export const AF_INET6 = 30;

export type SockaddrSpec =
  | { sa: 'in'; addr: readonly number[]; port: number; len?: number }
  | { sa: 'in6'; addr: readonly number[]; port: number; flowinfo?: number; scope?: number; len?: number }
  | { sa: 'raw'; bytes: readonly number[] };

export function writeSockaddr(b: Uint8Array, off: number, s: SockaddrSpec): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (s.sa === 'raw') {
    b.set(s.bytes, off);
    return;
  }
  if (s.sa === 'in') {
    b[off] = s.len ?? 16;
    b[off + 1] = AF_INET;
    dv.setUint16(off + 2, s.port, false);
    b.set(s.addr, off + 4);
    return;
  }
  b[off] = s.len ?? 28;
  b[off + 1] = AF_INET6;
  dv.setUint16(off + 2, s.port, false);
  dv.setUint32(off + 4, s.flowinfo ?? 0, false);
  b.set(s.addr, off + 8);
  dv.setUint32(off + 24, s.scope ?? 0, true);
}

/** RFC 5952 canonical text of 16 address bytes (mapped v4 as ::ffff:a.b.c.d, §5). */
export function ipv6Text(a: readonly number[]): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(a[2 * i] * 256 + a[2 * i + 1]);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${a.slice(12).join('.')}`;
  let best = -1;
  let bestLen = 0;
  let i = 0;
  while (i < 8) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export interface EndpointExpect {
  family: 4 | 6;
  address: string;
  port: number;
  scopeId?: number;
  flowInfo?: number;
}

/** The decoded form the API promises for a sockaddr spec (family 0 -> undefined). */
export function endpointOf(s: SockaddrSpec): EndpointExpect | undefined {
  if (s.sa === 'raw') return undefined;
  if (s.sa === 'in') return { family: 4, address: s.addr.join('.'), port: s.port };
  const e: EndpointExpect = { family: 6, address: ipv6Text(s.addr), port: s.port };
  if (s.scope) e.scopeId = s.scope;
  if (s.flowinfo) e.flowInfo = s.flowinfo;
  return e;
}

/** Hand-checked sample endpoints: [spec, canonical text] (RFC 5952 §4). */
export const SAMPLE_V4: ReadonlyArray<[readonly number[], string]> = [
  [[192, 0, 2, 1], '192.0.2.1'],
  [[10, 20, 30, 40], '10.20.30.40'],
  [[127, 0, 0, 1], '127.0.0.1'],
  [[255, 255, 255, 0], '255.255.255.0'],
  [[0, 0, 0, 0], '0.0.0.0'],
];
const v6 = (...groups: number[]) => groups.flatMap((x) => [x >> 8, x & 0xff]);
export const SAMPLE_V6: ReadonlyArray<[readonly number[], string]> = [
  [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
  [v6(0xfe80, 0, 0, 0, 0, 0, 0, 0x1), 'fe80::1'],
  [v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
  [v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1'],
  [v6(1, 0, 0, 2, 0, 0, 0, 3), '1:0:0:2::3'],
  [v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0207), '::ffff:192.0.2.7'],
  [v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
  [v6(0x2a00, 0x1450, 0x4001, 0x82a, 0, 0, 0, 0x200e), '2a00:1450:4001:82a::200e'],
  [v6(0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789), 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
];

// ---------------------------------------------------------------------------------------------
// UUIDs and strings

export function uuidBytes(seed: number): number[] {
  return Array.from({ length: 16 }, (_, i) => (seed * 31 + i * 17 + 0x5a) & 0xff);
}

export function uuidText(bytes: readonly number[]): string {
  const h = bytes.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function camel(name: string): string {
  return name
    .split('_')
    .map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1)))
    .join('');
}

// ---------------------------------------------------------------------------------------------
// The builder: write values into a struct at JSON offsets.

/** Values keyed by C field names. Nested structs/unions take nested objects. */
export type Values = { [field: string]: unknown };

function arrayOf(type: string): { elem: string; n: number } | undefined {
  const m = /^([a-z0-9_]+)\[(\d+)\]$/.exec(type);
  return m ? { elem: m[1], n: Number(m[2]) } : undefined;
}

const SCALAR_SIZES: Record<string, number> = { u8: 1, bool: 1, char: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8, f64: 8 };

function writeScalar(dv: DataView, off: number, type: string, value: unknown): void {
  switch (type) {
    case 'u8':
    case 'char':
      dv.setUint8(off, Number(value));
      return;
    case 'bool':
      dv.setUint8(off, value ? 1 : 0);
      return;
    case 'u16':
      dv.setUint16(off, Number(value), true);
      return;
    case 'u32':
      dv.setUint32(off, Number(value), true);
      return;
    case 'i32':
      dv.setInt32(off, Number(value), true);
      return;
    case 'u64':
      dv.setBigUint64(off, BigInt(value as number | bigint), true);
      return;
    case 'i64':
      dv.setBigInt64(off, BigInt(value as number | bigint), true);
      return;
    case 'f64':
      dv.setFloat64(off, Number(value), true);
      return;
  }
  throw new Error(`not a scalar type ${type}`);
}

/**
 * Write `values` into `buf` at `base` for struct `structName` of version `v`. Every key must name a
 * field (top-level or inside an anonymous union); unknown keys are an error so typos cannot hide.
 */
export function writeStructValues(v: JVersion, structName: string, buf: Uint8Array, base: number, values: Values): void {
  const s = mustStruct(v, structName);
  writeFields(v, s.fields, buf, base, values, structName);
}

function writeFields(v: JVersion, fields: readonly JField[], buf: Uint8Array, base: number, values: Values, where: string): void {
  const used = new Set<string>();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const visit = (list: readonly JField[], prefix: string) => {
    for (const f of list) {
      if (f.name === '(anonymous)' && f.members) {
        visit(f.members, prefix);
        continue;
      }
      const key = prefix && f.name.startsWith(prefix) ? f.name.slice(prefix.length) : f.name;
      if (!(key in values)) continue;
      used.add(key);
      writeField(v, f, dv, buf, base, values[key], where);
    }
  };
  visit(fields, '');
  for (const k of Object.keys(values)) if (!used.has(k)) throw new Error(`xnu-${v.xnu} ${where}: no field ${k}`);
}

function writeField(v: JVersion, f: JField, dv: DataView, buf: Uint8Array, base: number, value: unknown, where: string): void {
  const off = base + f.offset;
  if (value === undefined) return;
  if (value instanceof Uint8Array) {
    if (value.length > f.size) throw new Error(`${where}.${f.name}: ${value.length} bytes > ${f.size}`);
    buf.set(value, off);
    return;
  }
  if (f.type in SCALAR_SIZES) {
    writeScalar(dv, off, f.type, value);
    return;
  }
  if (f.type === 'sockaddr_union') {
    writeSockaddr(buf, off, value as SockaddrSpec);
    return;
  }
  if (f.type === 'uuid' || (f.type === 'u8[16]' && typeof value === 'string')) {
    const hex = (value as string).replace(/-/g, '');
    for (let i = 0; i < 16; i++) buf[off + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return;
  }
  const arr = arrayOf(f.type);
  if (arr) {
    if (arr.elem === 'char' && typeof value === 'string') {
      const bytes = new TextEncoder().encode(value);
      if (bytes.length > arr.n) throw new Error(`${where}.${f.name}: string of ${bytes.length} bytes > ${arr.n}`);
      buf.set(bytes, off);
      return;
    }
    if (Array.isArray(value)) {
      const esz = SCALAR_SIZES[arr.elem];
      if (!esz) throw new Error(`${where}.${f.name}: array of ${arr.elem}`);
      value.forEach((x, i) => writeScalar(dv, off + i * esz, arr.elem, x));
      return;
    }
    throw new Error(`${where}.${f.name}: cannot write ${typeof value} into ${f.type}`);
  }
  if (f.type === 'tcp_conn_status' && typeof value === 'number') {
    dv.setUint32(off, value >>> 0, true);
    return;
  }
  if ((f.type === 'union' || f.type === 'struct') && f.members) {
    // Named union: members carry dotted names with absolute offsets in the outer struct.
    writeFields(v, f.members, buf, base, prefixKeys(value as Values, `${f.name}.`), `${where}.${f.name}`);
    return;
  }
  const nested = structOf(v, f.type);
  if (nested) {
    writeFields(v, nested.fields, buf, off, value as Values, `${where}.${f.name}`);
    return;
  }
  throw new Error(`${where}.${f.name}: unsupported type ${f.type}`);
}

function prefixKeys(values: Values, prefix: string): Values {
  const out: Values = {};
  for (const [k, x] of Object.entries(values)) out[`${prefix}${k}`] = x;
  return out;
}

/** Read a scalar (u8..u64/i32/i64/f64) at `off`; u64/i64 as bigint. */
export function readScalar(bytes: Uint8Array, off: number, type: string): number | bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'u8':
    case 'bool':
      return dv.getUint8(off);
    case 'u16':
      return dv.getUint16(off, true);
    case 'u32':
      return dv.getUint32(off, true);
    case 'i32':
      return dv.getInt32(off, true);
    case 'u64':
      return dv.getBigUint64(off, true);
    case 'i64':
      return dv.getBigInt64(off, true);
    case 'f64':
      return dv.getFloat64(off, true);
  }
  throw new Error(`not a scalar type ${type}`);
}

// ---------------------------------------------------------------------------------------------
// Messages

export interface HdrValues {
  context: bigint;
  type: number;
  flags?: number;
}

/**
 * Build a whole message: `structName`'s fixed part with `values` (the `hdr` filled from `hdr`,
 * its length = the final byte count where the header has one), then `tail` appended at the
 * flexible member (or at sizeof when there is none).
 */
export function buildMessage(v: JVersion, structName: string, hdr: HdrValues, values: Values = {}, tail?: Uint8Array): Uint8Array {
  const s = mustStruct(v, structName);
  const fixed = fixedSize(s);
  const total = fixed + (tail?.length ?? 0);
  const buf = new Uint8Array(total);
  const withLen = hasLength(v);
  if (!withLen && hdr.flags) throw new Error('pre-10.11 headers carry no flags');
  const hv: Values = withLen ? { context: hdr.context, type: hdr.type, length: total, flags: hdr.flags ?? 0 } : { context: hdr.context, type: hdr.type };
  if (structName === 'nstat_msg_hdr') writeStructValues(v, structName, buf, 0, hv);
  else writeStructValues(v, structName, buf, 0, { ...values, hdr: hv });
  if (tail) buf.set(tail, fixed);
  return buf;
}

/** A standalone struct image (descriptor, param, domain info...). */
export function buildStruct(v: JVersion, structName: string, values: Values): Uint8Array {
  const s = mustStruct(v, structName);
  const buf = new Uint8Array(s.size);
  writeStructValues(v, structName, buf, 0, values);
  return buf;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Counts (nstat_counts; BEHAVIOUR.md A.2). Names the API promises for each C field.

export const COUNT_KEYS: Record<string, string> = {
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

/** Distinctive counts for a version: u64 0x0102030405 + i·0x1000, u32 0x0A0B0C00 + i. */
export function sampleCounts(v: JVersion, seed = 0): { values: Values; expected: Record<string, number> } {
  const s = mustStruct(v, 'nstat_counts');
  const values: Values = {};
  const expected: Record<string, number> = {};
  s.fields.forEach((f, i) => {
    const key = COUNT_KEYS[f.name];
    if (!key) throw new Error(`xnu-${v.xnu}: unexpected nstat_counts field ${f.name}`);
    const n = f.size === 8 ? 0x0102030405 + i * 0x1000 + seed : 0x0a0b0c00 + i + seed;
    values[f.name] = f.size === 8 ? BigInt(n) : n;
    expected[key] = n;
  });
  return { values, expected };
}

// ---------------------------------------------------------------------------------------------
// Descriptor samples: distinctive values for every field and the decoded form the API promises
// (keys = camelCase C names; numbers kept even when zero; zero UUIDs, empty strings and
// family-0 sockaddrs omitted; route ids (kernel hashes, may exceed 2^53) as decimal strings).

/** Fields the kernel zeroes and the API does not surface. */
export function isPadding(f: JField): boolean {
  if (f.name === 'reserved' || f.name === 'pad' || f.name.startsWith('__pad') || f.name === 'pad_field') return true;
  const arr = arrayOf(f.type);
  return !!arr && arr.elem === 'u8' && !(arr.n === 16 && /uuid$/.test(f.name));
}

export const ROUTE_ID_FIELDS = new Set(['id', 'parent_id', 'gateway_id']);

export interface Sample {
  values: Values;
  expected: Record<string, unknown>;
  /** Fields left zero because the API has no value for them (e.g. ifnet link_status). */
  untouched: string[];
}

/** Top-level fields, anonymous unions expanded. */
export function topFields(s: JStruct): JField[] {
  const out: JField[] = [];
  const walk = (list: readonly JField[]) => {
    for (const f of list) {
      if (f.name === '(anonymous)' && f.members) walk(f.members);
      else out.push(f);
    }
  };
  walk(s.fields);
  return out;
}

export function sampleStruct(v: JVersion, structName: string, seed: number): Sample {
  const s = mustStruct(v, structName);
  const values: Values = {};
  const expected: Record<string, unknown> = {};
  const untouched: string[] = [];
  let sock = 0;
  topFields(s).forEach((f, i) => {
    if (isPadding(f)) return;
    const key = camel(f.name);
    const k = seed * 100 + i;
    const arr = arrayOf(f.type);
    if (f.type === 'u8') {
      values[f.name] = (k * 7 + 3) & 0xff;
      expected[key] = values[f.name];
    } else if (f.type === 'u16') {
      values[f.name] = 0x0100 + k;
      expected[key] = values[f.name];
    } else if (f.type === 'u32' || f.type === 'tcp_conn_status') {
      values[f.name] = (0x01020000 + k * 0x10001) >>> 0;
      expected[key] = values[f.name];
    } else if (f.type === 'i32') {
      values[f.name] = -1000 - k;
      expected[key] = values[f.name];
    } else if (f.type === 'u64' && ROUTE_ID_FIELDS.has(f.name) && structName === 'nstat_route_descriptor') {
      const big = 0xffffff8012345678n + BigInt(k);
      values[f.name] = big;
      expected[key] = big.toString();
    } else if (f.type === 'u64') {
      const n = 0x0102030405 + k * 0x101;
      values[f.name] = BigInt(n);
      expected[key] = n;
    } else if (f.type === 'bool') {
      values[f.name] = (k & 1) === 1;
      expected[key] = values[f.name];
    } else if (arr && arr.elem === 'char') {
      const base = `${f.name}-${seed}`;
      const str = base.length > arr.n - 1 ? base.slice(0, arr.n - 1) : base;
      values[f.name] = str;
      expected[key] = str;
    } else if (f.type === 'uuid' || f.type === 'u8[16]') {
      const b = uuidBytes(k);
      values[f.name] = new Uint8Array(b);
      expected[key] = uuidText(b);
    } else if (f.type === 'sockaddr_union') {
      const j = seed + sock++;
      let spec: SockaddrSpec;
      if (j % 2 === 0) {
        const [addr] = SAMPLE_V4[j % SAMPLE_V4.length];
        spec = { sa: 'in', addr, port: 0x1234 + j };
      } else {
        const [addr] = SAMPLE_V6[j % SAMPLE_V6.length];
        spec = { sa: 'in6', addr, port: 0xc000 + j, scope: j % 3 === 0 ? 0 : 4 + j, flowinfo: j % 4 === 1 ? 0x000abcde : 0 };
      }
      values[f.name] = spec;
      expected[key] = endpointOf(spec);
    } else if (f.type === 'activity_bitmap') {
      const start = 0x0102030405 + k;
      const lo = 0x8000000000000001n + BigInt(k);
      const hi = 0x0123456789abcdefn;
      values[f.name] = { start: BigInt(start), bitmap: [lo, hi] };
      expected[key] = { start, bits: hi.toString(16).padStart(16, '0') + lo.toString(16).padStart(16, '0') };
    } else {
      untouched.push(f.name);
    }
  });
  return { values, expected, untouched };
}
