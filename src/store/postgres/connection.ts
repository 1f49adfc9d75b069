import pg from 'pg';
import { ConduitError } from '../../errors.ts';

/** OIDs of the types read back as something other than pg's default (see pg-types). */
const INT8 = 20;
const TIMESTAMPTZ = 1184;

/**
 * Connection settings from a `postgres://` URL: bigint ids and epoch milliseconds as numbers
 * (all far below 2^53), timestamptz as ISO 8601 strings, the same as the embedded store's rows.
 */
export function connectionConfig(url: string, idleInTransactionMs?: number): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: 'conduit',
    // A process paused in the middle of a transaction (SIGSTOP, a frozen VM) would hold its row
    // locks, and with them the leases another instance must take over: the server ends such a
    // session after this long.
    ...(idleInTransactionMs ? { options: `-c idle_in_transaction_session_timeout=${Math.round(idleInTransactionMs)}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8) return (v: string) => Number(v);
        // 'infinity' and '-infinity' (a released lease) stay as PostgreSQL writes them.
        if (oid === TIMESTAMPTZ) return (v: string) => (v.endsWith('infinity') ? v : new Date(v).toISOString());
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  };
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unreadable URL)';
  }
}

/** What went wrong, in PostgreSQL's words with its SQLSTATE, or the network's (ECONNREFUSED). */
export function postgresWords(e: unknown): string {
  const x = e as { message?: unknown; code?: unknown };
  const message = typeof x.message === 'string' && x.message !== '' ? x.message : String(e);
  return typeof x.code === 'string' && !message.includes(x.code) ? `${message} (${x.code})` : message;
}

/**
 * Runs `work` in a transaction on a connection of `pool` (rolled back if it throws); a
 * connection that cannot be made is STORE_FAILED naming the store (`url`, redacted).
 */
export async function inTransaction<T>(pool: pg.Pool, url: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw new ConduitError('STORE_FAILED', `cannot connect to the PostgreSQL store at ${url}: ${postgresWords(e)}`, { cause: e });
  }
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
