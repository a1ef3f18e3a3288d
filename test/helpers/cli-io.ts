/** An in-process CliIo: captured stdout/stderr, not a terminal unless asked. */
import type { CliIo } from '../../src/cli/io.js';

export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

export function captureIo(opts: { env?: Record<string, string>; signal?: AbortSignal; onWrite?: (chunk: string) => void } = {}): CapturedIo {
  let out = '';
  let err = '';
  const io: CapturedIo = {
    stdout: {
      write(c: string) {
        out += c;
        opts.onWrite?.(c);
        return true;
      },
    },
    stderr: {
      write(c: string) {
        err += c;
        return true;
      },
    },
    env: { TZ: 'UTC', ...(opts.env ?? {}) },
    platform: 'linux',
    out: () => out,
    err: () => err,
  };
  if (opts.signal) io.signal = opts.signal;
  return io;
}
