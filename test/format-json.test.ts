/**
 * `ntstat json` writes its lines without building the schema object (cli/format-json.ts, issue
 * 17). The reference is the schema itself: JSON.stringify(eventToJson(ev, opts)) (model/json.ts).
 * Every line must be the same text: for generated streams with every optional field present or
 * absent, hostile strings (quotes, backslashes, control and non-ASCII characters, lone
 * surrogates), non-finite numbers, and for every event of real clients over the simulator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonLineFormatter } from '../src/cli/format-json.js';
import { eventToJson } from '../src/model/json.js';
import type { StreamEvent } from '../src/model/events.js';
import type { Stream } from '../src/model/stream.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { ALL_PROVIDERS, settle } from './helpers/client-sim.js';

const text = fc.oneof(
  fc.constantFrom('', 'Safari', 'a"b', 'back\\slash', 'tab\there', 'esc\x1b[2J', '\u00e9t\u00e9', '\u2028', '\ud800', 'x\u007f', 'www.example.org'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const number = fc.oneof(fc.integer({ min: -5, max: 1e9 }), fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, 1e21, 1.5e-7));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const endpoint = fc.record({ family: fc.constantFrom(4 as const, 6 as const), address: text, port: number, scopeId: opt(fc.constantFrom(0, 4, 17)) });
const counts = fc.dictionary(
  fc.constantFrom('rxPackets', 'rxBytes', 'txPackets', 'txBytes', 'cellRxBytes', 'wifiTxBytes', 'wiredRxBytes', 'rxDuplicateBytes', 'txRetransmit', 'connectAttempts', 'minRttMs', 'avgRttMs', 'varRttMs', 'notACounter'),
  number,
);

const streamArb = fc
  .record({
    id: text,
    provider: fc.constantFrom('tcp', 'udp', 'quic', 'conn', 'route', 'unknown'),
    userland: fc.boolean(),
    subflow: opt(fc.boolean()),
    family: opt(fc.constantFrom(0, 4, 6)),
    local: opt(endpoint),
    remote: opt(endpoint),
    ifindex: opt(number),
    interface: fc.constantFrom('wifi', 'wired', 'unknown'),
    ifname: opt(text),
    state: opt(text),
    listener: fc.boolean(),
    failed: fc.boolean(),
    direction: opt(fc.constantFrom('inbound', 'outbound')),
    domain: opt(fc.record({ name: text, owner: opt(text), attributedBundleId: opt(text) }, { requiredKeys: ['name'] })),
    pid: opt(number),
    process: opt(text),
    epid: opt(number),
    uuid: opt(text),
    euuid: opt(text),
    counts: opt(counts),
    rxBytesPerSec: opt(number),
    txBytesPerSec: opt(number),
    layout: opt(fc.constantFrom('inferred')),
    descriptor: opt(fc.record({ dst: opt(endpoint), gateway: opt(fc.constantFrom({ family: 'other', saFamily: 18 }, { family: 'other', saFamily: 3 })) })),
  })
  .map((r) => {
    // Absent optional fields are absent keys, as the model builds them (and as often undefined values).
    const s: Record<string, unknown> = { srcref: 1n, providerKind: 'tcp', providerId: 2, firstSeen: 0, lastUpdated: 0, closed: false };
    for (const [k, v] of Object.entries(r)) if (v !== undefined || k.length % 2 === 0) s[k] = v;
    return s as unknown as Stream;
  });

test('a generated event is the same line as the schema object stringified', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(streamArb, fc.constantFrom('added', 'update', 'removed'), fc.constantFrom(0, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_001_000), opt(text)), { minLength: 1, maxLength: 6 }),
      (events) => {
        // One formatter for the whole sequence: its cached time must follow the events' times.
        const f = new JsonLineFormatter();
        for (const [stream, event, time, host] of events) {
          const ev = { event, stream, time } as StreamEvent;
          const opts = host !== undefined ? { remoteHost: host } : {};
          assert.equal(f.format(ev, opts), JSON.stringify(eventToJson(ev, opts)));
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('every event of real clients over the simulator is the same line as the reference', async () => {
  let checked = 0;
  const kinds = new Set<string>();
  for (const [dialect, scenario, root] of [['d4570', 'browser-burst', false], ['d7195', 'churn-10k', false], ['d10002', 'browser-burst', true], ['d10002', 'udp-heavy', false]] as const) {
    const kernel = new SimKernel({ dialect, scenario, seed: 5, scale: 0.3 });
    const sim = kernel.connect({ root });
    const driver = new SimulationDriver(kernel);
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(sim), dialect: kernel.dialect, interval: 0, providers: ALL_PROVIDERS, clock: () => kernel.now, domains: root, requestTimeout: 3000 });
    const f = new JsonLineFormatter();
    for (const kind of ['added', 'update', 'removed'] as const) {
      client.on(kind, (_s: Stream, ev: StreamEvent) => {
        // Formatted when the event fires: the stream object changes afterwards.
        const host = checked % 3 === 0 ? 'host.example' : undefined;
        const opts = host ? { remoteHost: host } : {};
        assert.equal(f.format(ev, opts), JSON.stringify(eventToJson(ev, opts)), `${dialect} ${scenario} ${ev.event} ${ev.stream.id}`);
        kinds.add(`${ev.event}:${ev.stream.provider}`);
        checked++;
      });
    }
    try {
      await client.connect();
      for (let i = 0; i < 6; i++) {
        driver.step(400);
        await settle();
        await client.sweep();
      }
    } finally {
      client.stop();
    }
  }
  assert.ok(checked > 500, `events checked: ${checked}`);
  for (const k of ['added:tcp', 'update:tcp', 'removed:tcp', 'added:udp', 'update:udp']) assert.ok(kinds.has(k), `saw ${k} (${[...kinds].join(' ')})`);
});
