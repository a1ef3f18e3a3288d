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
import assert from 'node:assert/strict';
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
// The project's CI (.ci/run) always has ../shared beside the clone: its absence there is a
// failure. A GitHub runner has no ../shared; its workflow sets CI_REQUIRE_SHARED=1 only when
// the facts are present, so there the tests skip visibly instead.
const IN_CI = process.env.CI_REQUIRE_SHARED === '1' || (process.env.CI === 'true' && process.env.GITHUB_ACTIONS !== 'true');

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
    } else if (f.type === 'nstat_ifnet_desc_link_status') {
      // Kept by the API as the nested struct's raw bytes (absent when all zero). Alternate wifi/cellular.
      const wifi = k % 2 === 0 && hasConstant(v, 'NSTAT_IFNET_DESC_LINK_STATUS_TYPE_WIFI');
      const ls: Values = wifi
        ? { link_status_type: constant(v, 'NSTAT_IFNET_DESC_LINK_STATUS_TYPE_WIFI'), u: { wifi: { valid_bitmask: 0x3, link_quality_metric: 90 + k, ul_effective_bandwidth: 0x01020304 } } }
        : { link_status_type: constant(v, 'NSTAT_IFNET_DESC_LINK_STATUS_TYPE_CELLULAR'), u: { cellular: { valid_bitmask: 0x1, link_quality_metric: 50 + k, ul_max_bandwidth: 0x0a0b0c0d } } };
      values[f.name] = ls;
      expected[key] = buildStruct(v, f.type, ls);
    } else {
      untouched.push(f.name);
    }
  });
  return { values, expected, untouched };
}

// ---------------------------------------------------------------------------------------------
// Golden messages: one per message type the version has, with the decoded form the API promises.

export type Expected = { kind: string } & Record<string, unknown>;
export interface Case {
  name: string;
  bytes: Uint8Array;
  expected: Expected;
  /** Known encoder gap: the encode-equality assertion runs as a `todo` with this reason. */
  encodeTodo?: string;
}

export const REQ_CTX = 0x0102030405060708n;
export const SRCREF4 = 0x89abcdefn;
export const SRCREF8 = 0xfedcba9876543210n; // above 2^53: must survive as bigint
export const EVENT = 0x8000000000000c00n;


function u8(...xs: number[]): Uint8Array {
  return new Uint8Array(xs);
}

export function goldenCases(v: JVersion): Case[] {
  const out: Case[] = [];
  const withLen = hasLength(v);
  const T = (n: string) => msgType(v, n);
  const has = (n: string) => hasConstant(v, `NSTAT_MSG_TYPE_${n}`);
  const flag = (n: string) => (withLen && hasConstant(v, `NSTAT_MSG_HDR_FLAG_${n}`) ? constant(v, `NSTAT_MSG_HDR_FLAG_${n}`) : 0);
  const srcref = srcrefBytes(v) === 8 ? SRCREF8 : SRCREF4;
  const hasEv = fieldOf(mustStruct(v, 'nstat_msg_src_counts'), 'event_flags') !== undefined;
  const ev = hasEv ? EVENT : 0n;
  const evv = hasEv ? { event_flags: EVENT } : {};
  const providers = providersOf(v);
  const pid = (c: string) => providers.find((p) => p.constName === c)?.id;
  const tcpId = pid('NSTAT_PROVIDER_TCP_KERNEL') ?? pid('NSTAT_PROVIDER_TCP')!;
  const counts = sampleCounts(v);

  // ---- SUCCESS / ERROR
  out.push({
    name: 'SUCCESS',
    bytes: buildMessage(v, 'nstat_msg_hdr', { context: REQ_CTX, type: T('SUCCESS'), flags: flag('CONTINUATION') }),
    expected: { kind: 'success', context: REQ_CTX, flags: flag('CONTINUATION') },
  });
  out.push({
    name: 'ERROR (bare)',
    bytes: buildMessage(v, 'nstat_msg_error', { context: REQ_CTX, type: T('ERROR') }, { error: 22 }),
    expected: { kind: 'error', context: REQ_CTX, flags: 0, errno: 22 },
  });
  if (withLen) {
    const echoed = buildMessage(v, 'nstat_msg_rem_src', { context: REQ_CTX, type: T('REM_SRC') }, { srcref });
    out.push({
      name: 'ERROR with echoed request',
      bytes: buildMessage(v, 'nstat_msg_error', { context: REQ_CTX, type: T('ERROR') }, { error: 2 }, echoed),
      expected: { kind: 'error', context: REQ_CTX, flags: 0, errno: 2, request: echoed },
    });
  }

  // ---- source lifecycle
  out.push({
    name: 'SRC_ADDED',
    bytes: buildMessage(v, 'nstat_msg_src_added', { context: 0n, type: T('SRC_ADDED') }, { srcref, provider: tcpId }),
    expected: { kind: 'srcAdded', context: 0n, flags: 0, srcref, provider: tcpId },
  });
  out.push({
    name: 'SRC_REMOVED',
    bytes: buildMessage(v, 'nstat_msg_src_removed', { context: 0n, type: T('SRC_REMOVED'), flags: flag('CLOSED_AFTER_DROP') }, { srcref }),
    expected: { kind: 'srcRemoved', context: 0n, flags: flag('CLOSED_AFTER_DROP'), srcref },
  });
  out.push({
    name: 'SRC_COUNTS',
    bytes: buildMessage(v, 'nstat_msg_src_counts', { context: 0n, type: T('SRC_COUNTS'), flags: flag('CLOSING') }, { srcref, ...evv, counts: counts.values }),
    expected: { kind: 'srcCounts', context: 0n, flags: flag('CLOSING'), srcref, eventFlags: ev, counts: counts.expected },
  });

  // ---- descriptors: every provider of the version
  for (const p of providers) {
    assert.ok(structOf(v, p.descriptor), `xnu-${v.xnu}: ${p.constName} descriptor ${p.descriptor} missing from the facts`);
    const sample = sampleStruct(v, p.descriptor, p.id);
    const desc = buildStruct(v, p.descriptor, sample.values);
    const pname = p.constName.replace('NSTAT_PROVIDER_', '');
    out.push({
      name: `SRC_DESC ${pname} (${p.descriptor}, ${desc.length} B)`,
      bytes: buildMessage(v, 'nstat_msg_src_description', { context: REQ_CTX, type: T('SRC_DESC') }, { srcref, ...evv, provider: p.id }, desc),
      expected: { kind: 'srcDesc', context: REQ_CTX, flags: 0, srcref, eventFlags: ev, provider: p.id, descriptor: sample.expected },
    });
    if (has('SRC_UPDATE')) {
      out.push({
        name: `SRC_UPDATE ${pname}`,
        bytes: buildMessage(
          v,
          'nstat_msg_src_update',
          { context: 0n, type: T('SRC_UPDATE'), flags: flag('CLOSING') },
          { srcref, ...evv, counts: counts.values, provider: p.id },
          desc,
        ),
        expected: {
          kind: 'srcUpdate',
          context: 0n,
          flags: flag('CLOSING'),
          srcref,
          eventFlags: ev,
          counts: counts.expected,
          provider: p.id,
          descriptor: sample.expected,
        },
      });
    }
    if (has('SRC_EXTENDED_UPDATE')) {
      const items = extensionItems(v, false);
      const base = { srcref, ...evv, counts: counts.values, provider: p.id };
      const expectedBase = { kind: 'srcUpdate', context: 0n, flags: 0, srcref, eventFlags: ev, counts: counts.expected, provider: p.id, descriptor: sample.expected, extended: true };
      out.push({
        name: `SRC_EXTENDED_UPDATE ${pname} with DOMAIN item (exact lengths)`,
        bytes: buildMessage(v, 'nstat_msg_src_update', { context: 0n, type: T('SRC_EXTENDED_UPDATE') }, base, concat(desc, items.bytes)),
        expected: { ...expectedBase, extensions: items.expected },
      });
      const padded = extensionItems(v, true);
      out.push({
        name: `SRC_EXTENDED_UPDATE ${pname}, aggregated form (padded item lengths)`,
        bytes: buildMessage(v, 'nstat_msg_src_update', { context: 0n, type: T('SRC_EXTENDED_UPDATE') }, base, concat(desc, padded.bytes)),
        expected: { ...expectedBase, extensions: padded.expected },
      });
    }
  }

  // ---- SYSINFO_COUNTS
  if (has('SYSINFO_COUNTS')) {
    const kv = mustStruct(v, 'nstat_sysinfo_keyval');
    const u = fieldOf(kv, 'u')!;
    const hasValsize = fieldOf(kv, 'nstat_sysinfo_valsize') !== undefined;
    const hasString = (u.members ?? []).some((m) => m.name === 'u.nstat_sysinfo_string');
    const fl = (n: string, dflt: number) => (hasConstant(v, `NSTAT_SYSINFO_FLAG_${n}`) ? constant(v, `NSTAT_SYSINFO_FLAG_${n}`) : dflt);
    const entries: Values[] = [
      { nstat_sysinfo_key: 1, nstat_sysinfo_flags: fl('SCALAR', 1), u: { nstat_sysinfo_scalar: -5n }, ...(hasValsize ? { nstat_sysinfo_valsize: 8 } : {}) },
      { nstat_sysinfo_key: 0x20, nstat_sysinfo_flags: fl('DISTRIBUTION', 2), u: { nstat_sysinfo_distribution: 3.25 } },
      { nstat_sysinfo_key: 0x0a0b0c0d, nstat_sysinfo_flags: 0, u: { nstat_sysinfo_scalar: 0x0123456789abcdefn } },
    ];
    if (hasString) {
      entries.push({ nstat_sysinfo_key: 0x30, nstat_sysinfo_flags: fl('STRING', 4), u: { nstat_sysinfo_string: new TextEncoder().encode('en0:wifi') }, nstat_sysinfo_valsize: 8 });
    }
    const kvBytes = concat(...entries.map((e) => buildStruct(v, 'nstat_sysinfo_keyval', e)));
    const keyvalsOff = fieldOf(mustStruct(v, 'nstat_sysinfo_counts'), 'nstat_sysinfo_keyvals')!.offset;
    const expectedKv = entries.map((_, i) => {
      const p = i * kv.size + u.offset;
      const e: Record<string, unknown> = {
        key: readScalar(kvBytes, i * kv.size, 'u32'),
        flags: readScalar(kvBytes, i * kv.size + 4, 'u32'),
        scalar: readScalar(kvBytes, p, 'i64'),
        distribution: readScalar(kvBytes, p, 'f64'),
        value: kvBytes.slice(p, p + u.size),
      };
      if (hasValsize) e.valsize = readScalar(kvBytes, i * kv.size + fieldOf(kv, 'nstat_sysinfo_valsize')!.offset, 'u32');
      return e;
    });
    assert.equal(expectedKv[0].scalar, -5n);
    assert.equal(expectedKv[1].distribution, 3.25);
    out.push({
      name: `SYSINFO_COUNTS (${entries.length} × ${kv.size} B keyvals)`,
      bytes: buildMessage(
        v,
        'nstat_msg_sysinfo_counts',
        { context: 0n, type: T('SYSINFO_COUNTS') },
        // Kernel fact (xnu bsd/net/ntstat.c nstat_sysinfo_send_data_internal, every tag 2782→11417):
        // nstat_sysinfo_len = offsetof(nstat_sysinfo_counts, nstat_sysinfo_keyvals) + n·sizeof(keyval).
        { srcref: 0x3a5, counts: { nstat_sysinfo_len: keyvalsOff + entries.length * kv.size } },
        kvBytes,
      ),
      expected: { kind: 'sysinfoCounts', context: 0n, flags: 0, srcref: 0x3a5n, keyvals: expectedKv },
    });
  }

  // ---- requests
  const tcpParam = buildStruct(v, 'nstat_tcp_add_param', {
    local: { sa: 'in', addr: [192, 0, 2, 10], port: 443 },
    remote: { sa: 'in6', addr: SAMPLE_V6[0][0], port: 51000, scope: 0 },
  });
  out.push({
    name: 'ADD_SRC tcp (nstat_tcp_add_param)',
    bytes: buildMessage(v, 'nstat_msg_add_src', { context: REQ_CTX, type: T('ADD_SRC') }, { provider: tcpId }, tcpParam),
    expected: { kind: 'addSrc', context: REQ_CTX, flags: 0, provider: tcpId, param: tcpParam },
  });
  const routeParam = buildStruct(v, 'nstat_route_add_param', {
    dst: { sa: 'in', addr: [198, 51, 100, 0], port: 0 },
    mask: { sa: 'in', addr: [255, 255, 255, 0], port: 0 },
    ifindex: 5,
  });
  out.push({
    name: 'ADD_SRC route (nstat_route_add_param)',
    bytes: buildMessage(v, 'nstat_msg_add_src', { context: REQ_CTX + 1n, type: T('ADD_SRC') }, { provider: pid('NSTAT_PROVIDER_ROUTE')! }, routeParam),
    expected: { kind: 'addSrc', context: REQ_CTX + 1n, flags: 0, provider: pid('NSTAT_PROVIDER_ROUTE')!, param: routeParam },
  });
  if (structOf(v, 'nstat_ifnet_add_param')) {
    const ifParam = buildStruct(v, 'nstat_ifnet_add_param', { ifindex: 7, threshold: 0x1_0010_0000n });
    out.push({
      name: 'ADD_SRC ifnet (nstat_ifnet_add_param)',
      bytes: buildMessage(v, 'nstat_msg_add_src', { context: REQ_CTX + 2n, type: T('ADD_SRC') }, { provider: pid('NSTAT_PROVIDER_IFNET')! }, ifParam),
      expected: { kind: 'addSrc', context: REQ_CTX + 2n, flags: 0, provider: pid('NSTAT_PROVIDER_IFNET')!, param: ifParam },
    });
  }
  {
    const s = mustStruct(v, 'nstat_msg_add_all_srcs');
    const values: Values = { provider: tcpId };
    const expected: Expected = { kind: 'addAllSrcs', context: REQ_CTX, flags: 0, provider: tcpId, filter: 0n, events: 0n, targetPid: 0 };
    if (fieldOf(s, 'filter')) (values.filter = 0x0000_0123_0040_0004n), (expected.filter = 0x0000_0123_0040_0004n);
    if (fieldOf(s, 'events')) (values.events = 0x0000_0100_0000_3c00n), (expected.events = 0x0000_0100_0000_3c00n);
    if (fieldOf(s, 'target_pid')) (values.target_pid = 31337), (expected.targetPid = 31337);
    if (fieldOf(s, 'target_uuid')) {
      values.target_uuid = new Uint8Array(uuidBytes(9));
      expected.targetUuid = uuidText(uuidBytes(9));
    }
    out.push({ name: `ADD_ALL_SRCS (${s.size} B)`, bytes: buildMessage(v, 'nstat_msg_add_all_srcs', { context: REQ_CTX, type: T('ADD_ALL_SRCS') }, values), expected });
  }
  const srcrefReqs: Array<[string, string, string]> = [
    ['REM_SRC', 'nstat_msg_rem_src', 'remSrc'],
    ['QUERY_SRC', 'nstat_msg_query_src', 'querySrc'],
    ['GET_SRC_DESC', 'nstat_msg_get_src_description', 'getSrcDesc'],
    // BEHAVIOUR.md A.2: GET_UPDATE has the REM/QUERY/GET_SRC_DESC layout (the kernel reads nstat_msg_query_src).
    ['GET_UPDATE', 'nstat_msg_query_src', 'getUpdate'],
  ];
  for (const [t, struct, kind] of srcrefReqs) {
    if (!has(t)) continue;
    out.push({
      name: `${t} (single srcref)`,
      bytes: buildMessage(v, struct, { context: REQ_CTX, type: T(t) }, { srcref }),
      expected: { kind, context: REQ_CTX, flags: 0, srcref },
    });
    const all = BigInt(constantValue(v.constants['NSTAT_SRC_REF_ALL']) as number | bigint);
    const fl = flag('SUPPORTS_AGGREGATE') | flag('CONTINUATION');
    out.push({
      name: `${t} (srcref ALL, aggregate|continuation)`,
      bytes: buildMessage(v, struct, { context: REQ_CTX + 3n, type: T(t), flags: fl }, { srcref: all }),
      expected: { kind, context: REQ_CTX + 3n, flags: fl, srcref: all },
    });
  }
  if (has('SET_FILTER')) {
    out.push({
      name: 'SET_FILTER',
      bytes: buildMessage(v, 'nstat_msg_set_filter', { context: REQ_CTX, type: T('SET_FILTER') }, { srcref, filter: 0x80000001 }),
      expected: { kind: 'setFilter', context: REQ_CTX, flags: 0, srcref, filter: 0x80000001 },
    });
  }
  if (has('SUBSCRIBE_SYSINFO')) {
    out.push({
      name: 'SUBSCRIBE_SYSINFO (header only, BEHAVIOUR.md §2.8)',
      bytes: buildMessage(v, 'nstat_msg_hdr', { context: REQ_CTX, type: T('SUBSCRIBE_SYSINFO') }),
      expected: { kind: 'subscribeSysinfo', context: REQ_CTX, flags: 0 },
    });
  }
  return out;
}

/** Extension items (BEHAVIOUR.md §6): {type u32, length u32} + data, next item at roundup8. */
export function extensionItems(v: JVersion, aggregatedForm: boolean): { bytes: Uint8Array; expected: unknown[] } {
  const itemHdr = (type: number, length: number) => buildStruct(v, 'nstat_msg_src_extended_item_hdr', { type, length });
  const hdrSize = mustStruct(v, 'nstat_msg_src_extended_item_hdr').size;
  assert.equal(hdrSize, 8, 'BEHAVIOUR.md §6 / LAYOUTS.md: extension item header is 8 bytes');
  const dom = sampleStruct(v, 'nstat_domain_info', 7);
  const domBytes = buildStruct(v, 'nstat_domain_info', dom.values);
  const DOMAIN = constant(v, 'NSTAT_EXTENDED_UPDATE_TYPE_DOMAIN');
  const domainItem = { type: DOMAIN, length: domBytes.length, data: domBytes, domain: dom.expected };
  if (!hasConstant(v, 'NSTAT_EXTENDED_UPDATE_TYPE_NECP_TLV')) {
    return { bytes: concat(itemHdr(DOMAIN, domBytes.length), domBytes), expected: [domainItem] };
  }
  const TLV = constant(v, 'NSTAT_EXTENDED_UPDATE_TYPE_NECP_TLV');
  const tlv = u8(1, 0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0xaa, 0xbb, 0xcc); // 13 bytes
  const tlvPadded = concat(tlv, new Uint8Array(3));
  if (!aggregatedForm) {
    // TLV first (13 B, padded to 16 before the next item), DOMAIN last (exact).
    return {
      bytes: concat(itemHdr(TLV, 13), tlvPadded, itemHdr(DOMAIN, domBytes.length), domBytes),
      expected: [{ type: TLV, length: 13, data: tlv }, domainItem],
    };
  }
  // Aggregated updates report padded lengths, the last item included.
  return {
    bytes: concat(itemHdr(DOMAIN, domBytes.length), domBytes, itemHdr(TLV, 16), tlvPadded),
    expected: [domainItem, { type: TLV, length: 16, data: tlvPadded }],
  };
}

