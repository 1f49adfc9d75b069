/** The engine's data keys at start: read once, and what the log says about them. */
import type { Logger } from 'pino';
import { type Keyring, resolveKeyring } from './keyring.ts';

/**
 * The keyring of the settings and environment (see resolveKeyring); throws STORE_KEY_INVALID.
 * Says once in the log whether content is encrypted at rest, and warns about a key file that
 * group or others may read.
 */
export function dataKeysAtStart(settings: { dataKeyFile?: string | undefined }, log: Logger, env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  const { keyring, warnings } = resolveKeyring(settings, env);
  for (const w of warnings) log.warn(w);
  if (keyring) log.info({ keyId: keyring.sealing.id, keys: keyring.keys.length, source: keyring.source }, 'message content is encrypted at rest');
  else log.warn('message content is stored unencrypted; set CONDUIT_DATA_KEY_FILE to a key file (conduit store keygen prints a key) to encrypt it at rest');
  return keyring;
}

/** What a store is given about keys: the keyring, and a warning for keys that sealed its rows and are missing. */
export function storeKeyOptions(keyring: Keyring | undefined, log: Logger): { keyring?: Keyring; onKeysAbsent: (keyIds: readonly string[]) => void } {
  return {
    ...(keyring ? { keyring } : {}),
    onKeysAbsent: (keyIds) =>
      log.warn(
        { keyIds },
        'data keys that sealed rows of the store are not in the keyring: those rows cannot be read (conduit store stats counts them by key); add the keys back after the first line of the key file',
      ),
  };
}
