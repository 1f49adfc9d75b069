import { existsSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { ConduitError } from '../../errors.ts';
import type { Keyring } from '../sealing/keyring.ts';
import { type RekeyConnection, type RekeyReport, rekey } from '../sealing/rekey.ts';
import { SCHEMA_VERSION } from './schema.ts';

/**
 * `conduit store rekey` of the SQLite store (see ../sealing/rekey.ts), on a connection of its
 * own beside a running engine: each batch is one short IMMEDIATE transaction, which the engine's
 * writer waits for (busy timeout) like any other writer's.
 */
export async function rekeySqlite(file: string, keyring: Keyring, options: { batch?: number } = {}): Promise<RekeyReport> {
  if (!existsSync(file)) throw new ConduitError('STORE_FAILED', `${file}: no store here (start the engine once, or pass --data)`);
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version !== SCHEMA_VERSION) {
      throw new ConduitError('STORE_FAILED', `${file}: the store has schema ${version}, this Conduit ${SCHEMA_VERSION}: start this Conduit's engine on it once first (it migrates the store)`);
    }
    return await rekey(sqliteRekeyConnection(db, file), keyring, options);
  } finally {
    db.close();
  }
}

/** A connection of the rekey on an open database (its transactions are IMMEDIATE). */
export function sqliteRekeyConnection(db: DatabaseSync, file: string): RekeyConnection {
  return {
    dialect: 'sqlite',
    name: file,
    all: async (sql, params) => db.prepare(sql).all(...(params as SQLInputValue[])) as Array<Record<string, string | number | null>>,
    transaction: async (work) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(async (sql, params) => Number(db.prepare(sql).run(...(params as SQLInputValue[])).changes));
        db.exec('COMMIT');
        return result;
      } catch (e) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw e;
      }
    },
  };
}
