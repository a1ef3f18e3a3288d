/** What the CLI needs from its environment, injectable so `main(argv, io)` is testable in-process. */
export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number; rows?: number };
  stderr: { write(chunk: string): unknown };
  /** Bytes for stdout (UTF-8), when it takes them (the log view encodes lines itself); else text goes to `stdout.write`. */
  writeBytes?(chunk: Uint8Array): unknown;
  /** Keyboard input for `top` (a TTY in raw mode when available). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  /** Subscribe to terminal resizes; returns an unsubscribe function. */
  onResize?(cb: () => void): () => void;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** Aborted on SIGINT/SIGTERM by the bin wrapper; live commands stop promptly. */
  signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    writeBytes: (chunk) => process.stdout.write(chunk),
    stdin: process.stdin,
    env: process.env,
    platform: process.platform,
    onResize(cb) {
      process.stdout.on('resize', cb);
      return () => process.stdout.off('resize', cb);
    },
  };
  if (signal) io.signal = signal;
  return io;
}
