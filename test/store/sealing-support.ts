/**
 * Helpers for the encryption-at-rest tests: a store of each backend opened with a keyring, and
 * plain SQL on its database beside it (to see what is really stored), with '?' placeholders.
 */
import { randomBytes } from 'node:crypto';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { describe, type TestContext } from 'node:test';
import pg from 'pg';
import { connectionConfig } from '../../src/store/postgres/connection.ts';
import { rekeyPostgres } from '../../src/store/postgres/rekey.ts';
import { PostgresStore } from '../../src/store/postgres/store.ts';
import { type Keyring, keyring, parseKeyFile } from '../../src/store/sealing/keyring.ts';
import type { RekeyConnection, RekeyReport } from '../../src/store/sealing/rekey.ts';
import { rekeySqlite, sqliteRekeyConnection } from '../../src/store/sqlite/rekey.ts';
import { postgresRekeyConnection } from '../../src/store/postgres/rekey.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { type TestStore, tempDb } from './support.ts';

export type Row = Record<string, string | number | null>;

export interface SealedTemp {
  /** Opens a store on the same database; with a keyring it seals and opens. */
  open(keyring?: Keyring, onKeysAbsent?: (keyIds: readonly string[]) => void): TestStore;
  /** Runs SQL on the database with a connection of its own ('?' placeholders). */
  sql(text: string, params?: Array<string | number | null>): Promise<Row[]>;
  rekey(keyring: Keyring): Promise<RekeyReport>;
  /** The rekey's connection, for wrapping. */
  withRekeyConnection<T>(use: (c: RekeyConnection) => Promise<T>): Promise<T>;
  /** SQLite: the database file. */
  readonly file?: string;
}

export interface SealedBackend {
  name: 'sqlite' | 'postgres';
  skip?: string;
  temp(t: TestContext): Promise<SealedTemp>;
}

/** A keyring of fresh keys with these ids, the first sealing. */
export function keys(...ids: string[]): Keyring {
  return parseKeyFile(ids.map((id) => `${id} ${randomBytes(32).toString('base64')}`).join('\n'), 'test.keys');
}

/** The same keys in another order (the first seals). */
export function reordered(ring: Keyring, ...ids: string[]): Keyring {
  return keyring(
    ids.map((id) => ring.byId(id)!),
    ring.source,
  );
}

function sqliteTemp(t: TestContext): SealedTemp {
  const db = tempDb(t);
  const file = db.file;
  return {
    file,
    open: (keyring, onKeysAbsent) => db.open({ ...(keyring ? { keyring } : {}), ...(onKeysAbsent ? { onKeysAbsent } : {}) }),
    sql: async (text, params = []) => {
      const db = new DatabaseSync(file);
      try {
        db.exec('PRAGMA busy_timeout = 5000');
        const stmt = db.prepare(text);
        if (!/^\s*select/i.test(text)) {
          stmt.run(...(params as SQLInputValue[]));
          return [];
        }
        // Plain objects, as pg gives (node:sqlite's rows have no prototype).
        return (stmt.all(...(params as SQLInputValue[])) as Row[]).map((r) => ({ ...r }));
      } finally {
        db.close();
      }
    },
    rekey: (ring) => rekeySqlite(file, ring),
    withRekeyConnection: async (use) => {
      const db = new DatabaseSync(file);
      try {
        db.exec('PRAGMA busy_timeout = 5000');
        return await use(sqliteRekeyConnection(db, file));
      } finally {
        db.close();
      }
    },
  };
}

async function postgresTemp(t: TestContext): Promise<SealedTemp> {
  const opened: PostgresStore[] = [];
  const url = await tempDatabase(t, async () => {
    for (const s of opened) await s.close();
  });
  const client = async <T>(use: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client(connectionConfig(url));
    await c.connect();
    try {
      return await use(c);
    } finally {
      await c.end();
    }
  };
  return {
    open: (keyring, onKeysAbsent) => {
      const s = new PostgresStore(url, { synchronous: 'normal', ...(keyring ? { keyring } : {}), ...(onKeysAbsent ? { onKeysAbsent } : {}) });
      opened.push(s);
      return s;
    },
    sql: (text, params = []) => {
      let n = 0;
      return client(async (c) => (await c.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as Row[]);
    },
    rekey: (ring) => rekeyPostgres(url, ring),
    withRekeyConnection: (use) => client((c) => use(postgresRekeyConnection(c, url))),
  };
}

/** Both stores: SQLite always, PostgreSQL when reachable. */
export async function eachSealedStore(define: (temp: SealedBackend['temp'], name: SealedBackend['name']) => void): Promise<void> {
  const unavailable = await postgresUnavailable();
  const backends: SealedBackend[] = [
    { name: 'sqlite', temp: async (t) => sqliteTemp(t) },
    { name: 'postgres', ...(unavailable ? { skip: unavailable } : {}), temp: postgresTemp },
  ];
  for (const b of backends) describe(b.name, b.skip ? { skip: b.skip } : {}, () => define(b.temp, b.name));
}
