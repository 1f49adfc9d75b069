/**
 * The data keys that seal message content at rest (see cipher.ts): from a key file
 * (CONDUIT_DATA_KEY_FILE, `--data-key-file`) or one key from the environment (CONDUIT_DATA_KEY).
 *
 * Key file: one key per line, `<key-id> <base64 of 32 bytes>`; `#` starts a comment line, blank
 * lines are ignored. The first key seals new rows; the others only open rows sealed before a
 * rotation (`conduit store rekey` moves those to the first key).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConduitError } from '../../errors.ts';

/** AES-256: 32 bytes. */
export const KEY_BYTES = 32;

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Standard base64 with its padding (what `openssl rand -base64 32` and `conduit store keygen` print). */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The environment variable of one key, `<key-id>:<base64 of 32 bytes>`. */
const DATA_KEY_ENV = 'CONDUIT_DATA_KEY';

export interface DataKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

export interface Keyring {
  /** The key new rows are sealed with: the file's first. */
  readonly sealing: DataKey;
  /** Every key, the sealing one first. */
  readonly keys: readonly DataKey[];
  /** Where the keys came from (the file's path, or CONDUIT_DATA_KEY), for messages. */
  readonly source: string;
  byId(id: string): DataKey | undefined;
}

export function keyring(keys: readonly DataKey[], source: string): Keyring {
  const first = keys[0];
  if (!first) throw new ConduitError('STORE_KEY_INVALID', `${source}: holds no key`);
  const byId = new Map(keys.map((k) => [k.id, k]));
  return { sealing: first, keys, source, byId: (id) => byId.get(id) };
}

/** A key id and its base64 text, checked: the key, or the problem (which never quotes the key). */
function parseKey(id: string, base64: string): { key: DataKey } | { problem: string } {
  // Not quoted: a line with its fields swapped would put the key itself in a log.
  if (!KEY_ID.test(id)) return { problem: `the key id (first field) must be 1 to 64 of A-Z a-z 0-9 . _ - (${id.length} characters given)` };
  if (!BASE64.test(base64) || base64.length % 4 !== 0) return { problem: `key ${id}: the key is not base64 (expected the base64 of ${KEY_BYTES} random bytes)` };
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES) return { problem: `key ${id}: the key is ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES}` };
  return { key: { id, key } };
}

/** An id as a message may quote it: at most 64 visible ASCII characters. */
function printable(text: string): string {
  const visible = text.replace(/[^\x21-\x7e]/g, '?');
  return visible.length > 64 ? `${visible.slice(0, 64)}…` : visible;
}

/**
 * The keys of a key file's text. Every problem (a malformed line, a bad key, a duplicate id) is
 * reported in one error, one `<file>:<line>: …` line each.
 */
export function parseKeyFile(text: string, file: string): Keyring {
  const keys: DataKey[] = [];
  const problems: string[] = [];
  let firstProblemAt: string | undefined;
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `${file}:${i + 1}`;
    const problem = (text: string) => {
      firstProblemAt ??= at;
      problems.push(`${at}: ${text}`);
    };
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      problem(`expected '<key-id> <base64 of ${KEY_BYTES} bytes>', found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
      return;
    }
    const [id, base64] = fields as [string, string];
    const parsed = parseKey(id, base64);
    if ('problem' in parsed) {
      problem(parsed.problem);
      return;
    }
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      problem(`key id ${id} is already used on line ${earlier}`);
      return;
    }
    seen.set(id, i + 1);
    keys.push(parsed.key);
  });
  if (problems.length > 0) throw new ConduitError('STORE_KEY_INVALID', problems.join('\n'), { location: firstProblemAt });
  if (keys.length === 0) throw new ConduitError('STORE_KEY_INVALID', `${file}: holds no key (one line '<key-id> <base64 of ${KEY_BYTES} bytes>'; conduit store keygen prints one)`, { location: file });
  return keyring(keys, file);
}

/** The one key of CONDUIT_DATA_KEY, `<key-id>:<base64 of 32 bytes>`. */
export function parseEnvKey(value: string): Keyring {
  const colon = value.indexOf(':');
  if (colon < 0) throw new ConduitError('STORE_KEY_INVALID', `${DATA_KEY_ENV}: expected '<key-id>:<base64 of ${KEY_BYTES} bytes>'`, { location: DATA_KEY_ENV });
  const parsed = parseKey(value.slice(0, colon), value.slice(colon + 1).trim());
  if ('problem' in parsed) throw new ConduitError('STORE_KEY_INVALID', `${DATA_KEY_ENV}: ${parsed.problem}`, { location: DATA_KEY_ENV });
  return keyring([parsed.key], DATA_KEY_ENV);
}

/** Reads a key file; `warnings` when group or others may read it. */
export function readKeyFile(path: string): { keyring: Keyring; warnings: string[] } {
  const file = resolve(path);
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : (code ?? String(e));
    throw new ConduitError('STORE_KEY_INVALID', `${file}: cannot read the data key file (${why})`, { location: file, cause: e });
  }
  const warnings = (mode & 0o077) !== 0 ? [`${file}: group or others may read the data key file (mode ${(mode & 0o777).toString(8)}); make it owner-only (chmod 600)`] : [];
  return { keyring: parseKeyFile(text, file), warnings };
}

/**
 * The keyring the settings and the environment name: the key file (setting `dataKeyFile`, from
 * `--data-key-file` or CONDUIT_DATA_KEY_FILE), else CONDUIT_DATA_KEY, else none (content is
 * stored in plaintext). Both at once is refused: which one seals would be a guess.
 */
export function resolveKeyring(settings: { dataKeyFile?: string | undefined }, env: NodeJS.ProcessEnv = process.env): { keyring: Keyring | undefined; warnings: string[] } {
  const envKey = env[DATA_KEY_ENV];
  const file = settings.dataKeyFile;
  if (file && envKey) {
    throw new ConduitError('STORE_KEY_INVALID', `both a data key file (${file}) and ${DATA_KEY_ENV} are set; set only one`, { location: DATA_KEY_ENV });
  }
  if (file) return readKeyFile(file);
  if (envKey) return { keyring: parseEnvKey(envKey), warnings: [] };
  return { keyring: undefined, warnings: [] };
}

/** The default id of a new key: `k-<yyyymmdd>-<6 random hex>`. */
export function newKeyId(now: Date = new Date()): string {
  return `k-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
}

/** A key file line with a new random key (`conduit store keygen`). */
export function newKeyLine(id: string = newKeyId()): string {
  if (!KEY_ID.test(id)) throw new ConduitError('STORE_KEY_INVALID', `key id '${printable(id)}' is not 1 to 64 of A-Z a-z 0-9 . _ -`);
  return `${id} ${randomBytes(KEY_BYTES).toString('base64')}`;
}
