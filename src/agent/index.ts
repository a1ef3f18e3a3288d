/**
 * `ntstat/agent`: usage recording and history for apps that embed it. Importing this module loads
 * no native code: better-sqlite3 (an optional dependency) is loaded by `UsageStore.open()` only.
 */
export { UsageAgent } from './usage-agent.js';
export type { UsageAgentOptions } from './usage-agent.js';
export { UsageRecorder } from './recorder.js';
export type { UsageRecorderOptions } from './recorder.js';
export { UsageStore, defaultUsageDbPath, DEFAULT_RETENTION } from '../store/usage-store.js';
export type { Retention, UsageStoreOptions } from '../store/usage-store.js';
export type { AgentView, AgentStatus, ProcessUsage, InterfaceUsage, UsageQuery, UsageRow } from './types.js';
export type { FlushBatch, UsageSink, UsageDelta, ClosedFlow, OpenFlowState, UsageDims, Totals } from '../store/records.js';
