/**
 * Drives simulated time. `step(ms)` is for tests (deterministic, synchronous); `startRealtime`
 * is for the CLI (`ntstat --simulate`): a real timer advances the kernel by elapsed wall time ×
 * speed. The model itself never uses real timers; only this driver does.
 */
import type { SimKernel } from './simulator.js';

export interface RealtimeOptions {
  /** Simulated ms per real ms (default 1). */
  speed?: number;
  /** Real ms between advances (default 50). */
  tickMs?: number;
  /** Longest simulated step per tick, so a stalled event loop does not cause a huge jump (default 1000). */
  maxStepMs?: number;
  /** Called after each advance (e.g. to let a transport deliver). */
  onTick?: (simNow: number) => void;
}

export class SimulationDriver {
  /** @internal */
  private timer: ReturnType<typeof setInterval> | undefined;
  /** @internal */
  private last = 0;

  constructor(readonly kernel: SimKernel) {}

  /** Advance simulated time by `ms`, in slices of at most `sliceMs` (default: one step). */
  step(ms: number, sliceMs = ms): void {
    let left = ms;
    while (left > 0) {
      const d = Math.min(left, sliceMs > 0 ? sliceMs : left);
      this.kernel.advance(d);
      left -= d;
    }
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  startRealtime(opts: RealtimeOptions = {}): void {
    if (this.timer) return;
    const speed = opts.speed ?? 1;
    const maxStep = opts.maxStepMs ?? 1000;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const sim = Math.min((now - this.last) * speed, maxStep);
      this.last = now;
      this.kernel.advance(sim);
      opts.onTick?.(this.kernel.now);
    }, opts.tickMs ?? 50);
    // Never keep the process alive on its own.
    this.timer.unref?.();
  }

  /** Stop promptly: no advance happens after this returns. Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
