/**
 * Calibration flows for the layout self-test (issue 12): connections whose every fact the client
 * knows. The default maker opens real loopback sockets in this process: a listener on port 0 and
 * a connection to it (TCP), or a connected pair (UDP), then sends exactly `a` bytes one way and
 * `b` bytes the other in several writes and waits until each side has read them all. The kernel
 * then reports the flow like any other; the self-test looks for it by its ports.
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { basename } from 'node:path';
import type { Endpoint } from '../protocol/sockaddr.js';

export interface CalibrationFlowRequest {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  /** Bytes the connecting side sends. */
  a: number;
  /** Bytes the accepting side sends back. */
  b: number;
}

/** One socket of the flow as the kernel should report it. */
export interface CalibrationEndpointFacts {
  local: Endpoint;
  remote: Endpoint;
  rxBytes: number;
  txBytes: number;
}

export interface CalibrationFlowFacts {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  pid: number;
  /** The executable's name as the kernel records it (p_comm / p_name). */
  process: string;
  uid?: number;
  /** Connecting side first, accepting side second. */
  sides: [CalibrationEndpointFacts, CalibrationEndpointFacts];
}

export interface CalibrationFlow {
  facts: CalibrationFlowFacts;
  close(): Promise<void>;
}

/** Makes a calibration flow, or resolves undefined when this kind cannot be made here (no ::1). */
export type CalibrationFlowMaker = (req: CalibrationFlowRequest) => Promise<CalibrationFlow | undefined>;

const host = (family: 4 | 6) => (family === 4 ? '127.0.0.1' : '::1');
const ep = (family: 4 | 6, port: number): Endpoint => ({ family, address: host(family), port });

/** Name of this process as the kernel sees it: the executable's base name. */
export function ownProcessName(): string {
  return basename(process.execPath);
}

function chunks(n: number): Uint8Array[] {
  // Several writes of uneven size (the issue: "several writes").
  const out: Uint8Array[] = [];
  let left = n;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, 97 + ((i * 131) % 400));
    out.push(new Uint8Array(size).fill(0x61 + (i % 26)));
    left -= size;
  }
  return out;
}

function readExactly(sock: Socket, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= n) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
  });
}

async function tcpFlow(family: 4 | 6, a: number, b: number): Promise<CalibrationFlow | undefined> {
  const server = createServer();
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, host(family), () => resolve(true));
  });
  if (!listening) return undefined;
  const lport = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = netConnect({ host: host(family), port: lport });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const peer = await accepted;
  const peerGotAll = readExactly(peer, a);
  const clientGotAll = readExactly(client, b);
  for (const c of chunks(a)) client.write(c);
  for (const c of chunks(b)) peer.write(c);
  await Promise.all([peerGotAll, clientGotAll]);
  const cport = client.localPort!;
  const facts: CalibrationFlowFacts = {
    proto: 'tcp',
    family,
    pid: process.pid,
    process: ownProcessName(),
    sides: [
      { local: ep(family, cport), remote: ep(family, lport), txBytes: a, rxBytes: b },
      { local: ep(family, lport), remote: ep(family, cport), txBytes: b, rxBytes: a },
    ],
  };
  if (typeof process.getuid === 'function') facts.uid = process.getuid();
  return {
    facts,
    close: async () => {
      client.destroy();
      peer.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function udpFlow(family: 4 | 6, a: number, b: number): Promise<CalibrationFlow | undefined> {
  const type = family === 4 ? 'udp4' : 'udp6';
  const s1: UdpSocket = createSocket(type);
  const s2: UdpSocket = createSocket(type);
  const bind = (s: UdpSocket) =>
    new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(0, host(family), () => resolve(true));
    });
  if (!(await bind(s1)) || !(await bind(s2))) {
    s1.close();
    s2.close();
    return undefined;
  }
  const p1 = s1.address().port;
  const p2 = s2.address().port;
  await new Promise<void>((r) => s1.connect(p2, host(family), () => r()));
  await new Promise<void>((r) => s2.connect(p1, host(family), () => r()));
  const receive = (s: UdpSocket, n: number) =>
    new Promise<void>((resolve) => {
      let got = 0;
      s.on('message', (m) => {
        got += m.length;
        if (got >= n) resolve();
      });
    });
  const r2 = receive(s2, a);
  const r1 = receive(s1, b);
  for (const c of chunks(a)) s1.send(c);
  for (const c of chunks(b)) s2.send(c);
  await Promise.all([r1, r2]);
  const facts: CalibrationFlowFacts = {
    proto: 'udp',
    family,
    pid: process.pid,
    process: ownProcessName(),
    sides: [
      { local: ep(family, p1), remote: ep(family, p2), txBytes: a, rxBytes: b },
      { local: ep(family, p2), remote: ep(family, p1), txBytes: b, rxBytes: a },
    ],
  };
  if (typeof process.getuid === 'function') facts.uid = process.getuid();
  return {
    facts,
    close: async () => {
      s1.close();
      s2.close();
    },
  };
}

/** Real loopback flows in this process (the default maker; works wherever sockets do). */
export const loopbackFlowMaker: CalibrationFlowMaker = async (req) => {
  try {
    return req.proto === 'tcp' ? await tcpFlow(req.family, req.a, req.b) : await udpFlow(req.family, req.a, req.b);
  } catch {
    return undefined; // e.g. no IPv6 loopback: that kind of flow cannot be made here
  }
};
