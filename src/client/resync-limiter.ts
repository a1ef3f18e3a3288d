/**
 * When may a loss trigger an extra resync sweep? (issue 13: a hostile kernel that keeps losing made
 * the client sweep in a tight loop, 700–3,600 polls in 3.5 s at --interval 0.5.)
 *
 * Policy: the first loss after a calm period resyncs immediately (BEHAVIOUR.md §4, §9.9: resync
 * after any sign of loss); after that at most one extra resync per `baseMs` (the poll interval), and
 * while losses continue the gap doubles up to `maxFactor` × interval. A sweep that completes
 * without loss ends the storm. Losses the limiter refuses are not forgotten: the next regular sweep
 * (every interval) is itself a full resync. Pure: the caller supplies the time (its clock), so
 * tests step simulated time.
 */
export class ResyncLimiter {
  /** @internal */
  private last = Number.NEGATIVE_INFINITY;
  /** @internal */
  /** 0: calm; otherwise the current gap in intervals. */
  private factor = 0;

  constructor(
    /** @internal */ private readonly baseMs: number,
    /** @internal */ private readonly maxFactor = 16,
  ) {}

  /** Current minimum gap between extra resyncs (ms); 0 when calm. */
  get gap(): number {
    return this.factor === 0 ? 0 : this.baseMs * this.factor;
  }

  /** A loss was seen at `now`: true if a resync sweep may start now (and it is counted as started). */
  tryStart(now: number): boolean {
    if (now - this.last < this.gap) return false;
    this.last = now;
    this.factor = this.factor === 0 ? 1 : Math.min(this.factor * 2, this.maxFactor);
    return true;
  }

  /** A sweep completed without any loss: the next loss resyncs immediately again. */
  calm(): void {
    this.factor = 0;
  }
}
