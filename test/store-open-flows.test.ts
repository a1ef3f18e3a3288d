/**
 * A flush writes only the open_flows rows that changed (issue 17), yet the table must always be
 * exactly what the flush's `open` list says: every row (identity, seq numbered per identity in
 * list order, counters) and nothing else, as if the table had been emptied and refilled. Checked
 * on a real SQLite file after every flush of random sequences (flows appearing, growing, ending,
 * identities repeated), after a flush that fails and rolls back, and after a reopen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { UsageStore } from '../src/store/usage-store.js';
import { loadSqlite } from '../src/store/sqlite.js';
import type { FlushBatch, OpenFlowState } from '../src/store/records.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-open-flows-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2026, 0, 10, 0, 0, 0);

type Row = [string, number, number, number, number, number];

/** The table the flush must leave: `open` numbered per identity, in list order. */
function expected(open: readonly OpenFlowState[]): Row[] {
  const seq = new Map<string, number>();
  const rows = open.map((o): Row => {
    const k = seq.get(o.identity) ?? 0;
    seq.set(o.identity, k + 1);
    return [o.identity, k, o.rxBytes, o.txBytes, o.rxPackets, o.txPackets];
  });
  return rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
}

async function tableOf(path: string): Promise<Row[]> {
  const Database = await loadSqlite();
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT identity, seq, rx_bytes, tx_bytes, rx_packets, tx_packets FROM open_flows ORDER BY identity, seq').all() as Record<string, number | string>[];
    return rows.map((r) => [r.identity as string, r.seq as number, r.rx_bytes as number, r.tx_bytes as number, r.rx_packets as number, r.tx_packets as number]);
  } finally {
    db.close();
  }
}

const batch = (time: number, open: OpenFlowState[]): FlushBatch => ({ time, deltas: [], closed: [], open });

/** Open lists drawn from few identities and few counter values: rows repeat, change, come and go. */
const openArb = fc.array(
  fc.record({ identity: fc.constantFrom('tcp|1|@5#a|b', 'tcp|1|@5#a|c', 'udp|2|3|x|y#', 'quic|9|@7#', 'tcp|4|@8#'), rxBytes: fc.constantFrom(0, 10, 11, 5000), txBytes: fc.constantFrom(0, 3), rxPackets: fc.constantFrom(0, 1), txPackets: fc.constantFrom(0, 2) }),
  { maxLength: 9 },
);

test('after every flush open_flows holds exactly the open list (random sequences of flushes)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(openArb, { minLength: 1, maxLength: 8 }), async (flushes) => {
      const path = join(dir, `p${n++}.db`);
      const s = await UsageStore.open(path, { record: true });
      try {
        for (let i = 0; i < flushes.length; i++) {
          // The caller's objects change after the flush (the store must keep its own copy).
          const open = flushes[i].map((o) => ({ ...o }));
          s.flush(batch(T0 + i * 10_000, open));
          for (const o of open) o.rxBytes += 1;
          assert.deepEqual(await tableOf(path), expected(flushes[i]), `after flush ${i}`);
        }
      } finally {
        s.close();
      }
    }),
    { numRuns: 60 },
  );
});

test('a flush that fails is rolled back whole, and the next one still leaves the exact list', async () => {
  const path = join(dir, `f${n++}.db`);
  const a: OpenFlowState = { identity: 'tcp|1|@5#a', rxBytes: 10, txBytes: 1, rxPackets: 1, txPackets: 1 };
  const b: OpenFlowState = { identity: 'tcp|2|@6#b', rxBytes: 20, txBytes: 2, rxPackets: 2, txPackets: 2 };
  const s = await UsageStore.open(path, { record: true });
  try {
    s.flush(batch(T0, [a, b]));
    // A time SQLite cannot bind fails the flush after its open rows were written: all rolled back.
    assert.throws(() => s.flush(batch(2n ** 70n as unknown as number, [{ ...a, rxBytes: 99 }])));
    assert.deepEqual(await tableOf(path), expected([a, b]), 'the failed flush left nothing');
    // Had the store believed the failed flush's rows were written, this would leave b or a stale a.
    s.flush(batch(T0 + 20_000, [{ ...a, rxBytes: 99 }]));
    assert.deepEqual(await tableOf(path), expected([{ ...a, rxBytes: 99 }]));
    s.flush(batch(T0 + 30_000, [{ ...a, rxBytes: 99 }, b]));
    assert.deepEqual(await tableOf(path), expected([{ ...a, rxBytes: 99 }, b]));
  } finally {
    s.close();
  }
  // A new store on the same file (a restarted agent) starts from what the table holds.
  const again = await UsageStore.open(path, { record: true });
  try {
    assert.deepEqual(again.openFlows().map((o) => [o.identity, o.rxBytes]), [['tcp|1|@5#a', 99], ['tcp|2|@6#b', 20]]);
    again.flush(batch(T0 + 40_000, [b]));
    assert.deepEqual(await tableOf(path), expected([b]));
  } finally {
    again.close();
  }
});
