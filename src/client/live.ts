/**
 * Opening the real kernel control (macOS only). Native code is loaded here, lazily, never at
 * import time of the package.
 */
import { NtstatError } from '../errors.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import type { Transport } from '../transport/transport.js';
import { InterfaceNames } from '../model/interface-names.js';

export interface LiveKernel {
  transport: Transport;
  dialect: Dialect;
  receiveBufferSize?: number;
  /** kern.version of the running kernel. */
  kernelVersion?: string;
  /** sysctl net.stats.stats nstat_flush_accumulated_msgs_failures (global), for loss.ts. */
  flushFailures?: () => number | undefined;
  /** The machine's interfaces from if_nameindex(), re-read when a flow names an unknown index. */
  interfaceNames?: InterfaceNames;
}

/** The dialect of the running kernel: kern.version carries the xnu build; else the macOS/Darwin release. */
export function dialectForKernel(v: { version: string; osrelease: string; osproductversion?: string }): Dialect {
  if (/xnu-\d/.test(v.version)) return dialectFor(v.version);
  if (v.osproductversion) return dialectFor(v.osproductversion, 'macos');
  return dialectFor(v.osrelease, 'darwin');
}

export async function openKernelTransport(receiveBufferSize: number): Promise<LiveKernel> {
  if (process.platform !== 'darwin') {
    throw new NtstatError(
      'ERR_NTSTAT_UNSUPPORTED_OS',
      `the kernel statistics control exists only on macOS (this is ${process.platform}); ` +
        `inject a transport (e.g. the simulator: ntstat --simulate) or replay a recording (ntstat replay)`,
    );
  }
  const { openDarwinControlSocket, readKernelVersion, readNstatFlushFailures } = await import('../transport/darwin.js');
  const { loadLibc } = await import('../transport/libc.js');
  const libc = loadLibc();
  const version = readKernelVersion(libc);
  const dialect = dialectForKernel(version);
  const transport = openDarwinControlSocket({ libc, receiveBufferSize });
  const { listInterfaces } = await import('../transport/ifnames.js');
  const interfaceNames = new InterfaceNames(() => listInterfaces());
  const live: LiveKernel = { transport, dialect, kernelVersion: version.version, flushFailures: () => readNstatFlushFailures(libc), interfaceNames };
  if (transport.receiveBufferSize !== undefined) live.receiveBufferSize = transport.receiveBufferSize;
  return live;
}
