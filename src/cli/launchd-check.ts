/**
 * What launchd needs of a LaunchAgent property list (launchd.plist(5)), checked before
 * `agent install` writes one, and in the tests on the XML read back with a plist parser. launchd
 * starts jobs with `/` as the working directory and without a login shell's PATH, so the program
 * and every path the agent is given must be absolute. (`launchctl` itself never ran where this was
 * written: no Mac; these are the documented requirements, not observed behaviour.)
 */

const isAbsolute = (v: unknown): boolean => typeof v === 'string' && v.startsWith('/') && !v.includes('\0');

/** Flags of `ntstat agent` whose value is a file path. */
const PATH_FLAGS = new Set(['--db']);

/** Problems with a parsed LaunchAgent dictionary; [] when launchd has everything it needs. */
export function launchAgentProblems(plist: unknown): string[] {
  if (typeof plist !== 'object' || plist === null || Array.isArray(plist)) return ['the plist is not a dictionary'];
  const p = plist as Record<string, unknown>;
  const out: string[] = [];
  if (typeof p.Label !== 'string' || p.Label === '' || p.Label.includes('/')) out.push('Label must be a non-empty string without "/"');
  const args = p.ProgramArguments;
  if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string' && !a.includes('\0'))) {
    out.push('ProgramArguments must be a non-empty array of strings');
  } else {
    if (!isAbsolute(args[0])) out.push(`ProgramArguments[0] (the program) must be an absolute path, not ${JSON.stringify(args[0])}`);
    if (!isAbsolute(args[1])) out.push(`ProgramArguments[1] (the ntstat script) must be an absolute path, not ${JSON.stringify(args[1])}`);
    for (let i = 2; i < args.length; i++) {
      const a = args[i] as string;
      const eq = a.indexOf('=');
      const [flag, value] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, args[i + 1]];
      if (PATH_FLAGS.has(flag) && !isAbsolute(value)) out.push(`${flag} must be an absolute path for launchd (its working directory is /), not ${JSON.stringify(value)}`);
    }
  }
  if (p.RunAtLoad !== true) out.push('RunAtLoad must be true (start at login)');
  if (p.KeepAlive !== true && (typeof p.KeepAlive !== 'object' || p.KeepAlive === null)) out.push('KeepAlive must be true or a dictionary (restart when it exits)');
  if (!isAbsolute(p.StandardErrorPath)) out.push('StandardErrorPath must be an absolute path (the agent logs to stderr)');
  if (p.StandardOutPath !== undefined && !isAbsolute(p.StandardOutPath)) out.push('StandardOutPath must be an absolute path');
  return out;
}
