#!/usr/bin/env node
// Generates src/protocol/generated/facts.ts from ../shared/xnu/ntstat-layouts.json.
// The generated file is committed: the package never reads ../shared at build or run time.
// Also emits PROVISIONAL_VERSIONS (kernels without published sources, macOS 26 and 27) from
// ../shared/xnu/ntstat-layouts-newer.json and the real macOS 27 capture (REAL-CAPTURES.md §1).
// Usage: node scripts/gen-dialects.mjs [path/to/ntstat-layouts.json [path/to/ntstat-layouts-newer.json]]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const input = resolve(process.argv[2] ?? resolve(here, '../../shared/xnu/ntstat-layouts.json'));
const output = resolve(here, '../src/protocol/generated/facts.ts');
const facts = JSON.parse(readFileSync(input, 'utf8'));
const newerInput = resolve(process.argv[3] ?? resolve(here, '../../shared/xnu/ntstat-layouts-newer.json'));
const newer = JSON.parse(readFileSync(newerInput, 'utf8'));

/** Pre-order flattening of a struct's fields: [name, offset, size, type, bitMask?]. */
export function flattenFields(fields) {
  const out = [];
  const walk = (list) => {
    for (const f of list) {
      const row = [f.name, f.offset, f.size, f.type];
      if (f.bitfield) row.push(Number(f.bitMask));
      out.push(row);
      if (f.members) walk(f.members);
    }
  };
  walk(fields);
  return out;
}

const layoutIndex = new Map();
const layouts = [];
function internLayout(st) {
  const layout = { size: st.size, align: st.align, pack: st.pack ?? null, fields: flattenFields(st.fields) };
  const key = JSON.stringify(layout);
  let idx = layoutIndex.get(key);
  if (idx === undefined) {
    idx = layouts.length;
    layouts.push(layout);
    layoutIndex.set(key, idx);
  }
  return idx;
}

const versions = [];
let prevConstants = {};
for (const v of facts.versions) {
  const structs = {};
  for (const [name, st] of Object.entries(v.structs)) {
    if (st.role !== 'wire' && st.role !== 'embedded') continue;
    structs[name] = internLayout(st);
  }
  // Constants are stored as a diff against the previous header version (most carry over).
  const set = {};
  const removed = [];
  for (const [k, val] of Object.entries(v.constants)) {
    if (prevConstants[k] !== val) set[k] = val;
  }
  for (const k of Object.keys(prevConstants)) if (!(k in v.constants)) removed.push(k);
  prevConstants = v.constants;
  versions.push({
    xnu: v.xnu,
    dialect: v.dialect,
    tags: v.tags,
    macosByTag: v.macosByTag,
    revision: v.revision,
    typedefs: v.typedefs,
    aliases: v.aliases,
    structs,
    constantsSet: set,
    constantsRemoved: removed,
  });
}

// ---- Provisional dialects: observed, not from published headers (REAL-CAPTURES.md).
const lastPublished = facts.versions[facts.versions.length - 1];
function constantDiff(from, to) {
  const set = {};
  const removed = [];
  for (const [k, val] of Object.entries(to)) if (from[k] !== val) set[k] = val;
  for (const k of Object.keys(from)) if (!(k in to)) removed.push(k);
  return { set, removed };
}
function wireStructs(structs) {
  const out = {};
  for (const [name, st] of Object.entries(structs)) if (st.role === 'wire' || st.role === 'embedded') out[name] = st;
  return out;
}
// macOS 26 (Darwin 25, xnu-12377.x): the newer header as extracted (REAL-CAPTURES.md §2).
const m26Structs = wireStructs(newer.structs);
const m26Const = constantDiff(lastPublished.constants, newer.constants);
// macOS 27 (Darwin 26): the 26 tables with the TCP descriptor as captured (REAL-CAPTURES.md §1):
// 360 bytes, 16 bytes inserted somewhere in 292..339. Every field from persona_id on moves by 16;
// vuuid and fuuid (the two 16-byte slots that may or may not have moved) are left out, as is every
// struct that embeds the TCP descriptor (their sizes are not observed).
const TCP27_SHIFT_FROM = 324;
const TCP27_UNPLACED = new Set(['vuuid', 'fuuid']);
function shiftFields(fields) {
  const out = [];
  for (const f of fields) {
    if (TCP27_UNPLACED.has(f.name)) continue;
    const g = { ...f, offset: f.offset >= TCP27_SHIFT_FROM ? f.offset + 16 : f.offset };
    if (f.members) g.members = shiftFields(f.members);
    out.push(g);
  }
  return out;
}
const embedsTcp = (st) => JSON.stringify(st.fields).includes('"nstat_tcp_descriptor"');
const m27Structs = {};
for (const [name, st] of Object.entries(m26Structs)) {
  if (name === 'nstat_tcp_descriptor') m27Structs[name] = { ...st, size: st.size + 16, fields: shiftFields(st.fields) };
  else if (!embedsTcp(st)) m27Structs[name] = st;
}
const internAll = (structs) => Object.fromEntries(Object.entries(structs).map(([n, st]) => [n, internLayout(st)]));
const provisional = [
  {
    xnu: '12377',
    dialect: 'p26',
    macos: '26',
    darwin: 25,
    basis: `newer ntstat.h from a third-party mirror (${newer.source.repo} ${newer.source.commit.slice(0, 12)}); every 15.x struct unchanged, details messages added`,
    revision: newer.revision,
    typedefs: newer.typedefs,
    aliases: newer.aliases,
    structs: internAll(m26Structs),
    constantsSet: m26Const.set,
    constantsRemoved: m26Const.removed,
  },
  {
    xnu: '',
    dialect: 'p27',
    macos: '27',
    darwin: 26,
    basis: 'real macOS 27 capture (Section9Labs/rupu test fixtures): 360-byte TCP descriptor, 16 bytes inserted before persona_id; vuuid/fuuid unplaced',
    revision: newer.revision,
    typedefs: newer.typedefs,
    aliases: newer.aliases,
    structs: internAll(m27Structs),
    constantsSet: m26Const.set,
    constantsRemoved: m26Const.removed,
  },
];

const dialects = facts.dialects.map((d) => ({ name: d.name, versions: d.versions }));

const banner = `// GENERATED by scripts/gen-dialects.mjs from ntstat-layouts.json (Apple XNU bsd/net/ntstat.h,
// compiled layouts). Do not edit by hand: run \`npm run gen\`. Checked field by field against the
// JSON by test/layouts.test.ts.
/* eslint-disable */
import type { RawStructLayout, RawHeaderVersion, RawDialect, RawProvisionalVersion } from '../facts-types.js';
`;
const body =
  `\nexport const STRUCT_LAYOUTS: readonly RawStructLayout[] = ${JSON.stringify(layouts)};\n` +
  `\nexport const HEADER_VERSIONS: readonly RawHeaderVersion[] = ${JSON.stringify(versions, null, 1)};\n` +
  `\nexport const DIALECT_GROUPS: readonly RawDialect[] = ${JSON.stringify(dialects)};\n` +
  `\n/** Kernels without published sources: observed, not from headers. constantsSet is relative to the newest published version. */\n` +
  `export const PROVISIONAL_VERSIONS: readonly RawProvisionalVersion[] = ${JSON.stringify(provisional, null, 1)};\n`;
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, banner + body);
console.log(`wrote ${output}: ${layouts.length} distinct struct layouts, ${versions.length} header versions`);
