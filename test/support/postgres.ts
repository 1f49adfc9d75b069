/**
 * The PostgreSQL server the tests use: CONDUIT_TEST_POSTGRES, by default the one this machine
 * runs (127.0.0.1:5432, trust auth, user postgres). Each test gets a database of its own,
 * created for it and dropped after it. Without a server the PostgreSQL tests are skipped with
 * the reason, except under CI (CI=true), where that is a failure: see README, Tests.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL = process.env.CONDUIT_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let reachable: Promise<string | undefined> | undefined;

/** Undefined when the server answers; else why the PostgreSQL tests are skipped. */
export function postgresUnavailable(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (e) {
      const reason = `PostgreSQL not reachable at ${POSTGRES_URL} (${(e as Error).message}); start it (README, Tests) or set CONDUIT_TEST_POSTGRES`;
      if (process.env.CI === 'true') throw new Error(reason);
      return reason;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** Runs one statement on the server's maintenance database. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A new empty database, dropped (with whatever is still connected to it) when the test ends,
 * after `before` (closing what uses it); returns its URL.
 */
export async function tempDatabase(t: { after(fn: () => Promise<void>): unknown }, before?: () => Promise<void>): Promise<string> {
  const name = `conduit_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  t.after(async () => {
    await before?.();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
