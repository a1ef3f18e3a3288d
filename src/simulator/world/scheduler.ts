/**
 * Simulated-time event queue: a binary heap ordered by (time, insertion sequence) so runs are
 * deterministic. No real timers: whoever drives the simulation calls `runUntil(t)`.
 */
interface Entry {
  t: number;
  seq: number;
  fn: () => void;
}

export class Scheduler {
  /** @internal */
  private heap: Entry[] = [];
  /** @internal */
  private seq = 0;
  now = 0;

  at(t: number, fn: () => void): void {
    const e: Entry = { t: Math.max(t, this.now), seq: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], e)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  after(ms: number, fn: () => void): void {
    this.at(this.now + ms, fn);
  }

  get size(): number {
    return this.heap.length;
  }

  nextTime(): number | undefined {
    return this.heap.length > 0 ? this.heap[0].t : undefined;
  }

  /** Run every event due at or before `t` (in order), then set now = t. */
  runUntil(t: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0].t <= t) {
      const e = this.pop();
      this.now = e.t;
      e.fn();
    }
    if (t > this.now) this.now = t;
  }

  /** @internal */
  private pop(): Entry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(h[r], h[l]) ? r : l;
        if (less(last, h[c])) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
