/**
 * MonotonicFold, the cardinality limit of the exporters: whatever the inputs do (processes moving
 * in and out of the top N, groups vanishing from the agent, counters resetting, series expiring
 * and coming back), no exported value ever decreases, at most N series are exported, nothing is
 * lost (exported + "other" cover every byte) and no series exceeds its true total; with room for
 * every series, every value is exactly its true total.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MonotonicFold, type FoldGroup } from '../src/export/fold.js';

const labels = (s: string) => ({ process: s });

test('a process entering the top N starts at its true total; leaving and returning never lowers it or "other"', () => {
  const f = new MonotonicFold({ width: 1, max: 1 });
  const g = (key: string, v: number): FoldGroup => ({ key, series: key, labels: labels(key), values: [v], live: true });
  f.update(0, [g('a', 100), g('b', 10)]);
  assert.deepEqual(f.series().map((s) => [s.series, s.values[0]]), [['a', 100]]);
  assert.equal(f.other()[0], 10, "b's first 10 bytes went to other");
  f.update(1, [g('a', 100), g('b', 500)]);
  // b overtakes a: b's series starts at its full total 500; a's delta (0) goes to other.
  assert.deepEqual(f.series().map((s) => [s.series, s.values[0]]), [['b', 500]]);
  const otherBefore = f.other()[0];
  f.update(2, [g('a', 1000), g('b', 510)]);
  // a back on top: it continues from 100 (its last exported value) + 900.
  assert.deepEqual(f.series().map((s) => [s.series, s.values[0]]), [['a', 1000]]);
  assert.ok(f.other()[0] >= otherBefore);
});

test('--metrics-ttl: an idle series stops being exported after the TTL, frees its slot, and comes back where it was', () => {
  const f = new MonotonicFold({ width: 1, max: 1, ttlMs: 1000 });
  const g = (key: string, v: number, live: boolean): FoldGroup => ({ key, series: key, labels: labels(key), values: [v], live });
  f.update(0, [g('gone', 500, false), g('small', 5, true)]);
  assert.deepEqual(f.series().map((s) => s.series), ['gone']);
  f.update(1000, [g('gone', 500, false), g('small', 6, true)]);
  assert.deepEqual(f.series().map((s) => s.series), ['gone'], 'still within the TTL');
  f.update(1001, [g('gone', 500, false), g('small', 7, true)]);
  assert.deepEqual(f.series().map((s) => [s.series, s.values[0]]), [['small', 7]], 'expired: the slot goes to the next process');
  const other = f.other()[0];
  f.update(1500, [g('gone', 800, true), g('small', 7, true)]);
  assert.deepEqual(f.series().map((s) => [s.series, s.values[0]]), [['gone', 800]], 'back, continuing from 500 (+300)');
  assert.equal(f.other()[0], other, 'small had no new bytes; nothing fell');
});

interface Op {
  groups: { key: number; series: number; add: number[]; reset: boolean; live: boolean }[];
  dt: number;
}

const opArb = fc.record({
  groups: fc.array(
    fc.record({
      key: fc.integer({ min: 0, max: 12 }),
      series: fc.integer({ min: 0, max: 7 }),
      add: fc.array(fc.nat({ max: 5000 }), { minLength: 2, maxLength: 2 }),
      reset: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      live: fc.boolean(),
    }),
    { maxLength: 10 },
  ),
  dt: fc.integer({ min: 0, max: 400 }),
});

test('property: every exported value is monotonic, at most N series, nothing lost, nothing invented', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 50, max: 1000 }), fc.array(opArb, { minLength: 1, maxLength: 40 }), (max, ttl, ops) => {
      const fold = new MonotonicFold({ width: 2, max, ttlMs: ttl });
      // The agent side: monotonic group totals (a reset starts a group over, as a restarted source).
      const totals = new Map<number, { series: number; v: number[] }>();
      const lastExported = new Map<string, number[]>();
      let lastOther = [0, 0];
      // Independent truth: every positive movement of every group, per series.
      const truth = new Map<string, number[]>();
      let now = 0;
      for (const op of ops) {
        now += op.dt;
        const seen = new Set<number>();
        const input: FoldGroup[] = [];
        for (const g of op.groups) {
          if (seen.has(g.key)) continue;
          seen.add(g.key);
          let t = totals.get(g.key);
          // A group keeps its series for life (the agent's key encodes the label set).
          if (!t) totals.set(g.key, (t = { series: g.series, v: [0, 0] }));
          const series = `s${t.series}`;
          const tr = truth.get(series) ?? [0, 0];
          if (g.reset) {
            // A restarted source: its counter starts over, visibly lower (the bytes since the
            // restart are new bytes).
            t.v = t.v.map((x) => Math.floor(x / 2));
            tr[0] += t.v[0];
            tr[1] += t.v[1];
          } else {
            t.v = [t.v[0] + g.add[0], t.v[1] + g.add[1]];
            tr[0] += g.add[0];
            tr[1] += g.add[1];
          }
          truth.set(series, tr);
          input.push({ key: `g${g.key}`, series, labels: { process: series }, values: t.v, live: g.live });
        }
        // Groups absent from this observation are missing from this one report only: the
        // agent's totals are monotonic for the agent's life (CONTRACT-agent.md), a restart is
        // modelled by `reset`.
        fold.update(now, input);
        const out = fold.series();
        assert.ok(out.length <= max, `${out.length} series > max ${max}`);
        for (const s of out) {
          const prev = lastExported.get(s.series);
          if (prev) for (let i = 0; i < 2; i++) assert.ok(s.values[i] >= prev[i], `${s.series}[${i}] fell ${prev[i]} -> ${s.values[i]}`);
          lastExported.set(s.series, [...s.values]);
          const tr = truth.get(s.series)!;
          for (let i = 0; i < 2; i++) assert.ok(s.values[i] <= tr[i], `${s.series} exports more than it moved`);
        }
        const other = fold.other();
        for (let i = 0; i < 2; i++) assert.ok(other[i] >= lastOther[i], `other fell`);
        lastOther = [...other];
        // Nothing lost: the exported values (shown or remembered) plus "other" cover every byte.
        for (let i = 0; i < 2; i++) {
          let covered = other[i];
          for (const v of lastExported.values()) covered += v[i];
          let moved = 0;
          for (const v of truth.values()) moved += v[i];
          assert.ok(covered >= moved, `bytes lost: covered ${covered} < moved ${moved}`);
        }
        if (max >= 8) for (const s of out) assert.deepEqual([...s.values], truth.get(s.series), 'with room for all, exact');
      }
    }),
    { numRuns: 400 },
  );
});

test('property: with room for every series and no expiry, every series equals its true total', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
      const fold = new MonotonicFold({ width: 2, max: 100 });
      const totals = new Map<number, { series: number; v: number[] }>();
      const truth = new Map<string, number[]>();
      for (const op of ops) {
        const input: FoldGroup[] = [];
        const seen = new Set<number>();
        for (const g of op.groups) {
          if (seen.has(g.key)) continue;
          seen.add(g.key);
          let t = totals.get(g.key);
          if (!t) totals.set(g.key, (t = { series: g.series, v: [0, 0] }));
          t.v = [t.v[0] + g.add[0], t.v[1] + g.add[1]];
          const tr = truth.get(`s${t.series}`) ?? [0, 0];
          truth.set(`s${t.series}`, [tr[0] + g.add[0], tr[1] + g.add[1]]);
          input.push({ key: `g${g.key}`, series: `s${t.series}`, labels: {}, values: t.v, live: true });
        }
        fold.update(0, input);
        for (const s of fold.series()) assert.deepEqual([...s.values], truth.get(s.series));
        assert.deepEqual([...fold.other()], [0, 0]);
      }
    }),
    { numRuns: 300 },
  );
});
