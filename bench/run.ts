/**
 * `npm run bench`: prints one table with each figure beside its goal, writes bench/results.json.
 * Performance goals live here, never in timed tests.
 */
import { writeFileSync } from 'node:fs';
import { dialectFor } from '../src/protocol/dialect.js';
import { benchDecode, type DecodeResult } from './decode.js';
import { syntheticCapture } from './capture.js';
import { fmt } from './common.js';
import { benchClient } from './client-cost.js';
import { benchPollApply, pollApplyRows } from './poll-apply.js';
import { benchReplay, replayRows } from './replay.js';
import { benchStartup, startupRows } from './startup.js';
import { benchAgent } from './agent.js';

interface Row {
  figure: string;
  value: string;
  goal: string;
  met?: boolean;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const results: Record<string, unknown> = { node: process.version, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() };
  const decode: DecodeResult[] = [];
  for (const xnu of ['4570.1.46', '7195.50.7.100.1', '10002.1.13']) {
    const d = dialectFor(xnu);
    const r = benchDecode(syntheticCapture(d), d);
    decode.push(r);
    const mm = (med: number, best: number) => `median ${fmt(med)} msg/s, best ${fmt(best)}`;
    rows.push({ figure: `full decode ${d.family} (CPU)`, value: `${mm(r.fullMsgsPerSec, r.fullMsgsPerSecBest)} (${r.fullMBPerSec.toFixed(0)} MB/s)`, goal: '>= 5 M msg/s', met: r.fullMsgsPerSec >= 5e6 });
    rows.push({ figure: `counters-only SRC_UPDATE ${d.family}`, value: mm(r.countsMsgsPerSec, r.countsMsgsPerSecBest), goal: '>= 20 M msg/s', met: r.countsMsgsPerSec >= 20e6 });
    rows.push({ figure: `header scan ${d.family}`, value: `median ${fmt(r.scanMsgsPerSec)} msg/s`, goal: '-' });
    rows.push(
      r.ratio !== undefined
        ? { figure: `full decode vs C, equal work ${d.family}`, value: `${r.ratio.toFixed(2)}x (C: ${fmt(r.nativeMsgsPerSec!)} msg/s)`, goal: '>= 0.3x', met: r.ratio >= 0.3 }
        : { figure: `full decode vs C, equal work ${d.family}`, value: r.nativeNote ?? 'skipped', goal: '>= 0.3x' },
    );
  }
  results.decode = decode;
  // Replay end to end against the C baseline (bench/replay.ts).
  const replay = benchReplay();
  rows.push(...replayRows(replay));
  results.replay = replay;
  const startup = await benchStartup();
  rows.push(...startupRows(startup));
  results.startup = startup;
  // Benchmarks 3–5: client cycle cost, memory, end to end (bench/client-cost.ts).
  const more = await benchClient();
  rows.push(...more.rows);
  // The 10 k cycle's decode + table share without the transport: full path vs the client's path.
  const pollApply = await benchPollApply();
  rows.push(...pollApplyRows(pollApply));
  results.pollApply = pollApply;
  Object.assign(results, more.results);
  // The usage agent (issue 14): database size over 30 simulated days, CPU at 2 000 flows.
  const agent = await benchAgent();
  rows.push(...agent.rows);
  Object.assign(results, agent.results);
  const w = [Math.max(...rows.map((r) => r.figure.length)), Math.max(...rows.map((r) => r.value.length)), Math.max(...rows.map((r) => r.goal.length))];
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(w[0])}  ${b.padEnd(w[1])}  ${c.padEnd(w[2])}  ${d}`;
  console.log(line('figure', 'measured', 'goal', 'met'));
  for (const r of rows) console.log(line(r.figure, r.value, r.goal, r.met === undefined ? '-' : r.met ? 'yes' : 'NO'));
  results.table = rows;
  writeFileSync(new URL('../../bench/results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
