/**
 * `conduit store rekey`: seals again, with the keyring's first key, every row that holds content
 * and is not sealed with it (rows of older keys, plaintext rows), table by table in small
 * batches, each its own short transaction. Each row is written with a compare-and-set on what
 * was read (key id and every sealed column): a row the running engine changed meanwhile (a
 * follow-up replaced, retention) is left as it is and counted, never overwritten with stale
 * content. Safe beside a running engine, to interrupt, and to run again (rows already sealed
 * with the first key are not candidates).
 */
import type { ErrorCode } from '../../errors.ts';
import { SEALED_COLUMNS, type SealedColumn, type SealedTable } from './cipher.ts';
import { keyCheckOf, keyMismatch, type StoredKeyCheck, verifyKeyring } from './key-checks.ts';
import type { Keyring } from './keyring.ts';
import { isUnreadable, RowOpener, sealingWith, sealOptional } from './rows.ts';
import { holdsContent, SEALED_TABLE_NAMES, SEALED_TABLES } from './tables.ts';

type Row = Record<string, string | number | null>;
type Run = (sql: string, params: unknown[]) => Promise<number>;

/** A store's connection, as the rekey needs it: reads, and transactions of writes that return rows changed. */
export interface RekeyConnection {
  /** '?' placeholders and `IS` (SQLite), or '$n' and `IS NOT DISTINCT FROM` (PostgreSQL). */
  readonly dialect: 'sqlite' | 'postgres';
  /** The store, for messages: its file or URL (without password). */
  readonly name: string;
  all(sql: string, params: unknown[]): Promise<Row[]>;
  transaction<T>(work: (run: Run) => Promise<T>): Promise<T>;
}

export interface RekeyTableReport {
  /** Rows sealed anew, by the key they had ('plaintext' for none). */
  resealed: Record<string, number>;
  /** Rows the engine changed between the read and the write: left as they were (run again). */
  changedMeanwhile: number;
  /** Rows that did not open (unknown key, or not authentic); the first few, as `<table> row <id>: <code>`. */
  unreadable: number;
  unreadableRows: string[];
}

export interface RekeyReport {
  keyId: string;
  tables: Record<SealedTable, RekeyTableReport>;
  /** Key ids no row is sealed with any more (their check values removed): they may leave the key file. */
  retired: string[];
}

const BATCH = 200;
const UNREADABLE_SHOWN = 10;

export async function rekey(db: RekeyConnection, keyring: Keyring, options: { batch?: number; onBatch?: (table: SealedTable, rows: number) => void } = {}): Promise<RekeyReport> {
  const stored = (await db.all('SELECT key_id, check_value FROM key_checks', [])) as unknown as StoredKeyCheck[];
  verifyKeyring(keyring, stored, db.name);
  const target = keyring.sealing;
  const opener = new RowOpener(keyring);
  const sealing = sealingWith(target);
  const same = (column: string, p: string) => (db.dialect === 'sqlite' ? `${column} IS ${p}` : `${column} IS NOT DISTINCT FROM ${p}`);
  let checked = stored.some((s) => s.key_id === target.id);
  const report = { keyId: target.id, tables: {} as Record<SealedTable, RekeyTableReport>, retired: [] as string[] };
  for (const table of SEALED_TABLE_NAMES) {
    const t: RekeyTableReport = { resealed: {}, changedMeanwhile: 0, unreadable: 0, unreadableRows: [] };
    report.tables[table] = t;
    const { key } = SEALED_TABLES[table];
    const columns = SEALED_COLUMNS[table];
    let after = 0;
    for (;;) {
      const p = placeholders(db.dialect);
      const rows = await db.all(
        `SELECT ${key} AS rekey_position, id, key_id, ${columns.join(', ')} FROM ${table}
          WHERE ${key} > ${p()} AND (key_id IS NULL OR key_id <> ${p()}) AND ${holdsContent(table)}
          ORDER BY ${key} LIMIT ${p()}`,
        [after, target.id, options.batch ?? BATCH],
      );
      if (rows.length === 0) break;
      after = rows.at(-1)!.rekey_position as number;
      const writes: Array<{ row: Row; next: Array<string | null> }> = [];
      for (const row of rows) {
        let plain: Row;
        try {
          plain = opener.open(table, row);
        } catch (e) {
          if (!isUnreadable(e)) throw e;
          t.unreadable++;
          if (t.unreadableRows.length < UNREADABLE_SHOWN) t.unreadableRows.push(`${table} row ${row.id}: ${e.code as ErrorCode}`);
          continue;
        }
        writes.push({ row, next: columns.map((c) => sealOptional(sealing, `${table}.${c}` as SealedColumn, plain[c] as string | null)) });
      }
      await db.transaction(async (run) => {
        if (!checked && writes.length > 0) {
          await recordKeyCheck(db, run, keyring);
          checked = true;
        }
        for (const { row, next } of writes) {
          const q = placeholders(db.dialect);
          const sets = columns.map((c) => `${c} = ${q()}`).join(', ');
          const setKey = q();
          const where = [`${key} = ${q()}`, same('key_id', q()), ...columns.map((c) => same(c, q()))].join(' AND ');
          const changed = await run(`UPDATE ${table} SET ${sets}, key_id = ${setKey} WHERE ${where}`, [
            ...next,
            target.id,
            row.rekey_position,
            row.key_id,
            ...columns.map((c) => row[c]),
          ]);
          if (changed === 0) t.changedMeanwhile++;
          else {
            const from = row.key_id === null ? 'plaintext' : String(row.key_id);
            t.resealed[from] = (t.resealed[from] ?? 0) + 1;
          }
        }
      });
      options.onBatch?.(table, rows.length);
    }
  }
  report.retired = await retire(db, target.id);
  return report;
}

/** The first key's check value, before its first seal (another process may have recorded the same id: it must match). */
async function recordKeyCheck(db: RekeyConnection, run: Run, keyring: Keyring): Promise<void> {
  const check = keyCheckOf(keyring.sealing);
  const p = placeholders(db.dialect);
  await run(`INSERT INTO key_checks (key_id, check_value, created_at) VALUES (${p()}, ${p()}, ${p()}) ON CONFLICT (key_id) DO NOTHING`, [
    check.keyId,
    check.checkValue,
    new Date().toISOString(),
  ]);
  const [row] = await db.all(`SELECT check_value FROM key_checks WHERE key_id = ${placeholders(db.dialect)()}`, [check.keyId]);
  if (row?.check_value !== check.checkValue) throw keyMismatch(check.keyId, keyring.source, db.name);
}

/** Removes the check values of keys (but the first) that no row is sealed with any more; returns their ids. */
async function retire(db: RekeyConnection, keep: string): Promise<string[]> {
  const known = (await db.all('SELECT key_id FROM key_checks ORDER BY key_id', [])).map((r) => String(r.key_id)).filter((id) => id !== keep);
  const retired: string[] = [];
  for (const id of known) {
    const p = placeholders(db.dialect);
    const unused = SEALED_TABLE_NAMES.map((table) => `NOT EXISTS (SELECT 1 FROM ${table} WHERE key_id = ${p()})`).join(' AND ');
    const idAt = p();
    const n = await db.transaction((run) => run(`DELETE FROM key_checks WHERE ${unused} AND key_id = ${idAt}`, [...SEALED_TABLE_NAMES.map(() => id), id]));
    if (n > 0) retired.push(id);
  }
  return retired;
}

/** The next placeholder each call: '?' for SQLite, '$1', '$2', … for PostgreSQL. */
function placeholders(dialect: RekeyConnection['dialect']): () => string {
  let n = 0;
  return () => (dialect === 'sqlite' ? '?' : `$${++n}`);
}
