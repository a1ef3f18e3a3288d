/**
 * Dialects: one per published ntstat.h header version, built from the generated facts.
 * Header versions with byte-identical wire layouts share a layout family (`family`, e.g. d4570)
 * and share the same struct layout objects; constants are per header version because Apple
 * renumbered filter/event bits inside a layout family (LAYOUTS.md "Traps" 3).
 */
import { NtstatError } from '../errors.js';
import type { RawHeaderVersion } from './facts-types.js';
import { HEADER_VERSIONS, STRUCT_LAYOUTS } from './generated/facts.js';
import { provisionalDialects as buildProvisional, type ProvisionalInfo } from './provisional.js';

export type { ProvisionalInfo };

export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly bitMask?: number;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly align: number;
  /** Every field, nested union members included (dotted names), in declaration order. */
  readonly fields: readonly FieldLayout[];
  /** Top-level and nested fields by name. */
  readonly byName: ReadonlyMap<string, FieldLayout>;
}

export type ConstantValue = number | bigint | string;

export interface Dialect {
  /** Layout family name shared by header versions with identical wire layouts (d4570...). */
  readonly family: string;
  /** The ntstat.h header version this dialect describes (first XNU tag with that header). */
  readonly xnu: string;
  /** Every published XNU tag that carries this header. */
  readonly tags: readonly string[];
  /** First macOS release of this header. */
  readonly macos: string;
  readonly macosByTag: Readonly<Record<string, string>>;
  readonly revision: number;
  /** Bytes of a srcref on the wire: 4 before 10.12 (xnu-3789), 8 after. */
  readonly srcrefSize: 4 | 8;
  /** Header has length/flags (10.11+); before that each datagram holds exactly one message. */
  readonly hasLength: boolean;
  /** Every constant the header defines (values above 2^53 as bigint). */
  readonly constants: Readonly<Record<string, ConstantValue>>;
  /** Struct layouts by C name (wire and embedded structs). Aliases resolved. */
  readonly structs: ReadonlyMap<string, StructLayout>;
  /** false when selected for a version newer than every published header. */
  readonly verified: boolean;
  /** Why the selection is unverified (shown to users as a warning). */
  readonly warning?: string;
  /**
   * Set on the provisional dialects of kernels without published sources (macOS 26, 27): tables
   * observed, not from headers (REAL-CAPTURES.md). Always unverified.
   */
  readonly provisional?: ProvisionalInfo;
  /** The kernel this dialect was selected for, as the user named it ('xnu-12377.1.9', 'macOS 27'). */
  readonly kernel?: string;
  /**
   * Tables adjusted by the client's layout self-test (issue 12): fields found at new offsets are
   * kept, fields it could not place are absent. Streams decoded with it say `layout: 'inferred'`.
   */
  readonly inferred?: boolean;
}

function parseConstant(v: number | string): ConstantValue {
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return BigInt(v);
  return v;
}

function buildStruct(name: string, idx: number): StructLayout {
  const raw = STRUCT_LAYOUTS[idx];
  const fields: FieldLayout[] = raw.fields.map((f) => {
    const [fname, offset, size, type, bitMask] = f as [string, number, number, string, number?];
    return bitMask === undefined ? { name: fname, offset, size, type } : { name: fname, offset, size, type, bitMask };
  });
  const byName = new Map<string, FieldLayout>();
  for (const f of fields) if (!byName.has(f.name)) byName.set(f.name, f);
  return { name, size: raw.size, align: raw.align, fields, byName };
}

const layoutCache = new Map<string, StructLayout>();
function structFor(name: string, idx: number): StructLayout {
  // Layout objects are shared by every header version that has the same bytes.
  const key = `${name}:${idx}`;
  let s = layoutCache.get(key);
  if (s === undefined) {
    s = buildStruct(name, idx);
    layoutCache.set(key, s);
  }
  return s;
}

function buildDialect(i: number): Dialect {
  const v: RawHeaderVersion = HEADER_VERSIONS[i];
  const constants: Record<string, ConstantValue> = {};
  for (let j = 0; j <= i; j++) {
    const step = HEADER_VERSIONS[j];
    for (const k of step.constantsRemoved) delete constants[k];
    for (const [k, val] of Object.entries(step.constantsSet)) constants[k] = parseConstant(val);
  }
  const structs = new Map<string, StructLayout>();
  for (const [name, idx] of Object.entries(v.structs)) structs.set(name, structFor(name, idx));
  for (const [alias, target] of Object.entries(v.aliases)) {
    const t = structs.get(target);
    if (t) structs.set(alias, t);
  }
  const srcref = structs.get('nstat_msg_src_removed')?.byName.get('srcref');
  const hdr = structs.get('nstat_msg_hdr');
  return {
    family: v.dialect,
    xnu: v.xnu,
    tags: v.tags,
    macos: v.macosByTag[v.tags[0]],
    macosByTag: v.macosByTag,
    revision: v.revision,
    srcrefSize: srcref?.size === 8 ? 8 : 4,
    hasLength: hdr?.byName.has('length') ?? false,
    constants,
    structs,
    verified: true,
  };
}

/**
 * Built dialects by header-version index, built on first use: selecting one dialect for a kernel
 * builds only that one (issue 17 startup: building all of them took ~20-60 ms before the first
 * message). The same index always yields the same object, through dialectFor or allDialects.
 */
const dialectCache: Dialect[] = [];
function dialectAt(i: number): Dialect {
  return (dialectCache[i] ??= buildDialect(i));
}

/** All dialects, oldest first (one per distinct published ntstat.h). */
export function allDialects(): readonly Dialect[] {
  for (let i = 0; i < HEADER_VERSIONS.length; i++) dialectAt(i);
  return dialectCache;
}

/** Dialects of kernels without published sources (macOS 26 = p26, macOS 27 = p27), oldest first. */
export function provisionalDialects(): readonly Dialect[] {
  return buildProvisional({ newest: dialectAt(HEADER_VERSIONS.length - 1), structFor, parseConstant });
}

/** Distinct layout families, each represented by its first header version. */
export function layoutFamilies(): readonly Dialect[] {
  const seen = new Set<string>();
  return allDialects().filter((d) => (seen.has(d.family) ? false : (seen.add(d.family), true)));
}

// ---------------------------------------------------------------------------------------------
// Version selection

type Tuple = number[];

function parseTuple(s: string): Tuple | undefined {
  if (!/^\d+(\.\d+)*$/.test(s)) return undefined;
  return s.split('.').map((x) => Number(x));
}

function compareTuples(a: Tuple, b: Tuple): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export type VersionKind = 'xnu' | 'macos' | 'darwin';

export interface ParsedVersion {
  kind: VersionKind;
  version: string;
}

/**
 * Understands: an XNU version (`4570.1.46`, `xnu-10002.41.9~6`), a whole `kern.version` string
 * (`Darwin Kernel Version 23.1.0: ... root:xnu-10002.41.9~6/RELEASE_ARM64_T6000`), a macOS
 * version (`13.4`, `10.13.6`, `macos:13.4`), a Darwin release (`darwin:23.1.0`, kern.osrelease),
 * or a layout family name (`d4570`).
 */
export function parseVersion(input: string, kind?: VersionKind): ParsedVersion {
  const s = input.trim();
  const bad = () =>
    new NtstatError('ERR_NTSTAT_UNKNOWN_VERSION', `not a kernel or macOS version: ${JSON.stringify(input.slice(0, 80))}`);
  if (kind) {
    const t = s.replace(/^(xnu-|macos:|darwin:)/i, '').replace(/~.*$/, '');
    if (!parseTuple(t)) throw bad();
    return { kind, version: t };
  }
  const xnu = /xnu-(\d+(?:\.\d+)*)/i.exec(s);
  if (xnu) return { kind: 'xnu', version: xnu[1] };
  const darwinKv = /Darwin Kernel Version (\d+(?:\.\d+)*)/i.exec(s);
  if (darwinKv) return { kind: 'darwin', version: darwinKv[1] };
  const prefixed = /^(macos|darwin|xnu):(\d+(?:\.\d+)*)$/i.exec(s);
  if (prefixed) return { kind: prefixed[1].toLowerCase() as VersionKind, version: prefixed[2] };
  const t = parseTuple(s);
  if (!t) throw bad();
  // Bare numbers: XNU versions start at 1699; macOS majors are 10..99.
  if (t[0] >= 1000) return { kind: 'xnu', version: s };
  if (t[0] >= 10 && t[0] < 100) return { kind: 'macos', version: s };
  throw bad();
}

/**
 * Darwin release -> macOS version: 11.x = 10.7 … 19.x = 10.15; 20.x = 11 … 24.x = 15. For
 * Darwin 20–22 the first release of each macOS major was Darwin N.1 (20.1.0 = 11.0, 21.1.0 =
 * 12.0.1, 22.1.0 = 13.0), so the minor is one behind; from 23 they match (23.1.0 = 14.1).
 * A last resort only: kern.version names the exact xnu build and is preferred.
 */
export function macosForDarwin(darwin: string): string {
  const t = parseTuple(darwin);
  if (!t || t[0] < 11) throw new NtstatError('ERR_NTSTAT_UNKNOWN_VERSION', `unknown Darwin release ${darwin}`);
  const minor = t[1] ?? 0;
  if (t[0] >= 20 && t[0] <= 22) return `${t[0] - 9}.${Math.max(0, minor - 1)}`;
  // macOS jumped from 15 (Darwin 24) to 26 (Darwin 25): from there macOS = Darwin + 1.
  if (t[0] >= 25) return `${t[0] + 1}.${minor}`;
  return t[0] >= 20 ? `${t[0] - 9}.${minor}` : `10.${t[0] - 4}.${minor}`;
}

function newestNotLater(kind: 'xnu' | 'macos', version: Tuple): { dialect: Dialect; newer: boolean } | undefined {
  let best: { index: number; key: Tuple } | undefined;
  let newestKey: Tuple | undefined;
  // The first published tag of a release train can be a point release (macOS 11.0.1, 12.0.1,
  // 10.14.1; xnu-7195.50.7.100.1): it stands for the start of its train, so macOS 11 / 11.0 and an
  // earlier xnu-7195 build select it, not the previous major's header (whose layout differs).
  const trainOf = (tag: string, mac: string): string =>
    kind === 'xnu' ? tag.replace(/^xnu-/, '').split('.')[0] : mac.startsWith('10.') ? mac.split('.').slice(0, 2).join('.') : mac.split('.')[0];
  const firstOfTrain = new Set<string>();
  const seenTrains = new Set<string>();
  // The raw tables, not built dialects: only the chosen one is built (dialectAt).
  for (const d of HEADER_VERSIONS) {
    for (const tag of d.tags) {
      const train = trainOf(tag, d.macosByTag[tag]);
      if (!seenTrains.has(train)) {
        seenTrains.add(train);
        firstOfTrain.add(tag);
      }
    }
  }
  for (let index = 0; index < HEADER_VERSIONS.length; index++) {
    const d = HEADER_VERSIONS[index];
    for (const tag of d.tags) {
      const mac = d.macosByTag[tag];
      let key = parseTuple(kind === 'xnu' ? tag.replace(/^xnu-/, '') : mac);
      if (!key) continue;
      if (firstOfTrain.has(tag)) key = parseTuple(trainOf(tag, mac))!;
      if (!newestKey || compareTuples(key, newestKey) > 0) newestKey = key;
      if (compareTuples(key, version) <= 0 && (!best || compareTuples(key, best.key) >= 0)) best = { index, key };
    }
  }
  if (!best || !newestKey) return undefined;
  // Later than the newest published tag: no header proves this kernel's layout.
  const newer = compareTuples(version, newestKey) > 0;
  return { dialect: dialectAt(best.index), newer };
}

/**
 * Choose the dialect for a kernel: the newest published header version not later than the
 * given one (real Macs run unpublished builds). A version newer than every table selects the
 * newest dialect with `verified: false` and a warning.
 */
export function dialectFor(input: string, kind?: VersionKind): Dialect {
  if (!kind && /^[dp]\d+(_\d+)?$/.test(input.trim())) {
    const i = HEADER_VERSIONS.findIndex((v) => v.dialect === input.trim());
    const d = i >= 0 ? dialectAt(i) : provisionalDialects().find((x) => x.family === input.trim());
    if (!d) throw new NtstatError('ERR_NTSTAT_UNKNOWN_VERSION', `no dialect named ${input}`);
    return d;
  }
  let parsed = parseVersion(input, kind);
  // A kern.version string of Darwin 25+ names a release without published sources: the Darwin
  // release decides (its xnu build numbers are not in any table), the xnu build is its label.
  const darwinInString = !kind ? /Darwin Kernel Version (\d+(?:\.\d+)*)/i.exec(input) : null;
  const xnuLabel = parsed.kind === 'xnu' ? `xnu-${parsed.version}` : undefined;
  if (darwinInString && Number(darwinInString[1].split('.')[0]) >= 25) parsed = { kind: 'darwin', version: darwinInString[1] };
  const future = futureKernel(parsed, xnuLabel);
  if (future) return future;
  if (parsed.kind === 'darwin') parsed = { kind: 'macos', version: macosForDarwin(parsed.version) };
  const tuple = parseTuple(parsed.version)!;
  const found = newestNotLater(parsed.kind as 'xnu' | 'macos', tuple);
  if (!found) {
    throw new NtstatError(
      'ERR_NTSTAT_UNKNOWN_VERSION',
      `${parsed.kind === 'xnu' ? 'xnu-' : 'macOS '}${parsed.version} predates the network statistics control (first in macOS 10.7, xnu-1699)`,
    );
  }
  if (!found.newer) return found.dialect;
  const newest = found.dialect;
  return {
    ...newest,
    verified: false,
    warning:
      `${parsed.kind === 'xnu' ? 'xnu-' : 'macOS '}${parsed.version} is newer than every published ntstat header; ` +
      `using the newest known layout (xnu-${newest.xnu}, macOS ${newest.macos}+), unverified`,
  };
}

/** First XNU train without published sources (macOS 26, REAL-CAPTURES.md §2). */
const FIRST_UNPUBLISHED_TRAIN = 12377;

/**
 * Kernels from macOS 26 on: the provisional dialect of their release, labelled with their own
 * Darwin/xnu train (never an older tag). macOS 16 is what macOS 26 reports to software built
 * with older SDKs (SYSTEM_VERSION_COMPAT), so it names 26; 17–25 never existed.
 */
function futureKernel(parsed: ParsedVersion, xnuLabel: string | undefined): Dialect | undefined {
  const t = parseTuple(parsed.version);
  if (!t) return undefined;
  // Provisional dialects are built only for a kernel that needs one (after the range tests).
  const prov = (k: 0 | 1): Dialect => provisionalDialects()[k];
  let base: Dialect | undefined;
  let kernel: string;
  if (parsed.kind === 'xnu') {
    if (t[0] < FIRST_UNPUBLISHED_TRAIN) return undefined;
    // Every build from the 12377 train on: the 27 train's number is not known, so no xnu number
    // can select p27; a Darwin 26 kern.version string does (above).
    base = prov(0);
    kernel = `xnu-${parsed.version}`;
  } else if (parsed.kind === 'macos') {
    if (t[0] < 16) return undefined;
    if (t[0] > 16 && t[0] < 26) {
      throw new NtstatError('ERR_NTSTAT_UNKNOWN_VERSION', `there is no macOS ${parsed.version}: macOS 15 was followed by macOS 26`);
    }
    base = t[0] === 16 || t[0] === 26 ? prov(0) : prov(1);
    kernel = `macOS ${parsed.version}`;
  } else {
    if (t[0] < 25) return undefined;
    base = t[0] === 25 ? prov(0) : prov(1);
    kernel = `Darwin ${parsed.version}${xnuLabel ? ` (${xnuLabel})` : ''}`;
  }
  const p = base.provisional!;
  const train = `macOS ${p.macos}, Darwin ${p.darwin}${p.xnuTrain ? `, xnu-${p.xnuTrain}.x` : ''}`;
  const beyond = Number(parsed.kind === 'macos' ? t[0] : parsed.kind === 'darwin' ? t[0] + 1 : 0) > Number(prov(1).provisional!.macos);
  return {
    ...base,
    kernel,
    warning:
      `${beyond ? `${kernel} is newer than anything known; using the newest provisional layout (${train})` : kernel.startsWith(`macOS ${p.macos}`) ? train : `${kernel} is ${train}`}: ` +
      `no published ntstat header; provisional layout (observed, not from headers: ${p.basis}), unverified`,
  };
}
