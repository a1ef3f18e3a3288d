/** `--simulate`: ntstat's simulated kernel as the live source, advanced in real time. */
import { NtstatError } from '../errors.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { FUTURE_LAYOUTS, SimKernel, SimulationDriver, futureDialect, getScenario, isFutureLayout, scenarioNames } from '../simulator/index.js';
import { MemoryTransport } from '../transport/memory.js';
import { loopbackFlowMaker, type CalibrationFlowMaker } from '../client/calibration-flow.js';
import { injectCalibrationFlow, worldInterfaceTable } from '../simulator/index.js';
import { InterfaceNames } from '../model/interface-names.js';
import type { CliOptions } from './options.js';
import type { LiveSource } from './run-live.js';

export const DEFAULT_SCENARIO = 'idle-laptop';

/**
 * Behaviour changes inside a layout family (BEHAVIOUR.md §0), so the simulated kernel is the
 * build asked for: --xnu as given, --macos the newest published tag of that release.
 */
function kernelVersionFor(o: CliOptions, dialect: Dialect): { kernelVersion?: string } {
  if (o.xnu !== undefined) {
    const m = /(\d+(?:\.\d+)+)/.exec(o.xnu.replace(/^.*xnu-/, ''));
    return m && Number(m[1].split('.')[0]) >= 1000 ? { kernelVersion: m[1] } : {};
  }
  if (o.macos !== undefined) {
    const want = o.macos.split('.').map(Number);
    let best: string | undefined;
    for (const tag of dialect.tags) {
      if (compare(dialect.macosByTag[tag].split('.').map(Number), want) <= 0) best = tag;
    }
    return best ? { kernelVersion: best.replace(/^xnu-/, '') } : {};
  }
  return {};
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/**
 * The simulated kernel's name as printed after "xnu-": a kernel without published sources is
 * named by its own release (issue 18 bug 3), never by the older tag whose behaviour it borrows.
 */
function simulatedLabel(xnu: string, dialect: Dialect): string {
  const p = dialect.provisional;
  if (!p) return xnu;
  const release = `macOS ${p.macos}, Darwin ${p.darwin}, provisional layout, unverified`;
  return p.xnuTrain ? `${xnu} (${release})` : `? (${release}; xnu build unknown)`;
}

/**
 * --future-layout NAME: the simulated kernel speaks a changed layout while the client keeps the
 * dialect it selected (issue 12). Only for kernels without published sources: a published
 * kernel's layout is a fact, not something to vary.
 */
function kernelDialect(o: CliOptions, dialect: Dialect): Dialect {
  if (o.futureLayout === undefined) return dialect;
  if (!isFutureLayout(o.futureLayout)) {
    throw new NtstatError('ERR_NTSTAT_USAGE', `unknown --future-layout ${JSON.stringify(o.futureLayout)} (layouts: ${FUTURE_LAYOUTS.join(', ')})`);
  }
  if (dialect.verified) {
    throw new NtstatError('ERR_NTSTAT_USAGE', '--future-layout needs a kernel without published sources (e.g. --xnu 12377.1.9)');
  }
  return futureDialect(dialect, o.futureLayout);
}

export interface SimulatedKernel {
  kernel: SimKernel;
  dialect: Dialect;
  driver: SimulationDriver;
  scenario: string;
  seed: number;
  /** The simulated kernel's XNU version. */
  label: string;
  banner: string;
}

/** The simulated kernel the options describe (--xnu/--macos, --scenario, --seed). */
export function simulatedKernel(o: CliOptions): SimulatedKernel {
  const dialect = o.xnu !== undefined ? dialectFor(o.xnu) : o.macos !== undefined ? dialectFor(o.macos, 'macos') : dialectFor('d10002');
  const scenario = o.scenario ?? DEFAULT_SCENARIO;
  if (!getScenario(scenario)) {
    throw new NtstatError('ERR_NTSTAT_USAGE', `unknown scenario ${JSON.stringify(scenario)} (scenarios: ${scenarioNames().join(', ')})`);
  }
  const seed = o.seed ?? 1;
  const kernel = new SimKernel({ dialect: kernelDialect(o, dialect), scenario, seed, ...kernelVersionFor(o, dialect) });
  const label = simulatedLabel(kernel.profile.xnu.join('.'), dialect);
  return {
    kernel,
    dialect,
    driver: new SimulationDriver(kernel),
    scenario,
    seed,
    label,
    banner: `ntstat: SIMULATED kernel (not a real Mac): xnu-${label}${o.futureLayout ? `, future layout ${o.futureLayout}` : ''}, scenario ${scenario}, seed ${seed}\n`,
  };
}

/**
 * The self-test's flows on the simulated kernel: real loopback connections made here, entered
 * into the simulated world with their ports and byte counts (the world cannot see real sockets).
 */
export function simulatedFlowMaker(kernel: SimKernel): CalibrationFlowMaker {
  return async (req) => {
    const flow = await loopbackFlowMaker(req);
    if (!flow) return undefined;
    const closeSim = injectCalibrationFlow(kernel.world, flow.facts);
    return {
      facts: flow.facts,
      close: async () => {
        closeSim();
        await flow.close();
      },
    };
  };
}

export function simulatedSource(o: CliOptions): LiveSource {
  const { kernel, dialect, driver, label, banner } = simulatedKernel(o);
  const sim = kernel.connect({ root: o.privileged ?? false });
  const wallStart = Date.now();
  return {
    transport: new MemoryTransport(sim),
    dialect,
    simulated: true,
    xnuLabel: label,
    calibrationFlows: simulatedFlowMaker(kernel),
    privcheck: () => (kernel.core.privcheck ? 1 : 0),
    banner,
    // Stream times follow simulated time, anchored at the wall clock when the session started.
    clock: () => wallStart + kernel.now,
    // The world names its interfaces; re-read (rate-limited by simulated time) when one is unknown.
    interfaceNames: new InterfaceNames(() => worldInterfaceTable(kernel.world), { clock: () => kernel.now }),
    start() {
      driver.startRealtime();
      return () => driver.stop();
    },
  };
}
