/**
 * `ntstat/prometheus`: Prometheus and OpenTelemetry export. This entry point needs the optional
 * package prom-client (the in-app collector registers into a prom-client registry); importing
 * `ntstat` itself never loads it. Importing this module starts nothing.
 */
export { registerProcessNetworkMetrics } from './in-app.js';
export type { ProcessNetworkMetrics, ProcessNetworkMetricsOptions } from './in-app.js';
export { createMetricsRoute, AgentMetrics, metricFamilies } from './prometheus.js';
export type { MetricsOptions } from './prometheus.js';
export type { ExportSource, ExportOptions, ExportSnapshot } from './state.js';
