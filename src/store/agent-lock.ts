/**
 * One recording agent per database. The lock is a small SQLite file next to the database held in
 * exclusive locking mode: SQLite's file locks belong to the process, so the OS releases them when
 * the agent dies (kill -9 leaves no stale lock, unlike a pid file), and readers of the usage
 * database itself are never blocked.
 */
import { NtstatError } from '../errors.js';
import type { SqliteConstructor, SqliteDatabase } from './sqlite.js';

export interface AgentLock {
  release(): void;
}

export function acquireAgentLock(Database: SqliteConstructor, dbPath: string): AgentLock {
  const lockPath = `${dbPath}.lock`;
  let db: SqliteDatabase;
  try {
    db = new Database(lockPath, { timeout: 0 });
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_STORE', `cannot open ${lockPath}: ${(e as Error).message}`, { cause: e });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in this mode it is kept until the connection closes.
    db.exec(`CREATE TABLE IF NOT EXISTS agent (pid INTEGER, started INTEGER); DELETE FROM agent; INSERT INTO agent VALUES (${process.pid}, ${Date.now()})`);
  } catch (e) {
    db.close();
    const busy = /locked|busy/i.test((e as Error).message) || (e as { code?: string }).code === 'SQLITE_BUSY';
    if (busy) throw new NtstatError('ERR_NTSTAT_BUSY', `another ntstat agent is already recording to ${dbPath}; stop it first (or give this one --db PATH or --no-db)`);
    throw new NtstatError('ERR_NTSTAT_STORE', `cannot lock ${lockPath}: ${(e as Error).message}`, { cause: e });
  }
  return {
    release() {
      if (db.open) db.close();
    },
  };
}
