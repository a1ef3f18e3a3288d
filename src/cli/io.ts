/** What the CLI needs from its environment, injectable so `main(argv, io)` is testable in-process. */
export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number; rows?: number };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** Aborted on SIGINT/SIGTERM by the bin wrapper; live commands stop promptly. */
  signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, platform: process.platform };
  if (signal) io.signal = signal;
  return io;
}
