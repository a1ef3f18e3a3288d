/**
 * ntstat: live per-connection network statistics from the macOS kernel.
 * Importing this module loads no native code and has no side effects.
 */
export { NtstatError, isNtstatError } from './errors.js';
export type { NtstatErrorCode } from './errors.js';
export { NetworkStatisticsClient, explainSubscribeError } from './client/client.js';
export type { ClientOptions, ClientProvider, ClientEvent, ClientEvents, ClientState, DropInfo, DropReason, ProviderStatus } from './client/client.js';
export { createNetworkStatisticsClient } from './client/compat.js';
export { list } from './client/list.js';
export type { ListOptions } from './client/list.js';
export type { ClientEventMap } from './client/events.js';
export type { NetworkStatisticsListener, CompatClient, CompatOptions } from './client/compat.js';
export { SourceTable } from './client/source-table.js';
export type { StreamEvent, StreamEventKind } from './model/events.js';
export type { Stream, StreamCounts, StreamProvider, InterfaceKind } from './model/stream.js';
export { ProcessTotals, groupKey } from './model/process-totals.js';
export type { ProcessTotal, GroupBy } from './model/process-totals.js';
export { streamToJson, eventToJson } from './model/json.js';
export { InterfaceNames, sanitizeInterfaceTable } from './model/interface-names.js';
export type { InterfaceEntry, InterfaceEnumerator, InterfaceNamesOptions } from './model/interface-names.js';
export type { JsonEvent } from './model/json.js';
export { interfaceToJson } from './model/interface.js';
export type { InterfaceEvent, InterfaceStat, InterfaceChange, JsonInterfaceEvent } from './model/interface.js';
export type { InterfaceLister, InterfaceName } from './client/ifnet.js';
export type { IfnetLinkStatus, LinkStatusType } from './protocol/ifnet.js';
export { dialectFor, allDialects, layoutFamilies, provisionalDialects } from './protocol/dialect.js';
export type { Dialect, ProvisionalInfo } from './protocol/dialect.js';
export type { SelfTestMode, SelfTestResult } from './client/calibration.js';
export type { LayoutCheck } from './client/layout-inference.js';
export type { CalibrationFlowMaker, CalibrationFlow, CalibrationFlowFacts, CalibrationFlowRequest, CalibrationEndpointFacts } from './client/calibration-flow.js';
export type { Transport, TransportHandlers } from './transport/transport.js';
