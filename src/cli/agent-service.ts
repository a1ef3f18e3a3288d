/**
 * `ntstat agent install | uninstall | status`: the agent as a per-user LaunchAgent on macOS
 * (~/Library/LaunchAgents, `launchctl bootstrap gui/UID`, KeepAlive, a log file, the flags given
 * to `install`). Elsewhere there is no launchd: the equivalent systemd user unit is printed and
 * nothing is installed. `--dry-run` prints the plist instead of installing it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NtstatError } from '../errors.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import { escapeTerminal } from './escape.js';
import { launchAgentProblems } from './launchd-check.js';

export const AGENT_LABEL = 'org.ntstat.agent';

export interface ServiceSpec {
  /** node, the ntstat bin script, then `agent` and the flags. */
  programArguments: string[];
  logPath: string;
}

/** The flags `install` was given, minus the subcommand and --dry-run, for the service to run with. */
export function serviceFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  let skippedCommand = false;
  let skippedSub = false;
  for (const a of argv) {
    if (!skippedCommand && a === 'agent') {
      skippedCommand = true;
      continue;
    }
    if (!skippedSub && (a === 'install' || a === 'uninstall' || a === 'status')) {
      skippedSub = true;
      continue;
    }
    if (a === '--dry-run') continue;
    out.push(a);
  }
  return out;
}

export function serviceSpec(flags: readonly string[], home: string, binPath: string, nodePath: string, platform: NodeJS.Platform): ServiceSpec {
  const logPath = platform === 'darwin' ? `${home}/Library/Logs/ntstat/agent.log` : `${home}/.local/state/ntstat/agent.log`;
  return { programArguments: [nodePath, binPath, 'agent', ...flags], logPath };
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The LaunchAgent's keys, as launchd reads them (launchd-check.ts says what it needs). */
export function launchAgentDict(spec: ServiceSpec): Record<string, string | boolean | string[]> {
  return {
    Label: AGENT_LABEL,
    ProgramArguments: spec.programArguments,
    RunAtLoad: true,
    KeepAlive: true,
    ProcessType: 'Background',
    StandardOutPath: spec.logPath,
    StandardErrorPath: spec.logPath,
  };
}

function plistValue(v: string | boolean | string[]): string {
  if (typeof v === 'boolean') return `\t<${v}/>`;
  if (typeof v === 'string') return `\t<string>${xml(v)}</string>`;
  return `\t<array>\n${v.map((a) => `\t\t<string>${xml(a)}</string>`).join('\n')}\n\t</array>`;
}

/** launchd property list (XML) for the LaunchAgent. */
export function launchAgentPlist(spec: ServiceSpec): string {
  const body = Object.entries(launchAgentDict(spec)).map(([k, v]) => `\t<key>${xml(k)}</key>\n${plistValue(v)}`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
${body}
</dict>
</plist>
`;
}

/** --db PATH as an absolute path: launchd and systemd start the agent in another directory. */
function absoluteFlags(flags: readonly string[]): string[] {
  return flags.map((a, i) => (flags[i - 1] === '--db' && !a.startsWith('-') ? resolve(a) : a.startsWith('--db=') ? `--db=${resolve(a.slice(5))}` : a));
}

/** systemd quoting for ExecStart: double quotes, backslash escapes, `%` doubled (specifiers). */
function systemdQuote(a: string): string {
  return `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\n/g, '\\n')}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  return `# ~/.config/systemd/user/ntstat-agent.service  (systemctl --user enable --now ntstat-agent)
[Unit]
Description=ntstat agent: per-app network usage history

[Service]
ExecStart=${spec.programArguments.map(systemdQuote).join(' ')}
Restart=always
RestartSec=5
StandardOutput=append:${spec.logPath}
StandardError=append:${spec.logPath}

[Install]
WantedBy=default.target
`;
}

function binPath(): string {
  // dist/cli/agent-service.js -> dist/cli/bin.js (resolved, so the service survives `npm link` moves).
  const p = join(dirname(fileURLToPath(import.meta.url)), 'bin.js');
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function launchctl(args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('launchctl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, out: err.stderr || err.message };
  }
}

export async function runAgentService(sub: 'install' | 'uninstall' | 'status', o: CliOptions, io: CliIo, argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const home = io.env.HOME ?? homedir();
  const spec = serviceSpec(absoluteFlags(serviceFlags(argv)), home, binPath(), process.execPath, io.platform);
  if (io.platform !== 'darwin') {
    io.stdout.write(`# no launchd on ${io.platform}: nothing was installed. The equivalent systemd user unit:\n${systemdUnit(spec)}`);
    return 0;
  }
  const plistPath = `${home}/Library/LaunchAgents/${AGENT_LABEL}.plist`;
  const uid = process.getuid?.() ?? 0;
  const target = `gui/${uid}/${AGENT_LABEL}`;
  switch (sub) {
    case 'install': {
      const problems = launchAgentProblems(launchAgentDict(spec));
      if (problems.length > 0) throw new NtstatError('ERR_NTSTAT_USAGE', `the LaunchAgent would not start: ${problems.join('; ')}`);
      const plist = launchAgentPlist(spec);
      if (o.extra['dry-run']) {
        io.stdout.write(plist);
        return 0;
      }
      mkdirSync(dirname(plistPath), { recursive: true });
      mkdirSync(dirname(spec.logPath), { recursive: true });
      launchctl(['bootout', target]); // an older installation, if any
      writeFileSync(plistPath, plist);
      const r = launchctl(['bootstrap', `gui/${uid}`, plistPath]);
      if (!r.ok) throw new NtstatError('ERR_NTSTAT_TRANSPORT', `launchctl bootstrap failed: ${r.out.trim()}`);
      io.stdout.write(`installed ${escapeTerminal(plistPath)} and started ${AGENT_LABEL}; log: ${escapeTerminal(spec.logPath)}\n`);
      return 0;
    }
    case 'uninstall': {
      const r = launchctl(['bootout', target]);
      const had = existsSync(plistPath);
      rmSync(plistPath, { force: true });
      io.stdout.write(had || r.ok ? `stopped and removed ${AGENT_LABEL}\n` : `${AGENT_LABEL} was not installed\n`);
      return 0;
    }
    case 'status': {
      const r = launchctl(['print', target]);
      if (!r.ok) {
        io.stdout.write(`${AGENT_LABEL}: not loaded${existsSync(plistPath) ? ` (plist present: ${escapeTerminal(plistPath)})` : ''}\n`);
        return 1;
      }
      const state = /^\s*state = (.*)$/m.exec(r.out)?.[1] ?? 'unknown';
      const pid = /^\s*pid = (\d+)$/m.exec(r.out)?.[1];
      io.stdout.write(`${AGENT_LABEL}: ${state}${pid ? `, pid ${pid}` : ''}; log: ${escapeTerminal(spec.logPath)}\n`);
      return 0;
    }
  }
}
