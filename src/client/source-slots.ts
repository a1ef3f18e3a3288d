/**
 * Per-source bookkeeping of the SourceTable in columns indexed by a slot number (issue 17, heap
 * per stream): one object per source was 72 B (six fields) plus its header; here a source costs
 * an array element for its stream, two int32s and a byte (~17 B, ~25 B with growth slack), and
 * the table's Map holds a small integer instead of a pointer to a per-source object.
 *
 * Slots are reused after release, so the columns never outgrow the most sources held at once.
 */
import type { Stream } from '../model/stream.js';

/** The source has been announced with `added` (its first descriptor arrived). */
export const ANNOUNCED = 1;
/** Counts arrived before the first descriptor and wait in SourceSlots.pending. */
export const PENDING_COUNTS = 2;

const INITIAL = 64;

export class SourceSlots {
  /** The stream, once a descriptor has created it. */
  stream: (Stream | undefined)[] = [];
  /** Sweep generation in which the source was last seen (liveness sweeps). */
  seen = new Int32Array(INITIAL);
  /** Consecutive complete sweeps that did not report the source. */
  missed = new Int32Array(INITIAL);
  /** ANNOUNCED | PENDING_COUNTS. */
  flags = new Uint8Array(INITIAL);
  private readonly free: number[] = [];
  private used = 0;

  /** A cleared slot, seen in `generation`. */
  alloc(generation: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (slot === this.seen.length) this.grow();
      this.stream.push(undefined);
    }
    this.seen[slot] = generation;
    this.missed[slot] = 0;
    this.flags[slot] = 0;
    return slot;
  }

  /** Forget the slot's stream (so it can be collected) and make the slot reusable. */
  release(slot: number): void {
    this.stream[slot] = undefined;
    this.flags[slot] = 0;
    this.free.push(slot);
  }

  private grow(): void {
    const n = this.seen.length * 2;
    const seen = new Int32Array(n);
    seen.set(this.seen);
    this.seen = seen;
    const missed = new Int32Array(n);
    missed.set(this.missed);
    this.missed = missed;
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.flags = flags;
  }
}
