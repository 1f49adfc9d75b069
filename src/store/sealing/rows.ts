/**
 * Sealed rows, as the stores write and read them: a row's content columns are sealed with one
 * key, whose id is the row's `key_id` (NULL: plaintext, as written without a key, or before
 * encryption was configured). Writers seal with the keyring's first key; reads open with
 * whichever key of the keyring the row names.
 */
import { ConduitError, type ErrorCode } from '../../errors.ts';
import { open, SEALED_COLUMNS, type SealedColumn, type SealedTable, seal } from './cipher.ts';
import type { DataKey, Keyring } from './keyring.ts';

type Row = Record<string, string | number | null>;

/** How a writer stores content: sealed with one key, or as plaintext (no key configured). */
export interface Sealing {
  /** The `key_id` of the rows it writes; null for plaintext. */
  readonly keyId: string | null;
  seal(column: SealedColumn, value: string): string;
}

export const PLAINTEXT: Sealing = { keyId: null, seal: (_column, value) => value };

export function sealingWith(key: DataKey): Sealing {
  return { keyId: key.id, seal: (column, value) => seal(key, column, value) };
}

/** A column that may be NULL: NULL stays NULL. */
export function sealOptional(sealing: Sealing, column: SealedColumn, value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : sealing.seal(column, value);
}

/** A row that cannot be opened: which table, row and key, never the content. */
function unreadableRow(code: Extract<ErrorCode, 'STORE_KEY_UNKNOWN' | 'STORE_SEAL_INVALID'>, where: { table: SealedTable; row: string | number; keyId: string }, why: string): ConduitError {
  return new ConduitError(code, `${where.table} row ${where.row} is sealed with data key ${where.keyId}: ${why}`, {
    location: `${where.table}:${where.row}`,
    context: { table: where.table, row: where.row, keyId: where.keyId },
  });
}

/** Whether an error is a row that could not be opened (see unreadableRow). */
export function isUnreadable(e: unknown): e is ConduitError {
  return e instanceof ConduitError && (e.code === 'STORE_KEY_UNKNOWN' || e.code === 'STORE_SEAL_INVALID');
}

/** Opens the sealed columns of rows read from the store, with the keyring's keys. */
export class RowOpener {
  private readonly keyring: Keyring | undefined;

  constructor(keyring: Keyring | undefined) {
    this.keyring = keyring;
  }

  /**
   * A copy of the row with its content in plaintext (the row itself when it is plaintext).
   * Throws STORE_KEY_UNKNOWN (its key is not in the keyring) or STORE_SEAL_INVALID (a value
   * does not authenticate), naming the table, the row (its `id`) and the key id.
   */
  open(table: SealedTable, row: Row): Row {
    const keyId = row.key_id;
    if (keyId === null || keyId === undefined) return row;
    const where = { table, row: row.id as string | number, keyId: String(keyId) };
    const key = this.keyring?.byId(String(keyId));
    if (!key) {
      // Not the key file's path: the message reaches API clients (the engine logs the path at start).
      const why = this.keyring ? 'that key is not in the keyring' : 'no data key is configured (CONDUIT_DATA_KEY_FILE)';
      throw unreadableRow('STORE_KEY_UNKNOWN', where, why);
    }
    const opened: Row = { ...row };
    for (const column of SEALED_COLUMNS[table]) {
      const value = row[column];
      if (typeof value !== 'string') continue;
      try {
        opened[column] = open(key, `${table}.${column}` as SealedColumn, value);
      } catch {
        throw unreadableRow('STORE_SEAL_INVALID', where, `its ${column} does not open (altered or damaged, or the key file holds other bytes under that id)`);
      }
    }
    return opened;
  }
}
