/**
 * What a store checks of its keyring when it opens: each key that ever sealed a value in it left
 * its check value (cipher.ts keyCheckValue) in the `key_checks` table; a configured key with a
 * known id and another check value would seal new rows that its namesake's rows cannot be told
 * from, and open none of the old ones: the store refuses it (STORE_KEY_MISMATCH). Pending
 * deliveries sealed with a key the keyring lacks could not be sent: refused too
 * (STORE_KEY_UNKNOWN), rather than each lane finding out row by row.
 */
import type { AuditEvent } from '../../audit/event.ts';
import { ConduitError } from '../../errors.ts';
import { keyCheckValue } from './cipher.ts';
import type { DataKey, Keyring } from './keyring.ts';

export interface StoredKeyCheck {
  key_id: string;
  check_value: string;
}

/** The row a writer records (insert or ignore) before a key's first seal, and compares with what is there. */
export interface KeyCheck {
  keyId: string;
  checkValue: string;
}

export function keyCheckOf(key: DataKey): KeyCheck {
  return { keyId: key.id, checkValue: keyCheckValue(key) };
}

export function keyMismatch(keyId: string, source: string, store: string): ConduitError {
  return new ConduitError(
    'STORE_KEY_MISMATCH',
    `data key ${keyId} of ${source} is not the key ${keyId} that sealed rows of ${store} (its check value differs): ` +
      `put back the key file that holds the original ${keyId}; a new key needs a new id (conduit store keygen)`,
    { location: source, context: { keyId } },
  );
}

/**
 * Refuses a keyring with a known key id whose bytes differ (STORE_KEY_MISMATCH); returns the
 * ids of keys that sealed rows here and are not in the keyring (their rows cannot be opened).
 */
export function verifyKeyring(keyring: Keyring | undefined, stored: readonly StoredKeyCheck[], store: string): { absent: string[] } {
  const known = new Map(stored.map((s) => [s.key_id, s.check_value]));
  for (const key of keyring?.keys ?? []) {
    const value = known.get(key.id);
    if (value !== undefined && value !== keyCheckValue(key)) throw keyMismatch(key.id, keyring!.source, store);
  }
  return { absent: stored.map((s) => s.key_id).filter((id) => !keyring?.byId(id)) };
}

/** Refuses to start while pending deliveries are sealed with keys the keyring lacks: no lane could send them. */
export function refuseUnsendableBacklog(keyring: Keyring | undefined, pending: ReadonlyArray<{ key_id: string; n: number }>, store: string): void {
  const missing = pending.filter((p) => !keyring?.byId(p.key_id));
  if (missing.length === 0) return;
  const what = missing.map((p) => `${p.n} with key ${p.key_id}`).join(', ');
  const where = keyring ? `not in the keyring (${keyring.source})` : 'and no data key is configured (CONDUIT_DATA_KEY_FILE)';
  throw new ConduitError(
    'STORE_KEY_UNKNOWN',
    `pending deliveries of ${store} are sealed with keys ${where}: ${what}. Add those keys to the key file (after the first line) and start again`,
    { context: { keyIds: missing.map((p) => p.key_id).join(',') } },
  );
}

/** The audit event of a store refused at start for its keys (STORE_KEY_MISMATCH or STORE_KEY_UNKNOWN); undefined for other errors. */
export function keyRefusalEvent(error: unknown): AuditEvent | undefined {
  if (!(error instanceof ConduitError) || (error.code !== 'STORE_KEY_MISMATCH' && error.code !== 'STORE_KEY_UNKNOWN')) return undefined;
  const keyId = error.context.keyId ?? error.context.keyIds;
  return {
    action: error.code === 'STORE_KEY_MISMATCH' ? 'store.key.mismatch' : 'store.key.unknown',
    outcome: 'failure',
    actor: 'engine',
    target: 'store',
    detail: { code: error.code, ...(keyId !== undefined ? { keyId: String(keyId) } : {}), reason: error.message },
  };
}
