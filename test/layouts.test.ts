/**
 * The dialect tables (generated from ntstat-layouts.json) against the JSON itself, field by field,
 * for every header version. Also proves the committed generated file is up to date: the generated
 * STRUCT_LAYOUTS/HEADER_VERSIONS are re-derived here in memory from the JSON and compared.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allDialects, layoutFamilies, type Dialect } from '../src/protocol/index.js';
import { DIALECT_GROUPS, HEADER_VERSIONS, STRUCT_LAYOUTS } from '../src/protocol/generated/facts.js';
import {
  constantValue,
  facts,
  fieldOf,
  flattenFields,
  hasLength,
  isLayoutStruct,
  mustFacts,
  needsFacts,
  srcrefBytes,
  type JStruct,
  type JVersion,
} from './helpers/facts.js';

function dialectOf(v: JVersion): Dialect {
  const d = allDialects().find((x) => x.xnu === v.xnu);
  assert.ok(d, `no dialect for xnu-${v.xnu}`);
  return d;
}

function expectedLayout(s: JStruct) {
  return {
    size: s.size,
    align: s.align,
    fields: flattenFields(s.fields).map((f) =>
      f.bitMask === undefined
        ? { name: f.name, offset: f.offset, size: f.size, type: f.type }
        : { name: f.name, offset: f.offset, size: f.size, type: f.type, bitMask: f.bitMask },
    ),
  };
}

function layoutKey(s: JStruct): string {
  return JSON.stringify({ size: s.size, align: s.align, pack: s.pack ?? null, fields: flattenFields(s.fields) });
}

if (!facts) {
  test('dialect tables match ntstat-layouts.json', needsFacts(), () => {
    mustFacts();
  });
} else {
  const F = facts;

  test('one dialect per header version, oldest first, in the JSON order', () => {
    assert.deepEqual(
      allDialects().map((d) => d.xnu),
      F.versions.map((v) => v.xnu),
    );
  });

  test('layoutFamilies(): one per JSON dialect, in order, represented by its first version', () => {
    assert.deepEqual(
      layoutFamilies().map((d) => [d.family, d.xnu]),
      F.dialects.map((g) => [g.name, g.versions[0]]),
    );
  });

  test('generated DIALECT_GROUPS matches the JSON dialects[]', () => {
    assert.deepEqual(
      DIALECT_GROUPS.map((g) => ({ name: g.name, versions: [...g.versions] })),
      F.dialects.map((g) => ({ name: g.name, versions: g.versions })),
    );
  });

  test('JSON dialects[] and versions[].dialect agree (facts self-consistency)', () => {
    for (const g of F.dialects) {
      const members = F.versions.filter((v) => v.dialect === g.name);
      assert.deepEqual(
        members.map((v) => v.xnu),
        g.versions,
        g.name,
      );
      assert.deepEqual(
        members.flatMap((v) => v.tags),
        g.tags,
        `${g.name} tags`,
      );
      assert.deepEqual(
        members.flatMap((v) => v.tags.map((t) => v.macosByTag[t])),
        g.macos,
        `${g.name} macos`,
      );
    }
  });

  for (const [i, v] of F.versions.entries()) {
    describe(`xnu-${v.xnu} (${v.dialect})`, () => {
      test('identity: family, tags, macOS, revision', () => {
        const d = dialectOf(v);
        assert.equal(d.family, v.dialect);
        assert.deepEqual([...d.tags], v.tags);
        assert.deepEqual({ ...d.macosByTag }, v.macosByTag);
        assert.equal(d.macos, v.macos);
        assert.equal(d.macos, v.macosByTag[v.tags[0]]);
        assert.equal(d.revision, v.revision);
        assert.equal(d.revision, v.constants['__NSTAT_REVISION__']);
        assert.equal(d.verified, true);
        assert.equal(d.warning, undefined);
      });

      test('srcref width and header length follow the typedefs and nstat_msg_hdr', () => {
        const d = dialectOf(v);
        assert.equal(d.srcrefSize, srcrefBytes(v));
        assert.equal(d.hasLength, hasLength(v));
        // LAYOUTS.md: length/flags arrive with 10.11 (xnu-3247), 64-bit srcref with 10.12 (xnu-3789).
        const major = Number(v.xnu.split('.')[0]);
        assert.equal(d.hasLength, major >= 3247);
        assert.equal(d.srcrefSize, major >= 3789 ? 8 : 4);
      });

      test('every wire/embedded struct: size, align and every flattened field', () => {
        const d = dialectOf(v);
        let n = 0;
        for (const [name, s] of Object.entries(v.structs)) {
          if (!isLayoutStruct(s)) continue;
          const got = d.structs.get(name);
          assert.ok(got, `${name} missing from the dialect`);
          assert.equal(got.name, name);
          assert.deepEqual(
            { size: got.size, align: got.align, fields: got.fields.map((f) => ({ ...f })) },
            expectedLayout(s),
            name,
          );
          // byName: first occurrence of each field name.
          for (const f of flattenFields(s.fields)) {
            const first = flattenFields(s.fields).find((x) => x.name === f.name)!;
            assert.equal(got.byName.get(f.name)?.offset, first.offset, `${name}.${f.name}`);
          }
          n++;
        }
        assert.ok(n > 10, `only ${n} structs checked`);
      });

      test('no extra structs: only wire/embedded structs and the aliases', () => {
        const d = dialectOf(v);
        const expected = new Set(Object.entries(v.structs).filter(([, s]) => isLayoutStruct(s)).map(([n]) => n));
        for (const [alias, target] of Object.entries(v.aliases)) {
          assert.ok(v.structs[target], `alias ${alias} -> ${target} target missing in the facts`);
          expected.add(alias);
          assert.equal(d.structs.get(alias), d.structs.get(target), `alias ${alias} shares ${target}'s table`);
        }
        assert.deepEqual(new Set(d.structs.keys()), expected);
        for (const [name, s] of Object.entries(v.structs)) {
          if (!isLayoutStruct(s)) assert.equal(d.structs.has(name), false, `${s.role} struct ${name} must not be a wire table`);
        }
      });

      test('every constant equals the JSON (hex strings as bigint), no extra constants', () => {
        const d = dialectOf(v);
        for (const [k, val] of Object.entries(v.constants)) {
          const want = constantValue(val);
          assert.equal(typeof d.constants[k], typeof want, k);
          assert.equal(d.constants[k], want, k);
        }
        assert.deepEqual(Object.keys(d.constants).sort(), Object.keys(v.constants).sort());
        for (const dbg of v.debugOnlyConstants) {
          if (!(dbg in v.constants)) assert.equal(dbg in d.constants, false, `debug-only ${dbg}`);
        }
      });

      test('NSTAT_SRC_REF_ALL width (LAYOUTS trap 8)', () => {
        const d = dialectOf(v);
        const all = d.constants['NSTAT_SRC_REF_ALL'];
        if (srcrefBytes(v) === 4) assert.equal(all, 0xffffffff);
        else assert.equal(all, 0xffff_ffff_ffff_ffffn);
      });

      test('generated tables are up to date with the JSON (in-memory regeneration)', () => {
        const hv = HEADER_VERSIONS[i];
        assert.equal(hv.xnu, v.xnu);
        assert.equal(hv.dialect, v.dialect);
        assert.deepEqual(hv.tags, v.tags);
        assert.deepEqual(hv.macosByTag, v.macosByTag);
        assert.equal(hv.revision, v.revision);
        assert.deepEqual(hv.typedefs, v.typedefs);
        assert.deepEqual(hv.aliases, v.aliases);
        const names = Object.entries(v.structs).filter(([, s]) => isLayoutStruct(s)).map(([n]) => n);
        assert.deepEqual(Object.keys(hv.structs).sort(), names.sort());
        for (const name of names) {
          const raw = STRUCT_LAYOUTS[hv.structs[name]];
          const want = JSON.parse(layoutKey(v.structs[name])) as unknown;
          // Generated rows are [name, offset, size, type, bitMask?]; ours are objects: compare as rows.
          const wantRows = flattenFields(v.structs[name].fields).map((f) =>
            f.bitMask === undefined ? [f.name, f.offset, f.size, f.type] : [f.name, f.offset, f.size, f.type, f.bitMask],
          );
          assert.deepEqual(
            { size: raw.size, align: raw.align, pack: raw.pack, fields: raw.fields },
            { ...(want as object), fields: wantRows },
            name,
          );
        }
      });
    });
  }

  test('identical JSON layouts share one table object (within and across families)', () => {
    const ds = allDialects();
    const byKey = new Map<string, unknown>();
    let shared = 0;
    F.versions.forEach((v, i) => {
      for (const [name, s] of Object.entries(v.structs)) {
        if (!isLayoutStruct(s)) continue;
        const key = `${name}|${layoutKey(s)}`;
        const obj = ds[i].structs.get(name);
        const prev = byKey.get(key);
        if (prev === undefined) byKey.set(key, obj);
        else {
          assert.equal(obj, prev, `xnu-${v.xnu} ${name} should reuse the identical table`);
          shared++;
        }
      }
    });
    assert.ok(shared > 100, `only ${shared} shared tables`);
  });

  test('facts: within a family no wire struct is removed or resized (LAYOUTS.md grouping rule)', () => {
    for (const g of F.dialects) {
      const vs = F.versions.filter((v) => v.dialect === g.name);
      for (let k = 1; k < vs.length; k++) {
        const a = vs[k - 1];
        const b = vs[k];
        for (const [name, sa] of Object.entries(a.structs)) {
          if (sa.role !== 'wire' || /_convenient$/.test(name)) continue;
          const sb = b.structs[name];
          assert.ok(sb, `${g.name}: ${name} removed between xnu-${a.xnu} and xnu-${b.xnu}`);
          assert.equal(sb.size, sa.size, `${g.name} ${name} size xnu-${a.xnu} -> xnu-${b.xnu}`);
        }
      }
    }
  });

  test('dialect fields of every version carry the JSON header shape (trap 7)', () => {
    for (const v of F.versions) {
      const hdr = v.structs['nstat_msg_hdr'];
      assert.equal(hdr.size, 16);
      if (hasLength(v)) {
        assert.deepEqual(
          [fieldOf(hdr, 'length')?.offset, fieldOf(hdr, 'flags')?.offset],
          [12, 14],
        );
      } else assert.equal(fieldOf(hdr, 'pad')?.offset, 12);
    }
  });
}
