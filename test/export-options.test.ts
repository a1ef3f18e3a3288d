/** The agent's export flags: defaults, values, and typed usage errors for bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSettings } from '../src/cli/export-options.js';
import type { AgentView } from '../src/agent/types.js';
import type { ExportSource } from '../src/export/state.js';

test('export flags: defaults and values', () => {
  assert.deepEqual(exportSettings({}), { metrics: {} });
  assert.deepEqual(
    exportSettings({ 'metrics-pid': true, 'node-exporter-names': true, 'max-processes': '50', 'metrics-ttl': '120', otlp: 'http://127.0.0.1:4318/v1/metrics' }),
    { metrics: { metricsPid: true, nodeExporterNames: true, maxProcesses: 50, metricsTtlSeconds: 120 }, otlp: { url: 'http://127.0.0.1:4318/v1/metrics', intervalSeconds: 15 } },
  );
  assert.equal(exportSettings({ otlp: 'https://c:4318/v1/metrics', 'otlp-interval': '2.5' }).otlp?.intervalSeconds, 2.5);
});

test('export flags: bad values are ERR_NTSTAT_USAGE', () => {
  for (const extra of [
    { 'max-processes': '-1' },
    { 'max-processes': '1.5' },
    { 'max-processes': '' },
    { 'metrics-ttl': '0' },
    { 'metrics-ttl': 'ten' },
    { otlp: 'collector:4318' },
    { otlp: 'file:///etc/passwd' },
    { 'otlp-interval': '5' },
    { otlp: 'http://c/', 'otlp-interval': 'NaN' },
  ]) assert.throws(() => exportSettings(extra), { code: 'ERR_NTSTAT_USAGE' }, JSON.stringify(extra));
});

// Compile-time: the contract's AgentView is accepted wherever the exporters take an ExportSource.
type Accepts<T, U extends T> = U;
export type AgentViewIsExportSource = Accepts<ExportSource, AgentView>;
