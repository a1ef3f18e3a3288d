/**
 * Robustness: arbitrary datagrams and request sequences never crash the simulated kernel. send()
 * either succeeds or fails like send(2) (SendError with EMSGSIZE/EINVAL/ENOBUFS); every queued
 * record decodes; the queue never exceeds its high-water mark; srcrefs stay unique.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeDatagram, encodeRequest, srcrefAll, type Request } from '../src/protocol/index.js';
import { SendError } from '../src/simulator/index.js';
import { FAMILIES, Probe } from './simulator-harness.js';

const ALLOWED = new Set([40, 22, 55]);

test('random bytes as requests: send() succeeds or fails like send(2), records always decode [every family]', () => {
  for (const d of FAMILIES) {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 2100 }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 1010 }), { maxLength: 30 }), (datagrams, types) => {
        const p = Probe.for(d, { scenario: 'idle-laptop', seed: 3 });
        datagrams.forEach((dg, i) => {
          // Make many of them look like real request types, with matching or lying lengths.
          if (dg.length >= 16 && i < types.length) {
            const dv = new DataView(dg.buffer, dg.byteOffset);
            dv.setUint32(8, 1000 + (types[i] % 10), true);
          }
          try {
            p.sim.send(dg);
          } catch (e) {
            assert.ok(e instanceof SendError, String(e));
            assert.ok(ALLOWED.has(e.errno), `errno ${e.errno}`);
          }
          assert.ok(p.sim.queuedBytes <= p.sim.receiveBufferSize);
        });
        for (let r = p.sim.recv(); r; r = p.sim.recv()) decodeDatagram(r.data, p.d);
      }),
      { numRuns: 40, seed: 0x51a7 },
    );
  }
});

test('random valid request sequences with time passing keep the kernel consistent [d3247, d4570, d10002]', () => {
  for (const fam of ['d3247', 'd4570', '11215.61.5']) {
    const reqArb = fc.oneof(
      fc.record({ kind: fc.constant('addAllSrcs' as const), provider: fc.integer({ min: 0, max: 11 }), filter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), events: fc.bigInt({ min: 0n, max: 0xffffn }) }),
      fc.record({ kind: fc.constantFrom('querySrc' as const, 'getSrcDesc' as const, 'getUpdate' as const, 'remSrc' as const), srcref: fc.oneof(fc.constant(-1n), fc.bigInt({ min: 0n, max: 400n })), flags: fc.integer({ min: 0, max: 3 }), ctx: fc.bigInt({ min: 0n, max: 5n }) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
      fc.record({ kind: fc.constant('read' as const), n: fc.integer({ min: 0, max: 50 }), buf: fc.integer({ min: 16, max: 70000 }) }),
    );
    fc.assert(
      fc.property(fc.array(reqArb, { maxLength: 40 }), (ops) => {
        const p = Probe.for(fam, { scenario: 'browser-burst', seed: 9, scale: 0.2, root: true });
        const seen = new Set<bigint>();
        for (const op of ops) {
          if (op.kind === 'advance') p.sim.advance(op.ms);
          else if (op.kind === 'read') {
            for (let i = 0; i < op.n; i++) {
              const r = p.sim.recv(op.buf);
              if (!r) break;
              if (r.truncated) continue;
              for (const m of decodeDatagram(r.data, p.d)) {
                if (m.kind === 'srcAdded') {
                  assert.ok(!seen.has(m.srcref), `srcref ${m.srcref} announced twice`);
                  seen.add(m.srcref);
                }
              }
            }
          } else {
            let req: Request;
            if (op.kind === 'addAllSrcs') {
              const filter = p.d.srcrefSize === 4 ? op.filter & 0xffffffffn : op.filter;
              req = { kind: 'addAllSrcs', context: 1n, flags: 0, provider: op.provider, filter, events: p.d.srcrefSize === 4 ? 0n : op.events, targetPid: 0 };
            } else {
              req = { kind: op.kind, context: op.ctx, flags: op.flags, srcref: op.srcref < 0n ? srcrefAll(p.d) : op.srcref };
            }
            try {
              p.sim.send(encodeRequest(p.d, req));
            } catch (e) {
              assert.ok(e instanceof SendError && e.errno === 55, String(e));
            }
          }
          assert.ok(p.sim.queuedBytes <= p.sim.receiveBufferSize);
          const truth = p.sim.groundTruth({ descriptors: false, counts: false });
          for (const ref of truth.sources.keys()) assert.ok(!truth.removedSrcrefs.has(ref));
        }
      }),
      { numRuns: 60, seed: 0xc0de },
    );
  }
});
