/**
 * The simulated world learns a calibration flow (issue 12): a real loopback connection the client
 * made and measured, entered into the world as kernel sockets with the same ports, owner and byte
 * counts, so the simulated kernel reports it like any other flow. (A real kernel simply sees the
 * sockets; the simulator has to be told.)
 */
import type { Endpoint } from '../../protocol/index.js';
import { TCPS, type KernelSocket, type NetInterface } from './entities.js';
import type { World } from './world.js';

/** The facts of a flow (structurally the client's CalibrationFlowFacts). */
export interface InjectedFlow {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  pid: number;
  process: string;
  uid?: number;
  sides: readonly { local: Endpoint; remote: Endpoint; rxBytes: number; txBytes: number }[];
}

function loopback(world: World): NetInterface {
  for (const ifp of world.interfaces.values()) if (ifp.kind === 'loopback') return ifp;
  // lo0 is always the first interface attached on Darwin (ifindex 1).
  return world.addInterface({ ifindex: 1, name: 'lo0', kind: 'loopback', description: 'loopback', v4: '127.0.0.1', v6: '::1' });
}

/** Enter the flow; returns a function that closes its sockets. */
export function injectCalibrationFlow(world: World, flow: InjectedFlow): () => void {
  const lo0 = loopback(world);
  const proc = world.spawn(flow.process, { pid: flow.pid, uid: flow.uid ?? 501 });
  const [a, b] = flow.sides;
  const sockets: KernelSocket[] = [];
  if (flow.proto === 'tcp') {
    const listener = world.tcpSocket(proc, flow.family);
    world.tcpListen(listener, b.local);
    const client = world.tcpSocket(proc, flow.family);
    world.tcpConnect(client, a.remote, lo0, 0.1);
    client.local = a.local; // the port the real connection got
    const server = world.tcpAccept(listener, a.local, lo0, 0.1);
    world.tcpSetState(client, TCPS.ESTABLISHED);
    world.tcpSetState(server, TCPS.ESTABLISHED);
    world.transfer(client, a.rxBytes, a.txBytes);
    world.transfer(server, b.rxBytes, b.txBytes);
    sockets.push(client, server, listener);
    return () => sockets.forEach((s) => world.tcpClose(s));
  }
  for (const side of [a, b]) {
    const s = world.udpSocket(proc, flow.family);
    world.udpBind(s, side.local);
    world.udpConnect(s, side.remote, lo0);
    world.transfer(s, side.rxBytes, side.txBytes);
    sockets.push(s);
  }
  return () => sockets.forEach((s) => world.udpClose(s));
}
