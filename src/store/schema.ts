/**
 * The usage database's schema, versioned with `PRAGMA user_version` and upgraded by migrations
 * (each one transaction). A database from a newer ntstat is refused rather than guessed at.
 *
 * Times: `hour` = hours since the Unix epoch (UTC), `day` = days since the epoch (UTC), ms elsewhere.
 * Absent pid is stored as -1 and absent app as '' so the dimensions' UNIQUE constraint holds
 * (SQLite treats NULLs as distinct there).
 */
import { NtstatError } from '../errors.js';
import type { SqliteDatabase } from './sqlite.js';

/**
 * A migration: SQL run in one transaction with the version bump, or a step that cannot run in a
 * transaction (VACUUM) and bumps the version itself.
 */
type Migration = string | { outsideTransaction: true; run(db: SqliteDatabase, version: number): void };

const MIGRATIONS: readonly Migration[] = [
  // 1: usage per minute (packed per hour, see minute-pack.ts), hour and day; flow log; open flows.
  `
  CREATE TABLE dims (
    id INTEGER PRIMARY KEY,
    process TEXT NOT NULL,
    pid INTEGER NOT NULL,
    app TEXT NOT NULL,
    ifname TEXT NOT NULL,
    ifkind TEXT NOT NULL,
    UNIQUE (process, pid, app, ifname, ifkind)
  );
  CREATE TABLE minute_usage (
    hour INTEGER NOT NULL,
    dim INTEGER NOT NULL REFERENCES dims(id),
    minutes BLOB NOT NULL,
    PRIMARY KEY (hour, dim)
  ) WITHOUT ROWID;
  CREATE TABLE hour_usage (
    hour INTEGER NOT NULL,
    dim INTEGER NOT NULL REFERENCES dims(id),
    rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT NULL,
    rx_packets INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    PRIMARY KEY (hour, dim)
  ) WITHOUT ROWID;
  CREATE TABLE day_usage (
    day INTEGER NOT NULL,
    dim INTEGER NOT NULL REFERENCES dims(id),
    rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT NULL,
    rx_packets INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    PRIMARY KEY (day, dim)
  ) WITHOUT ROWID;
  CREATE TABLE flow_log (
    id INTEGER PRIMARY KEY,
    dim INTEGER NOT NULL REFERENCES dims(id),
    provider TEXT NOT NULL,
    local TEXT, remote TEXT,
    start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
    rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT NULL,
    rx_packets INTEGER NOT NULL, tx_packets INTEGER NOT NULL
  );
  CREATE TABLE open_flows (
    identity TEXT NOT NULL,
    seq INTEGER NOT NULL,
    rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT NULL,
    rx_packets INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
    PRIMARY KEY (identity, seq)
  ) WITHOUT ROWID;
  CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
  `,
  // 2: incremental auto-vacuum, so pages freed by roll-ups go back to the file system (issue 14:
  // the file never shrank). Switching an existing database's auto_vacuum mode takes one VACUUM
  // (sqlite.org/pragma.html#pragma_auto_vacuum); VACUUM cannot run inside a transaction. A crash
  // before the version bump only repeats this step.
  {
    outsideTransaction: true,
    run(db, version) {
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
      db.pragma(`user_version = ${version}`);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Bring the database to SCHEMA_VERSION (a no-op when it is there). */
export function migrate(db: SqliteDatabase, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new NtstatError('ERR_NTSTAT_STORE', `${path} has usage schema version ${version}; this ntstat knows up to ${SCHEMA_VERSION} (upgrade ntstat)`);
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    const m = MIGRATIONS[v];
    if (typeof m !== 'string') {
      m.run(db, v + 1);
      continue;
    }
    db.transaction(() => {
      db.exec(m);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
