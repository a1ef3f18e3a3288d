/**
 * Deterministic PRNG for scenarios (mulberry32). Same seed → same world, same messages:
 * tests replay a run exactly. Never use Math.random() in the simulator.
 */
export class Rng {
  /** @internal */
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Real in [min, max). */
  real(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Weighted pick: `weights[i]` ≥ 0. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i];
      if (r < 0) return items[i];
    }
    return items[items.length - 1];
  }

  /** Exponential inter-arrival time (ms) for a Poisson process of `perSecond`. */
  expMs(perSecond: number): number {
    return (-Math.log(1 - this.next()) * 1000) / perSecond;
  }

  /** Log-uniform in [min, max]: realistic spread for byte counts and lifetimes. */
  logUniform(min: number, max: number): number {
    return Math.exp(this.real(Math.log(min), Math.log(max)));
  }

  /** RFC 4122 version-4 style UUID text, deterministic. */
  uuid(): string {
    const h: string[] = [];
    for (let i = 0; i < 16; i++) {
      let b = this.int(0, 255);
      if (i === 6) b = (b & 0x0f) | 0x40;
      if (i === 8) b = (b & 0x3f) | 0x80;
      h.push(b.toString(16).padStart(2, '0'));
    }
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  /** A child generator with an independent stream (for per-flow randomness). */
  fork(): Rng {
    return new Rng(this.int(1, 0xffffffff));
  }
}
