/** Chooses the kernel for live commands: the real one, the simulator, or a Unix socket. */
import { NtstatError } from '../errors.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import type { LiveSource } from './run-live.js';

export async function defaultSourceFactory(o: CliOptions, _io: CliIo): Promise<LiveSource> {
  if (o.simulate) {
    const { simulatedSource } = await import('./source-simulator.js');
    return simulatedSource(o);
  }
  if (o.socket) {
    const { socketSource } = await import('./source-socket.js');
    return socketSource(o);
  }
  if (o.xnu !== undefined || o.macos !== undefined) {
    throw new NtstatError('ERR_NTSTAT_USAGE', '--xnu/--macos apply to --simulate, --socket and replay; the live kernel reports its own version');
  }
  // The machine's own interfaces, from if_nameindex() (koffi loads at the first lookup).
  const { listInterfaces } = await import('../transport/ifnames.js');
  const { InterfaceNames } = await import('../model/interface-names.js');
  return { interfaceNames: new InterfaceNames(() => listInterfaces()) };
}
