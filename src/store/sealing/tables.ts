/** The tables with sealed columns, as SQL sees them (the same in both stores: see ../sqlite/schema.ts, ../postgres/schema.ts). */
import type { SealedTable } from './cipher.ts';

export const SEALED_TABLES: Readonly<Record<SealedTable, { key: string; hasContent: string }>> = {
  // Retention leaves raw_input '' and canonical NULL; a payload '' (pruned) holds nothing either.
  messages: { key: 'seq', hasContent: `(raw_input <> '' OR canonical IS NOT NULL)` },
  deliveries: { key: 'id', hasContent: `payload <> ''` },
  attempts: { key: 'id', hasContent: '(detail IS NOT NULL OR response IS NOT NULL)' },
};

export const SEALED_TABLE_NAMES = Object.keys(SEALED_TABLES) as SealedTable[];

/** SQL: rows that hold content, sealed (with any key) or plaintext. */
export function holdsContent(table: SealedTable): string {
  return `(key_id IS NOT NULL OR ${SEALED_TABLES[table].hasContent})`;
}

/** Rows of a table by the key that sealed them (null: plaintext), counting only rows that hold content (`conduit store stats`). */
export interface KeyCount {
  table: SealedTable;
  keyId: string | null;
  rows: number;
}

/** SQL: the KeyCount rows of one table (columns key_id, n). */
export function keyCountQuery(table: SealedTable, countCast = ''): string {
  return `SELECT key_id, count(*)${countCast} AS n FROM ${table} WHERE ${holdsContent(table)} GROUP BY key_id ORDER BY key_id`;
}
