import pg from 'pg';
import { type KeyCount, keyCountQuery, SEALED_TABLE_NAMES } from '../sealing/tables.ts';
import type { ChannelStoreStats } from '../stats.ts';
import { connectionConfig, redactedUrl } from './connection.ts';

export interface PostgresStoreStats {
  store: 'postgres';
  /** The URL without its password. */
  url: string;
  schemaVersion: number;
  /** The whole database, and each table with its indexes and TOAST. */
  databaseBytes: number;
  tableBytes: Record<string, number>;
  channels: ChannelStoreStats[];
  /** Rows holding content, per table and data key (null: plaintext). */
  keys: KeyCount[];
}

const TABLES = ['messages', 'deliveries', 'attempts', 'submissions', 'lane_leases', 'instances', 'claims'];

/**
 * Sizes of the PostgreSQL store per channel (`conduit store stats`), in one repeatable-read
 * transaction; it reads every row's length, so it takes about as long as a scan of the tables.
 */
export async function postgresStoreStats(url: string): Promise<PostgresStoreStats> {
  const client = new pg.Client(connectionConfig(url));
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const version = await client.query(`SELECT value FROM conduit_meta WHERE key = 'schema_version'`);
    const size = await client.query('SELECT pg_database_size(current_database())::bigint AS bytes');
    const tables = await client.query(
      `SELECT t AS name, pg_total_relation_size(t::regclass)::bigint AS bytes FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL`,
      [TABLES],
    );
    const messages = await client.query(
      `SELECT channel_id, count(*)::int AS n, count(content_pruned_at)::int AS pruned, min(received_at) AS oldest,
              sum(octet_length(raw_input) + coalesce(octet_length(canonical), 0))::bigint AS bytes
         FROM messages GROUP BY channel_id ORDER BY channel_id`,
    );
    const deliveries = await client.query(
      `SELECT channel_id, sum(octet_length(payload))::bigint AS bytes, count(*) FILTER (WHERE status IN ('queued', 'sent', 'errored'))::int AS pending
         FROM deliveries GROUP BY channel_id`,
    );
    const answers = await client.query(
      `SELECT d.channel_id, sum(octet_length(a.response))::bigint AS bytes
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.response IS NOT NULL GROUP BY d.channel_id`,
    );
    // Key ids came with schema 3 (encryption at rest); before, all of it is plaintext.
    const schemaVersion = Number((version.rows[0] as { value: string } | undefined)?.value ?? 0);
    const keys: KeyCount[] = [];
    for (const table of schemaVersion >= 3 ? SEALED_TABLE_NAMES : []) {
      const r = await client.query(keyCountQuery(table, '::int'));
      for (const row of r.rows as Array<{ key_id: string | null; n: number }>) keys.push({ table, keyId: row.key_id, rows: row.n });
    }
    await client.query('COMMIT');
    const of = (rows: Array<Record<string, unknown>>, id: string) => rows.find((r) => r.channel_id === id);
    return {
      store: 'postgres',
      url: redactedUrl(url),
      schemaVersion,
      databaseBytes: (size.rows[0] as { bytes: number }).bytes,
      tableBytes: Object.fromEntries((tables.rows as Array<{ name: string; bytes: number }>).map((t) => [t.name, t.bytes])),
      channels: (messages.rows as Array<{ channel_id: string; n: number; pruned: number; oldest: string | null; bytes: number | null }>).map((m) => ({
        channelId: m.channel_id,
        messages: m.n,
        contentRemoved: m.pruned,
        pendingDeliveries: (of(deliveries.rows, m.channel_id)?.pending as number | undefined) ?? 0,
        contentBytes: (m.bytes ?? 0) + ((of(deliveries.rows, m.channel_id)?.bytes as number | null | undefined) ?? 0) + ((of(answers.rows, m.channel_id)?.bytes as number | null | undefined) ?? 0),
        oldestReceivedAt: m.oldest ?? undefined,
      })),
      keys,
    };
  } finally {
    await client.end();
  }
}
