/**
 * Monotonic counters under a cardinality limit.
 *
 * Input: groups (the agent's per-process totals) whose counters only grow, mapped onto series
 * (one label set; several groups may share one, e.g. two pids of one program without
 * `--metrics-pid`). Output: at most `max` series plus one "other" series, where EVERY exported
 * value never decreases, whatever happens to the inputs:
 *
 *  - a group's contribution is the sum of its positive deltas (a group missing from one
 *    observation, or whose counter resets, never takes anything back);
 *  - a series first selected into the top N starts at its full total (so per-process values equal
 *    the truth); from then on it only adds deltas, and only while it is selected. While it is not
 *    selected its deltas go to "other", and it is not exported; if it comes back it continues from
 *    the value it had, never jumping by what "other" already counted;
 *  - "other" only adds deltas;
 *  - a series whose groups have no live flow and no traffic for `ttlMs` stops being exported and
 *    gives its slot up; its last value is kept so a return continues from there.
 *
 * Consequence (documented in the README): `sum(rate(...))` over the series is exact, but a raw
 * `sum(...)` of the counters counts a process's bytes from before its entry into the top N twice
 * (once in "other", once in its own series). Nothing is ever lost.
 */

export interface FoldGroup {
  /** The input's stable group key (agent ProcessUsage.key). */
  key: string;
  /** The series this group belongs to (a label-set key). */
  series: string;
  /** Labels of that series (identical for every group of the series). */
  labels: Readonly<Record<string, string>>;
  /** Monotonic totals, one per counter (same length for every group). */
  values: readonly number[];
  /** The group has live flows now. */
  live: boolean;
}

export interface FoldSeries {
  series: string;
  labels: Readonly<Record<string, string>>;
  values: readonly number[];
}

interface SeriesState {
  labels: Readonly<Record<string, string>>;
  /** Sum of the positive deltas of every group of this series (the series' true total). */
  acc: number[];
  /** acc at the previous update (to know what moved since). */
  seen: number[];
  /** Exported value; undefined until first selected. */
  exported?: number[];
  lastActive: number;
  live: boolean;
}

export interface FoldOptions {
  /** Series kept (default Infinity). */
  max?: number;
  /** Idle series stop being exported after this many ms (default Infinity). */
  ttlMs?: number;
  /** Number of counters per group. */
  width: number;
  /** Which counters rank series for the top N (default: all summed). */
  rankBy?: readonly number[];
}

export class MonotonicFold {
  private readonly groups = new Map<string, { series: string; prev: number[] }>();
  private readonly states = new Map<string, SeriesState>();
  private readonly otherValues: number[];
  private selected: string[] = [];
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly width: number;
  private readonly rankBy: readonly number[];

  constructor(opts: FoldOptions) {
    this.max = Math.max(0, opts.max ?? Infinity);
    this.ttlMs = opts.ttlMs ?? Infinity;
    this.width = opts.width;
    this.rankBy = opts.rankBy ?? [...Array(opts.width).keys()];
    this.otherValues = new Array<number>(opts.width).fill(0);
  }

  /**
   * Fold one observation of the groups. A group absent from `input` keeps its last value: the
   * agent's totals are monotonic for its life, so a group seen again continues (and one seen
   * lower was restarted: all of its new value is new traffic).
   */
  update(now: number, input: Iterable<FoldGroup>): void {
    for (const s of this.states.values()) s.live = false;
    for (const g of input) {
      let st = this.states.get(g.series);
      if (!st) {
        st = { labels: g.labels, acc: new Array<number>(this.width).fill(0), seen: new Array<number>(this.width).fill(0), lastActive: now, live: false };
        this.states.set(g.series, st);
      }
      let gs = this.groups.get(g.key);
      if (!gs || gs.series !== g.series) {
        // A new group, or one that moved to another series (renamed process): count from here.
        gs = { series: g.series, prev: new Array<number>(this.width).fill(0) };
        this.groups.set(g.key, gs);
      }
      let moved = false;
      for (let i = 0; i < this.width; i++) {
        const v = finite(g.values[i]);
        // A counter below its previous value was reset (a restarted source): all of it is new.
        const d = v >= gs.prev[i] ? v - gs.prev[i] : v;
        if (d > 0) {
          st.acc[i] += d;
          moved = true;
        }
        gs.prev[i] = v;
      }
      if (g.live) st.live = true;
      if (moved || g.live) st.lastActive = now;
    }

    const candidates: [string, SeriesState, number][] = [];
    for (const [k, s] of this.states) {
      if (!s.live && now - s.lastActive > this.ttlMs) continue;
      let rank = 0;
      for (const i of this.rankBy) rank += s.acc[i];
      candidates.push([k, s, rank]);
    }
    candidates.sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const chosen = new Set(candidates.slice(0, Math.min(this.max, candidates.length)).map((c) => c[0]));
    for (const [k, s] of this.states) {
      if (chosen.has(k)) {
        if (!s.exported) s.exported = [...s.acc];
        else for (let i = 0; i < this.width; i++) s.exported[i] += s.acc[i] - s.seen[i];
      } else {
        for (let i = 0; i < this.width; i++) this.otherValues[i] += s.acc[i] - s.seen[i];
      }
      for (let i = 0; i < this.width; i++) s.seen[i] = s.acc[i];
    }
    this.selected = candidates.filter((c) => chosen.has(c[0])).map((c) => c[0]);
  }

  /** The exported series, largest first. */
  series(): FoldSeries[] {
    const out: FoldSeries[] = [];
    for (const k of this.selected) {
      const s = this.states.get(k)!;
      out.push({ series: k, labels: s.labels, values: s.exported! });
    }
    return out;
  }

  /** The "other" series: deltas of every series while it was not selected. */
  other(): readonly number[] {
    return this.otherValues;
  }

  /** True total of one series (sum of its groups' deltas), for tests and diagnostics. */
  total(series: string): readonly number[] | undefined {
    return this.states.get(series)?.acc;
  }
}

function finite(v: number | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}
