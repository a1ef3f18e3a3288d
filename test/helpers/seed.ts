/**
 * The seed of every randomised test. NTSTAT_FUZZ_SEED pins it (CI runs a fixed list from
 * test/fuzz-seeds.json plus one fresh seed, see scripts/fuzz-seeds.mjs); by default a fresh one per
 * process. Tests print it (t.diagnostic) and fast-check prints it on failure, so any run replays.
 */

/** NTSTAT_FUZZ_SCALE multiplies every run count (default 1; e.g. 20 for a long local run). */
export const FUZZ_SCALE = Math.max(0.01, Number(process.env.NTSTAT_FUZZ_SCALE ?? 1) || 1);
/**
 * fast-check's seed: NTSTAT_FUZZ_SEED pins it; by default a fresh one per process, shown in the
 * test diagnostics (and by fast-check on failure) so a failing run can be replayed exactly.
 */
export const FUZZ_SEED = process.env.NTSTAT_FUZZ_SEED !== undefined ? Number(process.env.NTSTAT_FUZZ_SEED) | 0 : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;

export function fuzzParams(numRuns: number, salt = 0): { numRuns: number; seed: number; includeErrorInReport: boolean } {
  return { numRuns: Math.max(1, Math.round(numRuns * FUZZ_SCALE)), seed: (FUZZ_SEED + salt) | 0, includeErrorInReport: true };
}

