/** Shapes of the generated facts (src/protocol/generated/facts.ts). */

/** [name, absolute offset, size, type, bitMask?] — pre-order over nested union/struct members. */
export type RawField = [string, number, number, string, number?] | (string | number)[];

export interface RawStructLayout {
  size: number;
  align: number;
  pack: number | null;
  fields: RawField[];
}

export interface RawHeaderVersion {
  xnu: string;
  dialect: string;
  tags: string[];
  macosByTag: Record<string, string>;
  revision: number;
  typedefs: Record<string, string>;
  aliases: Record<string, string>;
  /** struct name -> index into STRUCT_LAYOUTS */
  structs: Record<string, number>;
  /** constants that differ from the previous header version */
  constantsSet: Record<string, number | string>;
  constantsRemoved: string[];
}

export interface RawDialect {
  name: string;
  versions: string[];
}

/** A kernel without published sources (REAL-CAPTURES.md): its tables are observed, not from headers. */
export interface RawProvisionalVersion extends Omit<RawHeaderVersion, 'tags' | 'macosByTag'> {
  /** XNU train ('12377'), or '' when no build number of that release is known. Dialect: p26, p27. */
  xnu: string;
  /** macOS major. */
  macos: string;
  /** Darwin major (kern.osrelease). */
  darwin: number;
  /** Where the tables come from. */
  basis: string;
}
