import pg from 'pg';
import { ConduitError } from '../../errors.ts';
import type { Keyring } from '../sealing/keyring.ts';
import { type RekeyConnection, type RekeyReport, rekey } from '../sealing/rekey.ts';
import { connectionConfig, redactedUrl } from './connection.ts';
import { SCHEMA_VERSION } from './schema.ts';

/**
 * `conduit store rekey` of a PostgreSQL store (see ../sealing/rekey.ts), on a connection of its
 * own beside the running instances: each batch is one short transaction.
 */
export async function rekeyPostgres(url: string, keyring: Keyring, options: { batch?: number } = {}): Promise<RekeyReport> {
  const name = redactedUrl(url);
  const client = new pg.Client(connectionConfig(url));
  await client.connect();
  try {
    const exists = await client.query(`SELECT to_regclass('conduit_meta') IS NOT NULL AS present`);
    const version = (exists.rows[0] as { present: boolean }).present
      ? Number(((await client.query(`SELECT value FROM conduit_meta WHERE key = 'schema_version'`)).rows[0] as { value: string } | undefined)?.value ?? 0)
      : 0;
    if (version !== SCHEMA_VERSION) {
      throw new ConduitError('STORE_FAILED', `${name}: the store has schema ${version}, this Conduit ${SCHEMA_VERSION}: start this Conduit's engine on it once first (it migrates the store)`);
    }
    return await rekey(postgresRekeyConnection(client, url), keyring, options);
  } finally {
    await client.end();
  }
}

/** A connection of the rekey on a connected client (of `url`, named without its password). */
export function postgresRekeyConnection(client: pg.Client, url: string): RekeyConnection {
  return {
    dialect: 'postgres',
    name: redactedUrl(url),
    all: async (sql, params) => (await client.query(sql, params)).rows as Array<Record<string, string | number | null>>,
    transaction: async (work) => {
      await client.query('BEGIN');
      try {
        const result = await work(async (sql, params) => (await client.query(sql, params)).rowCount ?? 0);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
  };
}
