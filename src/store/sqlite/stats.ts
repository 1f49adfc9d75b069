import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { type KeyCount, keyCountQuery, SEALED_TABLE_NAMES } from '../sealing/tables.ts';
import type { ChannelStoreStats } from '../stats.ts';

export interface SqliteStoreStats {
  store: 'sqlite';
  file: string;
  /** The database file, its write-ahead log, and the free pages inside the file (reused by new rows). */
  fileBytes: number;
  walBytes: number;
  freeBytes: number;
  channels: ChannelStoreStats[];
  /** Rows holding content, per table and data key (null: plaintext). */
  keys: KeyCount[];
}

const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

/**
 * Sizes of the store per channel (`conduit store stats`). Reads every row's length, so it takes
 * about as long as a scan of the file; safe beside a running engine (a read transaction).
 */
export function storeStats(file: string): SqliteStoreStats {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    const free = (db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
    db.exec('BEGIN');
    const messages = db
      .prepare(
        `SELECT channel_id, count(*) AS n, count(content_pruned_at) AS pruned, min(received_at) AS oldest,
                sum(length(CAST(raw_input AS BLOB)) + coalesce(length(CAST(canonical AS BLOB)), 0)) AS bytes
           FROM messages GROUP BY channel_id`,
      )
      .all() as Array<{ channel_id: string; n: number; pruned: number; oldest: string | null; bytes: number | null }>;
    const deliveries = db
      .prepare(
        `SELECT channel_id, sum(length(CAST(payload AS BLOB))) AS bytes,
                sum(CASE WHEN status IN ('queued', 'sent', 'errored') THEN 1 ELSE 0 END) AS pending
           FROM deliveries GROUP BY channel_id`,
      )
      .all() as Array<{ channel_id: string; bytes: number | null; pending: number }>;
    const answers = db
      .prepare(
        `SELECT d.channel_id, sum(length(CAST(a.response AS BLOB))) AS bytes
           FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.response IS NOT NULL GROUP BY d.channel_id`,
      )
      .all() as Array<{ channel_id: string; bytes: number | null }>;
    // A store not yet migrated to encryption at rest (schema 5) has no key ids: all of it is plaintext.
    const sealable = db.prepare(`SELECT 1 FROM pragma_table_info('messages') WHERE name = 'key_id'`).get() !== undefined;
    const keys = SEALED_TABLE_NAMES.flatMap((table) =>
      sealable ? (db.prepare(keyCountQuery(table)).all() as Array<{ key_id: string | null; n: number }>).map((r) => ({ table, keyId: r.key_id, rows: r.n })) : [],
    );
    db.exec('COMMIT');
    const of = <T extends { channel_id: string }>(rows: T[], id: string): T | undefined => rows.find((r) => r.channel_id === id);
    return {
      store: 'sqlite',
      file,
      fileBytes: size(file),
      walBytes: size(`${file}-wal`),
      freeBytes: free * pageSize,
      channels: messages.map((m) => ({
        channelId: m.channel_id,
        messages: m.n,
        contentRemoved: m.pruned,
        pendingDeliveries: of(deliveries, m.channel_id)?.pending ?? 0,
        contentBytes: (m.bytes ?? 0) + (of(deliveries, m.channel_id)?.bytes ?? 0) + (of(answers, m.channel_id)?.bytes ?? 0),
        oldestReceivedAt: m.oldest ?? undefined,
      })),
      keys,
    };
  } finally {
    db.close();
  }
}
