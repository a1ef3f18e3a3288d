/**
 * Opening the real kernel control (macOS only). Native code is loaded here, lazily, never at
 * import time of the package.
 */
import { NtstatError } from '../errors.js';
import type { Dialect } from '../protocol/dialect.js';
import type { Transport } from '../transport/transport.js';

export interface LiveKernel {
  transport: Transport;
  dialect: Dialect;
  receiveBufferSize?: number;
  kernelVersion?: string;
}

export async function openKernelTransport(receiveBufferSize: number): Promise<LiveKernel> {
  if (process.platform !== 'darwin') {
    throw new NtstatError(
      'ERR_NTSTAT_UNSUPPORTED_OS',
      `the kernel statistics control exists only on macOS (this is ${process.platform}); ` +
        `inject a transport (e.g. the simulator: ntstat --simulate) or replay a recording (ntstat replay)`,
    );
  }
  void receiveBufferSize;
  throw new NtstatError('ERR_NTSTAT_NATIVE', 'the Darwin control-socket transport is not built yet');
}
