/** Helpers for the SQLite store tests: a temp database file and messages to insert. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import type { AttemptRecord, NewDelivery, NewMessage } from '../../src/store/types.ts';

export interface TempDb {
  readonly file: string;
  open(): SqliteStore;
}

/** A database file in a fresh temp directory, removed (after closing every store opened on it) when the test ends. */
export function tempDb(t: TestContext): TempDb {
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
    open: () => {
      const s = new SqliteStore(file, { synchronous: 'normal' });
      opened.push(s);
      return s;
    },
  };
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
