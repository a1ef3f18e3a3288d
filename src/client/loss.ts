/**
 * A loss signal outside the protocol (BEHAVIOUR.md §4): on macOS 15 the kernel ignores a failed
 * flush of an aggregated poll batch (`nstat_flush_accumulated_msgs`) and still ends the chunk with
 * SUCCESS, and a chunk may legitimately hold 5–99 sources (lock yield), so nothing in the stream
 * shows the loss. The world-readable sysctl net.stats.stats counts those failures
 * (`nstat_flush_accumulated_msgs_failures`, global over all clients): a rise across a sweep is the
 * best available sign that the sweep lost updates. The reader is injectable (the simulator keeps
 * the same counter); a reader that fails reports nothing.
 */
export type CounterReader = () => number | undefined;

export class FlushFailureSignal {
  /** @internal */
  private start: number | undefined;

  constructor(/** @internal */ private readonly read: CounterReader) {}

  /** @internal */
  private sample(): number | undefined {
    try {
      const v = this.read();
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** A sweep begins. */
  begin(): void {
    this.start = this.sample();
  }

  /** Failures counted since begin() (0 when unknown); u32 wrap-around is handled. */
  end(): number {
    const a = this.start;
    const b = this.sample();
    this.start = undefined;
    if (a === undefined || b === undefined || a === b) return 0;
    return b > a ? b - a : b + 2 ** 32 - a;
  }
}
