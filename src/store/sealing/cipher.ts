/**
 * Sealing of one value of a content column: AES-256-GCM with a random 12-byte IV per value, and
 * the column's name as additional authenticated data, so a value moved to another column (a
 * payload copied over a raw input) does not open.
 *
 * With random IVs one GCM key may seal at most 2^32 values (NIST SP 800-38D, 8.3): a busy engine
 * gets there in months. So values are not sealed with the data key itself but with a subkey
 * derived from it (HKDF-SHA256) and a random 16-byte salt, drawn anew for each process and after
 * every 2^24 values; the salt is stored with the value. Stored as base64 text of
 * version ‖ salt ‖ IV ‖ ciphertext ‖ tag, which keeps the columns' text type in both stores.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject, randomBytes, randomFillSync } from 'node:crypto';
import type { DataKey } from './keyring.ts';

/** The columns whose values are sealed: message content, encoded payloads, the receivers' answers. */
export const SEALED_COLUMNS = {
  messages: ['raw_input', 'canonical'],
  deliveries: ['payload'],
  attempts: ['detail', 'response'],
} as const;
export type SealedTable = keyof typeof SEALED_COLUMNS;
export type SealedColumn = { [T in SealedTable]: `${T}.${(typeof SEALED_COLUMNS)[T][number]}` }[SealedTable];

const ALGORITHM = 'aes-256-gcm';
/** The layout below; another value is refused (a future layout gets another). */
const VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + SALT_BYTES + IV_BYTES;
/** Values one subkey seals before another salt is drawn: far below GCM's 2^32 with random IVs. */
const SUBKEY_USES = 2 ** 24;
const HKDF_INFO = Buffer.from('conduit sealed value v1');

interface Subkey {
  salt: Buffer;
  key: KeyObject;
  uses: number;
}

/** A subkey as a KeyObject: a cipher given raw key bytes converts them at every call, which costs more than sealing a typical value. */
function deriveSubkey(key: DataKey, salt: Buffer): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', key.key, salt, HKDF_INFO, 32)));
}

/** The subkey each data key seals with in this process, until its uses run out. */
const sealingSubkeys = new WeakMap<DataKey, Subkey>();
function sealingSubkey(key: DataKey): Subkey {
  let s = sealingSubkeys.get(key);
  if (!s || s.uses >= SUBKEY_USES) {
    const salt = randomBytes(SALT_BYTES);
    s = { salt, key: deriveSubkey(key, salt), uses: 0 };
    sealingSubkeys.set(key, s);
  }
  s.uses++;
  return s;
}

/** Subkeys met when opening, by data key and salt (few: one per process and 2^24 values). */
const OPENING_SUBKEYS_KEPT = 256;
const openingSubkeys = new WeakMap<DataKey, Map<string, KeyObject>>();
function openingSubkey(key: DataKey, salt: Buffer): KeyObject {
  let byId = openingSubkeys.get(key);
  if (!byId) {
    byId = new Map();
    openingSubkeys.set(key, byId);
  }
  const id = salt.toString('hex');
  let k = byId.get(id);
  if (!k) {
    k = deriveSubkey(key, salt);
    if (byId.size >= OPENING_SUBKEYS_KEPT) byId.delete(byId.keys().next().value!);
    byId.set(id, k);
  }
  return k;
}

/**
 * IVs are cut from a pool of random bytes filled 4 KiB at a time: a call to the random generator
 * per IV costs more than the rest of a seal (5 µs of 8, Node 24). Each IV is used once, at once.
 */
const ivPool = Buffer.alloc(IV_BYTES * 341);
let ivAt = ivPool.length;
function nextIv(): Buffer {
  if (ivAt === ivPool.length) {
    randomFillSync(ivPool);
    ivAt = 0;
  }
  ivAt += IV_BYTES;
  return ivPool.subarray(ivAt - IV_BYTES, ivAt);
}

const AAD = new Map<SealedColumn, Buffer>();
function aadOf(column: SealedColumn): Buffer {
  let aad = AAD.get(column);
  if (!aad) {
    aad = Buffer.from(column);
    AAD.set(column, aad);
  }
  return aad;
}

const VERSION_BYTE = Buffer.from([VERSION]);

export function seal(key: DataKey, column: SealedColumn, plaintext: string): string {
  const subkey = sealingSubkey(key);
  const iv = nextIv();
  const cipher = createCipheriv(ALGORITHM, subkey.key, iv);
  cipher.setAAD(aadOf(column));
  // GCM is a stream cipher: final() adds nothing, update() gives the whole ciphertext.
  const body = cipher.update(plaintext, 'utf8');
  cipher.final();
  return Buffer.concat([VERSION_BYTE, subkey.salt, iv, body, cipher.getAuthTag()]).toString('base64');
}

/** The plaintext of a sealed value; throws when it does not authenticate (altered, another column's, another key). */
export function open(key: DataKey, column: SealedColumn, sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64');
  if (bytes.length < HEADER_BYTES + TAG_BYTES) throw new Error('too short to be a sealed value');
  if (bytes[0] !== VERSION) throw new Error(`not a sealed value of version ${VERSION}`);
  const subkey = openingSubkey(key, bytes.subarray(1, 1 + SALT_BYTES));
  const decipher = createDecipheriv(ALGORITHM, subkey, bytes.subarray(1 + SALT_BYTES, HEADER_BYTES));
  decipher.setAAD(aadOf(column));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const text = decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES));
  // Throws when the tag does not verify: nothing of `text` is returned then.
  decipher.final();
  return text.toString('utf8');
}

const CHECK_TEXT = 'conduit key check';

/**
 * What the store keeps of a key that sealed rows (HMAC-SHA256 of a fixed text, hex): tells at
 * start whether a key under that id holds the same bytes, and reveals nothing of the key.
 */
export function keyCheckValue(key: DataKey): string {
  return createHmac('sha256', key.key).update(CHECK_TEXT).digest('hex');
}
