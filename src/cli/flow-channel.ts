/**
 * How `ntstat serve` learns the layout self-test's flows (issue 12). A server that watches the
 * machine's real sockets (a kernel, a relay from a Mac) sees the client's loopback connection
 * by itself; the simulated kernel behind `serve` cannot, so it also listens on `PATH.flows` (a
 * Unix stream socket) where a `--socket PATH` client describes each calibration flow it made: one
 * JSON line of facts, answered "ok" once the simulated world holds the flow; the flow's sockets
 * close when that connection does. Simulator only: absent elsewhere, and then nothing is sent.
 * The same channel answers `{"interfaces":true}` with the simulated machine's interface table
 * (interface-channel.ts), since the protocol itself names no interface of a flow.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { loopbackFlowMaker, type CalibrationFlowFacts, type CalibrationFlowMaker } from '../client/calibration-flow.js';
import { injectCalibrationFlow, worldInterfaceTable, type SimKernel } from '../simulator/index.js';

export const flowChannelPath = (socketPath: string) => `${socketPath}.flows`;

const MAX_LINE = 4096;

/** `{"interfaces":true}`: a client asking for the interface table instead of announcing a flow. */
export function isInterfaceQuery(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { interfaces?: unknown }).interfaces === true;
}

function validFacts(v: unknown): v is CalibrationFlowFacts {
  const f = v as CalibrationFlowFacts;
  const ep = (e: unknown) => {
    const x = e as { family?: unknown; address?: unknown; port?: unknown };
    return !!x && (x.family === 4 || x.family === 6) && (x.address === '127.0.0.1' || x.address === '::1') && Number.isInteger(x.port) && (x.port as number) > 0 && (x.port as number) < 65536;
  };
  return (
    !!f &&
    (f.proto === 'tcp' || f.proto === 'udp') &&
    (f.family === 4 || f.family === 6) &&
    Number.isInteger(f.pid) &&
    f.pid > 0 &&
    typeof f.process === 'string' &&
    f.process.length > 0 &&
    f.process.length <= 64 &&
    Array.isArray(f.sides) &&
    f.sides.length === 2 &&
    f.sides.every((s) => ep(s.local) && ep(s.remote) && Number.isInteger(s.rxBytes) && Number.isInteger(s.txBytes) && s.rxBytes >= 0 && s.txBytes >= 0 && s.rxBytes < 2 ** 32 && s.txBytes < 2 ** 32)
  );
}

/** Serve the channel for `kernel`; only loopback flows with sane facts are accepted. */
export function listenFlowChannel(socketPath: string, kernel: SimKernel): Server {
  const path = flowChannelPath(socketPath);
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((conn) => {
    let buf = '';
    let close: (() => void) | undefined;
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) return conn.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0 || close) return;
      let facts: unknown;
      try {
        facts = JSON.parse(buf.slice(0, nl));
      } catch {
        return conn.destroy();
      }
      // The other question on this channel: the simulated machine's interfaces (interface-channel.ts).
      if (isInterfaceQuery(facts)) return void conn.end(`${JSON.stringify({ interfaces: worldInterfaceTable(kernel.world) })}\n`);
      if (!validFacts(facts)) return conn.destroy();
      close = injectCalibrationFlow(kernel.world, facts);
      conn.write('ok\n');
    });
    conn.on('close', () => close?.());
    conn.on('error', () => undefined);
  });
  server.listen(path);
  server.on('close', () => {
    if (existsSync(path)) unlinkSync(path);
  });
  return server;
}

/** The client side: real loopback flows, described to `PATH.flows` when a simulator listens there. */
export function announcingFlowMaker(socketPath: string): CalibrationFlowMaker {
  const path = flowChannelPath(socketPath);
  return async (req) => {
    const flow = await loopbackFlowMaker(req);
    if (!flow || !existsSync(path)) return flow;
    const conn = connect(path);
    conn.on('error', () => undefined);
    const told = await new Promise<boolean>((resolve) => {
      conn.once('error', () => resolve(false));
      conn.once('data', (d) => resolve(String(d).startsWith('ok')));
      conn.write(`${JSON.stringify(flow.facts)}\n`);
    });
    if (!told) conn.destroy();
    return {
      facts: flow.facts,
      close: async () => {
        conn.destroy();
        await flow.close();
      },
    };
  };
}
