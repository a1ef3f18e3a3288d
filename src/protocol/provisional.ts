/**
 * Provisional dialects: kernels Apple has published no source for (macOS 26 = Darwin 25 =
 * xnu-12377.x; macOS 27 = Darwin 26). Their tables are data like every other dialect's
 * (generated from ../shared/xnu/ntstat-layouts-newer.json and the real macOS 27 capture,
 * REAL-CAPTURES.md), but observed, not from Apple's headers: they are always `verified: false`,
 * decoded with tolerant framing, and the client's layout self-test decides at run time.
 */
import type { RawProvisionalVersion } from './facts-types.js';
import { PROVISIONAL_VERSIONS } from './generated/facts.js';
import type { ConstantValue, Dialect, StructLayout } from './dialect.js';

export interface ProvisionalInfo {
  /** macOS major ('26', '27'). */
  readonly macos: string;
  /** Darwin major (kern.osrelease). */
  readonly darwin: number;
  /** XNU train ('12377'), absent when no build of the release is known. */
  readonly xnuTrain?: string;
  /** Where the tables come from. */
  readonly basis: string;
}

export interface ProvisionalDeps {
  newest: Dialect;
  structFor(name: string, idx: number): StructLayout;
  parseConstant(v: number | string): ConstantValue;
}

function build(v: RawProvisionalVersion, deps: ProvisionalDeps): Dialect {
  const constants: Record<string, ConstantValue> = { ...deps.newest.constants };
  for (const k of v.constantsRemoved) delete constants[k];
  for (const [k, val] of Object.entries(v.constantsSet)) constants[k] = deps.parseConstant(val);
  const structs = new Map<string, StructLayout>();
  for (const [name, idx] of Object.entries(v.structs)) structs.set(name, deps.structFor(name, idx));
  for (const [alias, target] of Object.entries(v.aliases)) {
    const t = structs.get(target);
    if (t) structs.set(alias, t);
  }
  const provisional: ProvisionalInfo = v.xnu
    ? { macos: v.macos, darwin: v.darwin, xnuTrain: v.xnu, basis: v.basis }
    : { macos: v.macos, darwin: v.darwin, basis: v.basis };
  return {
    family: v.dialect,
    xnu: v.xnu,
    tags: [],
    macos: v.macos,
    macosByTag: {},
    revision: v.revision,
    srcrefSize: deps.newest.srcrefSize,
    hasLength: deps.newest.hasLength,
    constants,
    structs,
    verified: false,
    provisional,
    warning: `macOS ${v.macos} (Darwin ${v.darwin}${v.xnu ? `, xnu-${v.xnu}.x` : ''}) has no published ntstat header; using its provisional layout (observed, not from headers: ${v.basis}), unverified`,
  };
}

let cache: Dialect[] | undefined;
/** The provisional dialects, oldest first (p26, p27). */
export function provisionalDialects(deps: ProvisionalDeps): readonly Dialect[] {
  if (!cache) cache = PROVISIONAL_VERSIONS.map((v) => build(v, deps));
  return cache;
}
