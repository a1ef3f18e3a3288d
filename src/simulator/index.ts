/** The simulated kernel side of com.apple.network.statistics (see docs/simulator.md). */
export { SimKernel, Simulator, createSimulator, resolveKernel, SendError } from './simulator.js';
export type { SimKernelOptions, ConnectOptions, SimulatorOptions, GroundTruth, GroundTruthOptions, TruthSource, ReadResult, DropLedger, MessageKindName } from './simulator.js';
export type { DropRecord } from './kernel/connection.js';
export { kernelProfile, type KernelProfile, type Era } from './profile.js';
export { Rng } from './prng.js';
export { World } from './world/world.js';
export type { WorldOptions, WorldHooks, FlowEvent, InterfaceSpec } from './world/world.js';
export * from './world/entities.js';
export { getScenario, scenarioNames, SCENARIOS, bare } from './scenarios/index.js';
export type { Scenario, ScenarioContext, ClientHints } from './scenarios/index.js';
export { SimulationDriver, type RealtimeOptions } from './driver.js';
export { futureDialect, isFutureLayout, FUTURE_LAYOUTS, type FutureLayoutName } from './future-layouts.js';
export { injectCalibrationFlow, type InjectedFlow } from './world/calibration-flow.js';
export { worldInterfaceTable } from './world/interface-table.js';
