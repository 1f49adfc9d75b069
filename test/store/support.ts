/**
 * Helpers for the store tests: a fresh store of each backend (a temp SQLite file, a PostgreSQL
 * database of its own) and messages to insert. Tests of what every store does run once per
 * backend (`storeBackends`); tests of one backend's own mechanics use it directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/store.ts';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.ts';
import type { AttemptRecord, NewDelivery, NewMessage, Store } from '../../src/store/types.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';

/** A store as the tests see it: the interface, and the count of write rounds. */
export type TestStore = Store & { readonly rounds: number };

export interface TempStore {
  /** Opens a store on the same database (a second open after a close is a restart). */
  open(): TestStore;
}

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** Why the backend's tests are skipped (PostgreSQL not reachable outside CI). */
  skip?: string;
  tempStore(t: TestContext): Promise<TempStore>;
}

export interface TempDb {
  readonly file: string;
  /** A store on the file (durability normal unless the options say otherwise). */
  open(options?: SqliteStoreOptions): SqliteStore;
}

/** A SQLite database file in a fresh temp directory, removed (after closing every store opened on it) when the test ends. */
export function tempDb(t: Pick<TestContext, 'after'>): TempDb {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-store-'));
  // A subdirectory that does not exist yet: the store creates it.
  const file = join(dir, 'data', 'conduit.db');
  const opened: SqliteStore[] = [];
  t.after(async () => {
    for (const s of opened) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    file,
    open: (options = {}) => {
      const s = new SqliteStore(file, { synchronous: 'normal', ...options });
      opened.push(s);
      return s;
    },
  };
}

/** A PostgreSQL database of its own; every store opened on it is closed before it is dropped. */
export async function tempPostgres(t: Pick<TestContext, 'after'>): Promise<{ url: string; open(): PostgresStore }> {
  const opened: PostgresStore[] = [];
  const url = await tempDatabase(t, async () => {
    for (const s of opened) await s.close();
  });
  return {
    url,
    open: () => {
      const s = new PostgresStore(url, { synchronous: 'normal' });
      opened.push(s);
      return s;
    },
  };
}

/** Both stores: SQLite always, PostgreSQL when reachable (CONDUIT_TEST_POSTGRES; required under CI). */
export async function storeBackends(): Promise<StoreBackend[]> {
  const unavailable = await postgresUnavailable();
  return [
    { name: 'sqlite', tempStore: async (t) => tempDb(t) },
    { name: 'postgres', ...(unavailable ? { skip: unavailable } : {}), tempStore: (t) => tempPostgres(t) },
  ];
}

let n = 0;

export function delivery(d: Partial<NewDelivery> = {}): NewDelivery {
  n++;
  return { destinationId: 'lis', lane: 0, controlId: `CTRL${n}`, payload: `MSH|^~\\&|payload ${n}\r`, contentType: 'application/hl7-v2', ...d };
}

/** A message of channel `ch` with one delivery to 'lis' on lane 0, unless told otherwise. */
export function message(m: Partial<NewMessage> = {}): NewMessage {
  n++;
  return {
    id: `MSG${String(n).padStart(6, '0')}`,
    channelId: 'ch',
    sourceId: `res_${n}`,
    sourceVersion: '1',
    receivedAt: new Date(Date.UTC(2026, 10, 20, 9, 0, 0, n)).toISOString(),
    rawInput: `{"n": ${n}}`,
    inputFormat: 'json',
    canonical: JSON.stringify({ id: `res_${n}` }),
    partitionKey: `patient:p${n}`,
    deliveries: [delivery()],
    ...m,
  };
}

export function attempt(deliveryId: number, a: Partial<AttemptRecord> = {}): AttemptRecord {
  return { deliveryId, attempt: 1, startedAt: '2026-11-20T09:00:01.000Z', latencyMs: 12.5, outcome: 'acknowledged', status: 'acknowledged', ...a };
}

/** Defines the tests of `define` once per store backend, each in a suite named after it. */
export async function eachStore(define: (tempStore: StoreBackend['tempStore']) => void): Promise<void> {
  for (const b of await storeBackends()) describe(b.name, b.skip ? { skip: b.skip } : {}, () => define(b.tempStore));
}
