/**
 * The compiled descriptor readers (fields.ts readStruct: one object literal per combination of
 * present optional fields) against the table interpreter (interpretStruct, the reference
 * behaviour): for every dialect and descriptor layout, and for descriptors with each optional
 * field (strings, UUIDs, sockaddrs) present or absent, the same values under the same keys, in the
 * order the compiled readers have always used.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allDialects } from '../src/protocol/index.js';
import { interpretStruct, readStruct, structFieldOps, writeStruct } from '../src/protocol/fields.js';
import { planFor } from '../src/protocol/plan.js';

const SAMPLE: Record<string, unknown> = {
  chars: 'proc-name',
  uuid: '6f1c2e3a-0000-4000-8000-00000000abcd',
  sockaddr: { family: 6, address: 'fe80::1', port: 443, scopeId: 4 },
};

test('compiled readers give the interpreter\'s values, always-present fields first for every layout and mix of present optional fields', () => {
  let checked = 0;
  for (const d of allDialects()) {
    for (const layout of planFor(d).descriptors.values()) {
      const ops = structFieldOps(layout);
      const optional = ops.filter((op) => op.kind in SAMPLE);
      // Each optional field alone absent, all present, all absent, and alternating.
      const masks = [0, (1 << optional.length) - 1, 0x55555555, 0x2aaaaaaa, ...optional.map((_, i) => ~(1 << i))];
      for (const mask of masks) {
        const values: Record<string, unknown> = {};
        ops.forEach((op, i) => {
          if (op.kind === 'u8' || op.kind === 'bool') values[op.key] = i % 2;
          else if (op.kind === 'u16' || op.kind === 'u32' || op.kind === 'i32' || op.kind === 'u64') values[op.key] = 1000 + i;
        });
        optional.forEach((op, i) => {
          if (mask & (1 << i)) values[op.key] = SAMPLE[op.kind];
        });
        const b = new Uint8Array(layout.size + 8);
        const dv = new DataView(b.buffer);
        writeStruct(layout, b, dv, 8, values);
        const compiled = readStruct(layout, b, dv, 8);
        const reference = interpretStruct(layout, b, dv, 8);
        assert.deepStrictEqual(compiled, reference, `${d.family} ${layout.name} mask ${mask}`);
        // Key order as the compiled readers always had it (JSON of a descriptor keeps it): the
        // always-present fields in table order, then the present optional ones in table order.
        const present = new Set(Object.keys(reference));
        const order = [...ops.filter((op) => !(op.kind in SAMPLE) && op.kind !== 'raw'), ...ops.filter((op) => op.kind in SAMPLE || op.kind === 'raw')].map((op) => op.key).filter((k) => present.has(k));
        assert.deepStrictEqual(Object.keys(compiled), order, `${d.family} ${layout.name} mask ${mask}: key order`);
        checked++;
      }
    }
  }
  assert.ok(checked > 100, `combinations checked: ${checked}`);
});
