/**
 * `ntstat serve --socket PATH`: a simulated kernel served over a Unix datagram socket, for
 * `--socket` clients (ntstat itself, or another implementation under test). One client per run,
 * as one kernel-control connection.
 */
import { NtstatError } from '../errors.js';
import { SendError } from '../simulator/index.js';
import { serveSimulatorOverFd } from '../simulator/fd-server.js';
import { FdEndpoint } from '../transport/socketpair.js';
import { listenUnixDatagram } from '../transport/unix.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import { simulatedKernel } from './source-simulator.js';
import { listenFlowChannel } from './flow-channel.js';

export async function runServe(o: CliOptions, io: CliIo): Promise<number> {
  if (!o.socket) throw new NtstatError('ERR_NTSTAT_USAGE', 'serve needs --socket PATH');
  const sk = simulatedKernel(o);
  const listener = listenUnixDatagram(o.socket);
  // The layout self-test's flows reach the simulated world through PATH.flows (flow-channel.ts).
  const flows = listenFlowChannel(o.socket, sk.kernel);
  io.stderr.write(sk.banner);
  io.stderr.write(`ntstat: serving on ${o.socket} (give clients --socket ${o.socket} --xnu ${sk.label}); waiting for a client\n`);
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new NtstatError('ERR_NTSTAT_CLOSED', 'stopped'));
    if (io.signal?.aborted) fail();
    io.signal?.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    const { fd, first } = await Promise.race([listener.accept(), aborted]);
    const sim = sk.kernel.connect({ root: false });
    try {
      sim.send(first);
    } catch (e) {
      if (!(e instanceof SendError)) throw e;
    }
    const server = serveSimulatorOverFd(sim, new FdEndpoint(fd));
    sk.driver.startRealtime();
    let timer: NodeJS.Timeout | undefined;
    if (o.duration !== undefined) timer = setTimeout(() => server.close(), o.duration * 1000);
    io.signal?.addEventListener('abort', () => server.close(), { once: true });
    await server.closed;
    if (timer) clearTimeout(timer);
    sk.driver.stop();
    io.stderr.write(`ntstat: client gone after ${server.stats.requests} requests, ${server.stats.recordsSent} records\n`);
    return 0;
  } catch (e) {
    if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_CLOSED') return 0;
    throw e;
  } finally {
    listener.close();
    flows.close();
  }
}
