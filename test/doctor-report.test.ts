/**
 * `ntstat doctor --self-test` and `--report FILE` (issue 12): what doctor prints on an unknown
 * kernel, and a report that, replayed, reaches the same verdict (so a report from a real Mac can
 * become a regression test). Redaction: other processes' addresses and names are not in it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../src/cli/main.js';
import { replayReport, type LayoutReport } from '../src/cli/doctor-report.js';
import { parseNtcap } from '../src/transport/ntcap.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function doctor(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
  const code = await main(['doctor', '--simulate', ...args], io);
  return { code, out };
}

function captureBytes(r: LayoutReport): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const rec of parseNtcap(new Uint8Array(Buffer.from(r.capture, 'base64'))).records()) parts.push(rec.data);
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

const has = (hay: Uint8Array, needle: number[]) => hay.some((_, i) => needle.every((b, k) => hay[i + k] === b));
/** The idle-laptop scenario's Wi-Fi address 192.168.1.23 (a sockaddr_in body) and a process name. */
const WIFI_ADDR = [0xc0, 0xa8, 0x01, 0x17];
const SAFARI = [...new TextEncoder().encode('Safari')];

describe('doctor on an unknown kernel', () => {
  test('--future-layout inserted: the findings, fields kept and dropped', async () => {
    const { code, out } = await doctor(['--xnu', '12377.1.9', '--future-layout', 'inserted']);
    assert.equal(code, 0);
    assert.match(out, /kernel\s+SIMULATED xnu-12377\.1\.9 \(macOS 26, Darwin 25/);
    assert.match(out, /self-test\s+layout INFERRED: the assumed p26 layout failed \d+ of \d+ checks/);
    // 16 bytes inserted before the addresses: local moves from 124 to 140 (LAYOUTS.md d10002 TCP offsets + 16).
    assert.match(out, /found\s+nstat_tcp_descriptor: local@140 remote@168 pid@116/);
    assert.match(out, /fields\s+nstat_udp_descriptor: \d+ kept, dropped \(never printed\): upid/);
    assert.match(out, /re-verified\s+with a second connection/);
  });
  test('--self-test on a published kernel: verified', async () => {
    const { code, out } = await doctor(['--macos', '14', '--self-test']);
    assert.equal(code, 0);
    assert.match(out, /self-test\s+layout verified by self-test: \d+ checks on tcp4/);
  });
});

describe('doctor --report: replaying a report reaches the same verdict', () => {
  const cases: [string, 'verified' | 'inferred' | 'refused'][] = [
    ['appended', 'verified'],
    ['inserted', 'inferred'],
    ['counts-grown', 'inferred'],
    ['reordered', 'inferred'],
    ['header', 'refused'],
  ];
  for (const [layout, verdict] of cases) {
    test(`${layout}: ${verdict}`, async () => {
      const file = join(dir, `${layout}.json`);
      const { code } = await doctor(['--xnu', '12377.1.9', '--future-layout', layout, '--report', file]);
      assert.equal(code, verdict === 'refused' ? 1 : 0);
      const report = JSON.parse(readFileSync(file, 'utf8')) as LayoutReport;
      assert.equal(report.verdict, verdict);
      assert.equal(report.kernel.version, '12377.1.9');
      assert.equal(report.redacted, true);
      const replayed = await replayReport(report);
      assert.equal(replayed.verdict, verdict, replayed.error);
      if (verdict === 'inferred') assert.deepEqual(replayed.result?.inference?.offsets, report.inference?.offsets);
      if (verdict !== 'refused') {
        assert.ok(report.rounds.length >= 1);
        const bytes = captureBytes(report);
        assert.ok(!has(bytes, WIFI_ADDR), 'other processes\' addresses are redacted');
        assert.ok(!has(bytes, SAFARI), 'other processes\' names are redacted');
      }
    });
  }
  test('--no-redact keeps them; a report is never written over an existing file', async () => {
    const file = join(dir, 'full.json');
    assert.equal((await doctor(['--xnu', '12377.1.9', '--future-layout', 'reordered', '--report', file, '--no-redact'])).code, 0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as LayoutReport;
    assert.equal(report.redacted, false);
    const bytes = captureBytes(report);
    assert.ok(has(bytes, WIFI_ADDR) && has(bytes, SAFARI));
    assert.equal((await replayReport(report)).verdict, 'inferred');
    assert.equal((await doctor(['--xnu', '12377.1.9', '--report', file])).code, 2);
  });
});
