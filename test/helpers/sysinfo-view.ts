/**
 * Runs a CLI event view (`log`/`json`) against a simulated macOS 13 kernel (idle laptop) until
 * the kernel's first sysinfo report has been written: one simulated minute is stepped (the idle
 * check that reports sysinfo), and the command is stopped through its AbortSignal on the loop turn
 * after `marker` appears in its output, or after a bounded number of loop turns if it never does.
 * No wall-clock `--duration`: a loaded machine must not fail the tests that use it.
 */
import type { CliOptions } from '../../src/cli/options.js';
import { runEventView } from '../../src/cli/run-live.js';
import { SimKernel, SimulationDriver } from '../../src/simulator/index.js';
import { MemoryTransport } from '../../src/transport/memory.js';

/** Loop turns after the simulated minute before giving up on the marker. */
const MAX_TURNS = 50_000;

export async function runViewUntilSysinfo(o: CliOptions, marker: string): Promise<{ code: number; out: string; err: string }> {
  const stop = new AbortController();
  let out = '';
  let err = '';
  const io = {
    stdout: {
      write: (s: string) => {
        out += s;
        if (!stop.signal.aborted && out.includes(marker)) setImmediate(() => stop.abort());
        return true;
      },
    },
    stderr: { write: (s: string) => ((err += s), true) },
    env: {},
    platform: 'linux' as const,
    signal: stop.signal,
  };
  const code = await runEventView(o, io, async () => {
    const kernel = new SimKernel({ dialect: '10063.141.1', scenario: 'idle-laptop', scale: 0.2, seed: 4 });
    const driver = new SimulationDriver(kernel);
    return {
      transport: new MemoryTransport(kernel.connect({ root: o.privileged ?? false })),
      dialect: kernel.dialect,
      simulated: true,
      clock: () => kernel.now,
      start() {
        let turns = 0;
        const giveUp = () => {
          if (stop.signal.aborted) return;
          if (++turns > MAX_TURNS) stop.abort();
          else setImmediate(giveUp);
        };
        setImmediate(() => {
          driver.step(61_000);
          giveUp();
        });
        return () => undefined;
      },
    };
  });
  return { code, out, err };
}
