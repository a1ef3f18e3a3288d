/**
 * macOS 15 (xnu-11215+) paced polls: the walk may end a chunk early, after at least 5 reported
 * sources, when the kernel's lock would yield to a waiter (BEHAVIOUR.md §2.6). The simulator has no
 * other threads, so contention is a chance per source after the fifth, drawn from its own seeded
 * generator (runs stay reproducible). `nstat_stats` is the global counter block the kernel exports
 * world-readable as sysctl `net.stats.stats`; the simulator keeps the one field a client can use as
 * a loss signal on 15+ (§4): `nstat_flush_accumulated_msgs_failures`.
 */
import { Rng } from '../prng.js';

/** Sources a B15 chunk reports at least before the lock may yield. */
export const LOCK_YIELD_MIN_SOURCES = 5;

/**
 * Default chance per source past the fifth that the lock is contended (macOS 15+ profiles only).
 * The real 15+ kernel yields whenever another thread waits for the lock, so chunks of 5..99 sources
 * are normal there; 0.05 makes a 100-source chunk rare (about 1 in 100) and a chunk average ~25
 * sources. Pass `lockYield: 0` to the simulator to turn it off (always 100 per chunk).
 */
export const DEFAULT_LOCK_YIELD_CHANCE = 0.05;

export interface NstatStats {
  /** Aggregated batches whose flush failed (whole batch lost, SUCCESS still sent). */
  flushAccumulatedMsgsFailures: number;
}

export class LockYield {
  /** @internal */
  private readonly rng: Rng;

  /** `chance`: probability that the lock is contended after each source past the fifth (0 = never). */
  constructor(
    readonly chance: number,
    seed: number,
  ) {
    this.rng = new Rng(seed ^ 0x10c4);
  }

  /** After `reported` sources of this chunk: does the walk stop here? (B15 kernels only.) */
  yieldsAfter(reported: number): boolean {
    if (this.chance <= 0 || reported < LOCK_YIELD_MIN_SOURCES) return false;
    return this.rng.next() < this.chance;
  }
}
