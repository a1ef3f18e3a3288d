/**
 * The `ntstat` command as a function: main(argv, io) -> exit code (0 ok, 1 runtime error,
 * 2 usage error). The bin wrapper only supplies process I/O.
 */
import { NtstatError } from '../errors.js';
import { packageVersion } from '../version.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import { unsupportedOsMessage } from './messages.js';
import { defaultSourceFactory } from './sources.js';

// Each command's module (and the client, model, simulator behind it) is imported when that
// command runs, so `ntstat --help` loads only the option parser and `ntstat --version` alone
// not even that (the parser checks --xnu against the layout tables, ~20 ms to load; issue 17).

/** Exit status after a signal, as shells report it: 128 + the signal number. */
export function signalExitCode(reason: unknown): number | undefined {
  if (reason === 'SIGINT') return 130;
  if (reason === 'SIGTERM') return 143;
  return undefined;
}

/**
 * Commands a person stops with Ctrl-C (views of a stream): stopped by a signal, they exit
 * 128 + signal as shells expect. Services (serve, agent) stopped by SIGTERM stop cleanly: 0.
 */
const VIEWS = new Set(['log', 'json', 'top', 'replay']);

export async function main(argv: string[], io: CliIo): Promise<number> {
  // The same answer the parser gives for these argv, without loading it.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`ntstat ${packageVersion()}\n`);
    return 0;
  }
  const ran: { command?: string } = {};
  const code = await run(argv, io, ran);
  // Stopped by Ctrl-C or SIGTERM (the bin wrapper aborts io.signal with the signal's name).
  if (code === 0 && io.signal?.aborted && ran.command !== undefined && VIEWS.has(ran.command)) return signalExitCode(io.signal.reason) ?? code;
  return code;
}

async function run(argv: string[], io: CliIo, ran: { command?: string }): Promise<number> {
  let o: CliOptions;
  const { parseCli } = await import('./options.js');
  try {
    // agent and usage parse their own flags too (the command must come first for those).
    const agentLike = argv[0] === 'agent' || argv[0] === 'web';
    const extra = agentLike ? (await import('./agent.js')).AGENT_OPTIONS : argv[0] === 'usage' ? (await import('./usage.js')).USAGE_OPTIONS : {};
    o = parseCli(agentLike ? (await import('./web.js')).bareListen(argv) : argv, io.env, extra);
  } catch (e) {
    if (e instanceof NtstatError) {
      io.stderr.write(`ntstat: ${e.message}\nRun 'ntstat --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
  ran.command = o.command;
  if (o.version) {
    io.stdout.write(`ntstat ${packageVersion()}\n`);
    return 0;
  }
  if (o.help) {
    const { COMMAND_HELP, MAIN_HELP } = await import('./help.js');
    io.stdout.write(argv.some((a) => a in COMMAND_HELP) ? COMMAND_HELP[o.command] : MAIN_HELP);
    return 0;
  }
  try {
    switch (o.command) {
      case 'replay': {
        const { runReplay } = await import('./run-replay.js');
        return await runReplay(o, io);
      }
      case 'doctor': {
        const { runDoctor } = await import('./doctor.js');
        return await runDoctor(o, io);
      }
      case 'serve': {
        const { runServe } = await import('./serve.js');
        return await runServe(o, io);
      }
      case 'agent': {
        if (io.platform !== 'darwin' && !o.simulate && !o.socket && o.positionals.length === 0) {
          io.stderr.write(unsupportedOsMessage(io.platform));
          return 1;
        }
        const { runAgent } = await import('./agent.js');
        return await runAgent(o, io, defaultSourceFactory);
      }
      case 'web': {
        // The agent with its dashboard on a free loopback port (src/cli/web.ts).
        if (io.platform !== 'darwin' && !o.simulate && !o.socket) {
          io.stderr.write(unsupportedOsMessage(io.platform));
          return 1;
        }
        const { runWeb } = await import('./web.js');
        return await runWeb(o, io, defaultSourceFactory);
      }
      case 'usage': {
        const { runUsage } = await import('./usage.js');
        return await runUsage(o, io);
      }
      case 'log':
      case 'json':
      case 'top':
        if (io.platform !== 'darwin' && !o.simulate && !o.socket) {
          io.stderr.write(unsupportedOsMessage(io.platform));
          return 1;
        }
        if (o.command === 'top') {
          const { runTop } = await import('./top.js');
          return await runTop(o, io, defaultSourceFactory);
        }
        const { runEventView } = await import('./run-live.js');
        return await runEventView(o, io, defaultSourceFactory);
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
