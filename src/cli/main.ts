/**
 * The `ntstat` command as a function: main(argv, io) -> exit code (0 ok, 1 runtime error,
 * 2 usage error). The bin wrapper only supplies process I/O.
 */
import { NtstatError } from '../errors.js';
import { packageVersion } from '../version.js';
import { COMMAND_HELP, MAIN_HELP } from './help.js';
import type { CliIo } from './io.js';
import { parseCli, type CliOptions } from './options.js';
import { runReplay } from './run-replay.js';

export function unsupportedOsMessage(platform: string): string {
  return (
    `ntstat: live statistics need the macOS kernel (this is ${platform}).\n` +
    `  Try the simulated kernel:   ntstat --simulate   (add --macos 14 or --scenario browser-burst)\n` +
    `  Or replay a recording:      ntstat replay FILE --format libntstat --xnu VERSION\n`
  );
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv, io.env);
  } catch (e) {
    if (e instanceof NtstatError) {
      io.stderr.write(`ntstat: ${e.message}\nRun 'ntstat --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
  if (o.version) {
    io.stdout.write(`ntstat ${packageVersion()}\n`);
    return 0;
  }
  if (o.help) {
    io.stdout.write(argv.some((a) => a in COMMAND_HELP) ? COMMAND_HELP[o.command] : MAIN_HELP);
    return 0;
  }
  try {
    switch (o.command) {
      case 'replay':
        return await runReplay(o, io);
      case 'doctor':
      case 'log':
      case 'json':
      case 'top':
        if (io.platform !== 'darwin' && !o.simulate && !o.socket) {
          io.stderr.write(unsupportedOsMessage(io.platform));
          return 1;
        }
        io.stderr.write(`ntstat: '${o.command}' live sessions are not available in this build yet; use 'ntstat replay'.\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof NtstatError) {
      io.stderr.write(`ntstat: ${e.message}\n`);
      return e.code === 'ERR_NTSTAT_USAGE' ? 2 : 1;
    }
    io.stderr.write(`ntstat: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
