/**
 * Small timing helpers for `npm run bench`: CPU time (user + system of this process, so other
 * load on a shared machine inflates it less than wall time) of tight loops, min and median of runs.
 */
export interface Measure {
  /** Median CPU seconds per run of `iterations` calls. */
  seconds: number;
  /** Fastest run (CPU seconds). */
  minSeconds: number;
  runs: number;
  iterations: number;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Run `fn` repeatedly for about `targetMs`, `runs` times; CPU seconds per run (median and min). */
export function measure(fn: () => void, targetMs = 400, runs = 5): Measure {
  // Warm up (JIT) and size the batch: double it until one batch takes over 50 ms of CPU. CPU
  // time, not wall: on a loaded machine a batch's wall time includes the time the process waited
  // for a core, which sized the runs at a few ms of CPU (the first decode figure of `npm run
  // bench` read 2-6x too low).
  let batch = 1;
  let dt = 0;
  for (;;) {
    const t = cpuSeconds();
    for (let i = 0; i < batch; i++) fn();
    dt = (cpuSeconds() - t) * 1000;
    if (dt > 50) break;
    batch *= 2;
  }
  // Size the runs from a warm batch (the doubling above started cold: JIT, first-use compiles).
  const t = cpuSeconds();
  for (let i = 0; i < batch; i++) fn();
  dt = Math.max((cpuSeconds() - t) * 1000, 1);
  const iterations = Math.max(1, Math.round((batch * targetMs) / dt));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = cpuSeconds();
    for (let i = 0; i < iterations; i++) fn();
    times.push(cpuSeconds() - t);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(runs / 2)], minSeconds: times[0], runs, iterations };
}

export function fmt(n: number, digits = 2): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(digits)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(digits)} k`;
  return n.toFixed(digits);
}
