/**
 * better-sqlite3, loaded lazily: it is an optional (native) dependency that only the agent, the
 * usage command and UsageStore need; importing `ntstat` never loads it. Only the part of its API
 * the store uses is typed here.
 */
import { NtstatError } from '../errors.js';

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  close(): void;
  readonly open: boolean;
  readonly inTransaction: boolean;
}

export type SqliteConstructor = new (path: string, options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number }) => SqliteDatabase;

export const SQLITE_PACKAGE = 'better-sqlite3';

let cached: SqliteConstructor | undefined;

/** The better-sqlite3 Database class, or ERR_NTSTAT_DEPENDENCY naming the missing package. */
export async function loadSqlite(): Promise<SqliteConstructor> {
  if (cached) return cached;
  let mod: { default?: SqliteConstructor };
  try {
    // A variable specifier: TypeScript needs no type declarations for an optional package.
    const name: string = SQLITE_PACKAGE;
    mod = (await import(name)) as { default?: SqliteConstructor };
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_DEPENDENCY', `usage history needs the optional package ${SQLITE_PACKAGE} (npm install ${SQLITE_PACKAGE}@12.11.1), which could not be loaded: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  if (typeof mod.default !== 'function') throw new NtstatError('ERR_NTSTAT_DEPENDENCY', `${SQLITE_PACKAGE} did not export a Database class`);
  cached = mod.default;
  return cached;
}
