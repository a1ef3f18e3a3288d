/**
 * Loss accounting and resync (BEHAVIOUR.md §4, §9.9): every loss signal is counted by reason,
 * reported as a `drop` event, and triggers a resync sweep, rate-limited (resync-limiter.ts).
 */
import type { EventFanout } from './event-fanout.js';
import type { DropInfo, DropReason } from './options.js';
import { ResyncLimiter } from './resync-limiter.js';
import type { ClientSession } from './session.js';

/** What the ledger needs of the sweeper (sweeps.ts). */
export interface ResyncTarget {
  /** A sweep is running. */
  sweeping(): boolean;
  sweep(): Promise<boolean>;
}

export class LossLedger {
  drops = 0;
  readonly dropsByReason = new Map<DropReason, number>();
  /** A loss was counted since the running sweep began. */
  lossDuringSweep = false;
  /** A loss during a sweep asks for a resync once it ends. */
  resyncWanted = false;
  /** Extra resync sweeps after losses: one immediate, then rate-limited (resync-limiter.ts). */
  readonly resyncLimiter: ResyncLimiter;

  constructor(
    /** @internal */ private readonly s: ClientSession,
    /** @internal */ private readonly fanout: EventFanout,
    /** @internal */ private readonly target: ResyncTarget,
  ) {
    // Without automatic polling (interval 0) extra resyncs are still spaced by a second.
    this.resyncLimiter = new ResyncLimiter(s.opts.interval > 0 ? s.opts.interval : 1000);
  }

  countDrop(reason: DropReason, count = 1): void {
    this.drops += count;
    this.dropsByReason.set(reason, (this.dropsByReason.get(reason) ?? 0) + count);
    this.lossDuringSweep = true;
    const drop: DropInfo = { reason, count, total: this.drops };
    this.s.emit('drop', drop);
    this.fanout.push({ type: 'drop', drop });
    // Any loss: resynchronise with a full sweep (§4, §9.9), rate-limited (resync-limiter.ts).
    if (reason !== 'vanished' && this.s.state === 'running') {
      if (this.target.sweeping()) this.resyncWanted = true;
      else this.resyncSoon();
    }
  }

  /** Start a resync sweep now if the limiter allows; otherwise the next regular sweep resyncs. */
  resyncSoon(): void {
    if (this.resyncLimiter.tryStart(this.s.clock())) setImmediate(() => void this.target.sweep());
  }
}
