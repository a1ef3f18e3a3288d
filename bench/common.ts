/** Small timing helpers for `npm run bench` (wall time of tight loops, median of runs). */
export interface Measure {
  seconds: number;
  iterations: number;
}

/** Run `fn` repeatedly for about `targetMs`, `runs` times; returns the median per-iteration time. */
export function measure(fn: () => void, targetMs = 400, runs = 5): Measure {
  // Warm up (JIT) and size the batch: double it until one batch takes over 50 ms.
  let batch = 1;
  let dt = 0;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) fn();
    dt = performance.now() - t;
    if (dt > 50) break;
    batch *= 2;
  }
  const iterations = Math.max(1, Math.round((batch * targetMs) / dt));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(runs / 2)], iterations };
}

export function fmt(n: number, digits = 2): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(digits)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(digits)} k`;
  return n.toFixed(digits);
}
