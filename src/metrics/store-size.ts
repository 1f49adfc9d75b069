import { stat } from 'node:fs/promises';
import { cachedFor } from './cached.ts';

/** Bytes of the store on disk by part: `file` and `wal` (SQLite), `database` (PostgreSQL). */
export type StoreSize = Readonly<Record<string, number>>;

/** The store's size is read at most this often: a scrape every few seconds costs no more. */
export const STORE_SIZE_TTL_MS = 30_000;

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    // No write-ahead log yet (or checkpointed away): nothing on disk.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** The SQLite file and its write-ahead log. */
export function sqliteStoreSize(file: string): () => Promise<StoreSize> {
  return cachedFor(STORE_SIZE_TTL_MS, async () => ({ file: await sizeOf(file), wal: await sizeOf(`${file}-wal`) }));
}

/** The PostgreSQL database (pg_database_size: tables, indexes, TOAST, free space in them). */
export function postgresStoreSize(databaseBytes: () => Promise<number>): () => Promise<StoreSize> {
  return cachedFor(STORE_SIZE_TTL_MS, async () => ({ database: await databaseBytes() }));
}
