/**
 * Property: for every header version (grouped by layout family), arbitrary well-formed messages of
 * every kind the version has encode and decode back to the same value, alone and aggregated.
 * Generators are derived from ntstat-layouts.json: only the fields the version's structs have,
 * with their C widths (u64 counters below 2^53; route ids as decimal strings of any u64).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FUZZ_SEED, fuzzParams } from './helpers/seed.js';
import { aggregate, allDialects, decodeDatagram, encodeMessage, type Dialect, type Message } from '../src/protocol/index.js';
import * as H from './helpers/facts.js';

type Obj = Record<string, unknown>;

function dialectOf(v: H.JVersion): Dialect {
  const d = allDialects().find((x) => x.xnu === v.xnu);
  assert.ok(d, `no dialect for xnu-${v.xnu}`);
  return d;
}

const strip = (o: Obj): Obj => {
  const out: Obj = {};
  for (const [k, x] of Object.entries(o)) if (x !== undefined) out[k] = x;
  return out;
};

/** fc.record builds null-prototype objects; the decoder returns ordinary ones. */
function normalize(x: unknown): unknown {
  if (x === null || typeof x !== 'object' || x instanceof Uint8Array) return x;
  if (Array.isArray(x)) return x.map(normalize);
  const out: Obj = {};
  for (const [k, y] of Object.entries(x)) out[k] = normalize(y);
  return out;
}

const u32 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([h, l]) => h * 0x10000 + l);
const u64big = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const utf8len = (s: string) => new TextEncoder().encode(s).length;

function cString(n: number): fc.Arbitrary<string | undefined> {
  const max = n - 1; // the kernel always leaves room for a NUL in these fields
  return fc
    .oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: max }),
      fc.string({ unit: 'grapheme', maxLength: Math.max(1, Math.floor(max / 6)) }),
      fc.constantFrom('cubic', 'en0', 'com.apple.WebKit.Networking', 'ßüñ—漢字'),
    )
    .filter((s) => !s.includes('\u0000') && utf8len(s) <= max)
    .map((s) => (s === '' ? undefined : s));
}

const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => (b.every((x) => x === 0) ? undefined : H.uuidText([...b])));

/** IPv6 bytes biased towards zero groups so '::' compression and mapped forms are exercised. */
const v6bytes = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 })
  .chain((g) =>
    fc.oneof(
      fc.constant(g),
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c, d]) => [0, 0, 0, 0, 0, 0xffff, a * 256 + b, c * 256 + d]),
    ),
  )
  .map((g) => g.flatMap((x) => [x >> 8, x & 0xff]));

const endpointArb: fc.Arbitrary<Obj | undefined> = fc.option(
  fc.oneof(
    fc.record({ a: fc.uint8Array({ minLength: 4, maxLength: 4 }), port: fc.nat(0xffff) }).map(({ a, port }) => ({ family: 4, address: [...a].join('.'), port })),
    fc
      .record({ a: v6bytes, port: fc.nat(0xffff), scope: fc.option(u32.filter((x) => x !== 0), { nil: undefined }), flow: fc.option(u32.filter((x) => x !== 0), { nil: undefined }) })
      .map(({ a, port, scope, flow }) => strip({ family: 6, address: H.ipv6Text(a), port, scopeId: scope, flowInfo: flow })),
  ),
  { nil: undefined },
);

/** Decoded-form arbitrary for a descriptor-like struct of the version (same field rules as the API). */
function structArb(v: H.JVersion, structName: string): fc.Arbitrary<Obj> {
  const s = H.mustStruct(v, structName);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of H.topFields(s)) {
    if (H.isPadding(f)) continue;
    const key = H.camel(f.name);
    const arr = /^char\[(\d+)\]$/.exec(f.type);
    if (f.type === 'u8') model[key] = fc.nat(0xff);
    else if (f.type === 'u16') model[key] = fc.nat(0xffff);
    else if (f.type === 'u32' || f.type === 'tcp_conn_status') model[key] = u32;
    else if (f.type === 'i32') model[key] = fc.integer();
    else if (f.type === 'u64' && structName === 'nstat_route_descriptor' && H.ROUTE_ID_FIELDS.has(f.name)) model[key] = u64big.map(String);
    else if (f.type === 'u64') model[key] = fc.maxSafeNat();
    else if (f.type === 'bool') model[key] = fc.boolean();
    else if (arr) model[key] = cString(Number(arr[1]));
    else if (f.type === 'uuid' || f.type === 'u8[16]') model[key] = uuidArb;
    else if (f.type === 'sockaddr_union') model[key] = endpointArb;
    else if (f.type === 'activity_bitmap') model[key] = fc.record({ start: fc.maxSafeNat(), bits: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(hex) });
    else if (f.type === 'nstat_ifnet_desc_link_status') {
      // Kept as the nested struct's bytes; all-zero means "nothing reported" and is absent.
      model[key] = fc.option(fc.uint8Array({ minLength: f.size, maxLength: f.size }).filter((b) => b.some((x) => x !== 0)), { nil: undefined });
    }
  }
  return fc.record(model).map(strip);
}

function countsArb(v: H.JVersion): fc.Arbitrary<Obj> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of H.mustStruct(v, 'nstat_counts').fields) model[H.COUNT_KEYS[f.name]] = f.size === 8 ? fc.maxSafeNat() : u32;
  return fc.record(model);
}

/** Arbitrary messages of every kind the version has, in their decoded form. */
function messageArb(v: H.JVersion): fc.Arbitrary<{ msg: Obj; padItems: boolean }> {
  const withLen = H.hasLength(v);
  const has = (t: string) => H.hasConstant(v, `NSTAT_MSG_TYPE_${t}`);
  const ctx = u64big;
  const flags = withLen ? fc.nat(0xffff) : fc.constant(0);
  const srcref = H.srcrefBytes(v) === 8 ? u64big : fc.bigInt({ min: 0n, max: 0xffffffffn });
  const hasEv = H.fieldOf(H.mustStruct(v, 'nstat_msg_src_counts'), 'event_flags') !== undefined;
  const ev = hasEv ? u64big : fc.constant(0n);
  const providers = H.providersOf(v);
  const known = new Set(providers.map((p) => p.id));
  const unknownProvider = fc.nat(5000).filter((id) => !known.has(id));
  const bytes = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });
  const base = { context: ctx, flags };
  const kinds: Array<fc.Arbitrary<{ msg: Obj; padItems: boolean }>> = [];
  const plain = (a: fc.Arbitrary<Obj>) => kinds.push(a.map((msg) => ({ msg: strip(msg), padItems: false })));

  plain(fc.record({ kind: fc.constant('success'), ...base }));
  plain(fc.record({ kind: fc.constant('error'), ...base, errno: u32, request: fc.option(bytes(64, 1), { nil: undefined }) }));
  plain(fc.record({ kind: fc.constant('srcAdded'), ...base, srcref, provider: u32 }));
  plain(fc.record({ kind: fc.constant('srcRemoved'), ...base, srcref }));
  plain(fc.record({ kind: fc.constant('srcCounts'), ...base, srcref, eventFlags: ev, counts: countsArb(v) }));

  // A known provider with its descriptor, or an unknown id with raw bytes (kept, not guessed).
  const withDescriptor = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...providers).chain((p) => structArb(v, p.descriptor).map((descriptor) => ({ provider: p.id, descriptor }) as Obj)) },
    { weight: 1, arbitrary: fc.record({ provider: unknownProvider, raw: bytes(64) }) },
  );
  plain(fc.tuple(fc.record({ kind: fc.constant('srcDesc'), ...base, srcref, eventFlags: ev }), withDescriptor).map(([m, d]) => ({ ...m, ...d })));
  if (has('SRC_UPDATE')) {
    plain(fc.tuple(fc.record({ kind: fc.constant('srcUpdate'), ...base, srcref, eventFlags: ev, counts: countsArb(v) }), withDescriptor).map(([m, d]) => ({ ...m, ...d })));
  }
  if (has('SRC_EXTENDED_UPDATE')) {
    const itemTypes = Object.entries(v.constants)
      .filter(([k]) => k.startsWith('NSTAT_EXTENDED_UPDATE_TYPE_') && !/_(MIN|MAX|UNKNOWN)$/.test(k))
      .map(([, x]) => x as number);
    const domainTypes = new Set(
      ['NSTAT_EXTENDED_UPDATE_TYPE_DOMAIN', 'NSTAT_EXTENDED_UPDATE_TYPE_ORIGINAL_DOMAIN'].filter((k) => H.hasConstant(v, k)).map((k) => H.constant(v, k)),
    );
    const domainArb = structArb(v, 'nstat_domain_info');
    const toDomainValues = (dom: Obj): H.Values => {
      // Decoded form -> builder values (C names); the builder writes them at the JSON offsets.
      const vals: H.Values = {};
      for (const f of H.topFields(H.mustStruct(v, 'nstat_domain_info'))) {
        const x = dom[H.camel(f.name)];
        if (x === undefined) continue;
        if (f.type === 'sockaddr_union') {
          const e = x as { family: number; address: string; port: number; scopeId?: number; flowInfo?: number };
          vals[f.name] =
            e.family === 4
              ? { sa: 'in', addr: e.address.split('.').map(Number), port: e.port }
              : { sa: 'in6', addr: parseV6(e.address), port: e.port, scope: e.scopeId, flowinfo: e.flowInfo };
        } else vals[f.name] = x;
      }
      return vals;
    };
    const otherTypes = itemTypes.filter((t) => !domainTypes.has(t));
    // Types this header does not define are carried as opaque items too (never 0, 1 or 4).
    const otherType = fc.oneof(otherTypes.length ? fc.constantFrom(...otherTypes) : fc.constant(2), fc.integer({ min: 2, max: 64 }).filter((t) => t !== 4));
    const item = fc.oneof(
      otherType.chain((type) => bytes(40).map((data) => ({ type, length: data.length, data }) as Obj)),
      fc.constantFrom(...domainTypes).chain((type) =>
        domainArb.map((domain) => {
          const data = H.buildStruct(v, 'nstat_domain_info', toDomainValues(domain));
          return { type, length: data.length, data, domain } as Obj;
        }),
      ),
    );
    const filler = fc.record({ type: fc.constant(0), length: u32, data: bytes(24) }); // type 0: "length covers the rest; stop"
    const ext = fc.tuple(
      fc.record({ kind: fc.constant('srcUpdate'), ...base, srcref, eventFlags: ev, counts: countsArb(v), extended: fc.constant(true) }),
      fc.constantFrom(...providers).chain((p) => structArb(v, p.descriptor).map((descriptor) => ({ provider: p.id, descriptor }))),
      fc.array(item, { maxLength: 3 }),
      fc.option(filler, { nil: undefined }),
      fc.boolean(),
    );
    kinds.push(
      ext.map(([m, d, items, fill, pad]) => ({
        msg: { ...m, ...d, extensions: fill ? [...items, fill] : items },
        // Padding the last item would put the pad inside a type-0 filler's "rest".
        padItems: pad && !fill,
      })),
    );
    // Extended update of a provider the dialect does not know: everything after the header is raw.
    plain(fc.record({ kind: fc.constant('srcUpdate'), ...base, srcref, eventFlags: ev, counts: countsArb(v), provider: unknownProvider, raw: bytes(64), extended: fc.constant(true) }));
  }
  if (has('SYSINFO_COUNTS')) {
    const kv = H.mustStruct(v, 'nstat_sysinfo_keyval');
    const u = H.fieldOf(kv, 'u')!;
    const hasValsize = H.fieldOf(kv, 'nstat_sysinfo_valsize') !== undefined;
    const keyval = fc
      .record({ key: u32, flags: u32, value: bytes(u.size, u.size), valsize: hasValsize ? u32 : fc.constant(undefined) })
      .map((e) =>
        strip({
          key: e.key,
          flags: e.flags,
          // The union read both ways (i64, f64) from the same bytes.
          scalar: H.readScalar(e.value, 0, 'i64'),
          distribution: H.readScalar(e.value, 0, 'f64'),
          value: e.value,
          valsize: e.valsize,
        }),
      );
    plain(fc.record({ kind: fc.constant('sysinfoCounts'), ...base, srcref, keyvals: fc.array(keyval, { maxLength: 5 }) }));
  }
  plain(fc.record({ kind: fc.constant('addSrc'), ...base, provider: u32, param: bytes(64) }));
  {
    const s = H.mustStruct(v, 'nstat_msg_add_all_srcs');
    plain(
      fc.record({
        kind: fc.constant('addAllSrcs'),
        ...base,
        provider: u32,
        filter: H.fieldOf(s, 'filter') ? u64big : fc.constant(0n),
        events: H.fieldOf(s, 'events') ? u64big : fc.constant(0n),
        targetPid: H.fieldOf(s, 'target_pid') ? fc.integer() : fc.constant(0),
        targetUuid: H.fieldOf(s, 'target_uuid') ? uuidArb : fc.constant(undefined),
      }),
    );
  }
  for (const [t, kind] of [
    ['REM_SRC', 'remSrc'],
    ['QUERY_SRC', 'querySrc'],
    ['GET_SRC_DESC', 'getSrcDesc'],
    ['GET_UPDATE', 'getUpdate'],
  ] as const) {
    if (has(t)) plain(fc.record({ kind: fc.constant(kind), ...base, srcref }));
  }
  if (has('SET_FILTER')) plain(fc.record({ kind: fc.constant('setFilter'), ...base, srcref, filter: u32 }));
  if (has('SUBSCRIBE_SYSINFO')) plain(fc.record({ kind: fc.constant('subscribeSysinfo'), ...base }));
  return fc.oneof(...kinds);
}

/** Text -> 16 bytes (only for texts produced by H.ipv6Text). */
function parseV6(text: string): number[] {
  if (text.startsWith('::ffff:') && text.includes('.')) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...text.slice(7).split('.').map(Number)];
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = [...hs, ...new Array(8 - hs.length - ts.length).fill('0'), ...ts].map((x) => parseInt(x, 16));
  return groups.flatMap((x) => [x >> 8, x & 0xff]);
}

/** Fixed request sizes from the JSON (hdr.length the kernel expects, BEHAVIOUR.md §9.2). */
function requestSize(v: H.JVersion, kind: string): number | undefined {
  const struct: Record<string, string> = {
    addAllSrcs: 'nstat_msg_add_all_srcs',
    remSrc: 'nstat_msg_rem_src',
    querySrc: 'nstat_msg_query_src',
    getSrcDesc: 'nstat_msg_get_src_description',
    getUpdate: 'nstat_msg_query_src',
    setFilter: 'nstat_msg_set_filter',
    subscribeSysinfo: 'nstat_msg_hdr',
    success: 'nstat_msg_hdr',
    srcAdded: 'nstat_msg_src_added',
    srcRemoved: 'nstat_msg_src_removed',
    srcCounts: 'nstat_msg_src_counts',
  };
  return struct[kind] ? H.mustStruct(v, struct[kind]).size : undefined;
}

if (!H.facts) {
  test('codec round trip', H.needsFacts(), () => {
    H.mustFacts();
  });
} else {
  const F = H.facts;
  for (const g of F.dialects) {
    describe(`family ${g.name}`, () => {
      for (const v of F.versions.filter((x) => x.dialect === g.name)) {
        const d = dialectOf(v);
        const arb = messageArb(v);

        test(`xnu-${v.xnu}: decode(encode(m)) == m for every message kind`, { timeout: 30_000 }, () => {
          fc.assert(
            fc.property(arb, ({ msg, padItems }) => {
              const bytes = encodeMessage(d, msg as unknown as Message, { padItems });
              const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
              if (H.hasLength(v)) assert.equal(dv.getUint16(12, true), bytes.length, 'hdr.length = bytes');
              else assert.equal(dv.getUint32(12, true), 0, 'pad word zero');
              const size = requestSize(v, msg.kind as string);
              if (size !== undefined) assert.equal(bytes.length, size, `${String(msg.kind)} size from the JSON`);
              const back = decodeDatagram(bytes, d);
              assert.equal(back.length, 1);
              assert.deepEqual({ ...back[0] }, normalize(msg));
              assert.deepEqual(encodeMessage(d, back[0], { padItems }), bytes, 're-encode is stable');
            }),
            fuzzParams(500, 31),
          );
        });

        if (H.hasLength(v)) {
          test(`xnu-${v.xnu}: aggregated records of 2..5 arbitrary messages decode in order`, { timeout: 30_000 }, () => {
            fc.assert(
              fc.property(fc.array(arb, { minLength: 2, maxLength: 5 }), (ms) => {
                const parts = ms.map(({ msg, padItems }) => encodeMessage(d, msg as unknown as Message, { padItems }));
                const back = decodeDatagram(aggregate(d, parts), d);
                assert.deepEqual(
                  back.map((m) => ({ ...m })),
                  ms.map((x) => normalize(x.msg)),
                );
              }),
              fuzzParams(100, 32),
            );
          });
        }
      }
    });
  }
}

test('seed', (t) => {
  t.diagnostic(`fast-check seed base ${FUZZ_SEED} (NTSTAT_FUZZ_SEED replays it)`);
});
