/** `conduit store check`, and `conduit start` on a damaged store: the file named, what to do, the exit code. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/store.ts';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import { message } from '../store/support.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { conduit, tempFiles } from './support.ts';

async function dataDirWithStore(dir: string, messages: number): Promise<string> {
  const data = join(dir, 'data');
  mkdirSync(data);
  const s = new SqliteStore(join(data, 'conduit.db'), { synchronous: 'normal' });
  for (let i = 0; i < messages; i++) await s.insertMessage(message());
  await s.close();
  return data;
}

test('conduit store check: a healthy store is ok, with what it holds (exit 0)', async (t) => {
  const data = await dataDirWithStore(tempFiles(t).dir, 3);
  const r = conduit(['store', 'check', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${join(data, 'conduit.db')}: ok \\(schema \\d+, 3 messages, 3 deliveries, 3 pending, \\d+ bytes\\); integrity check passed in \\d+\\.\\d s\\n$`));
});

test('conduit store check: a damaged store is named with its problem and what to do (exit 1); conduit start refuses it', async (t) => {
  const data = await dataDirWithStore(tempFiles(t).dir, 1);
  writeFileSync(join(data, 'conduit.db'), `garbage${' '.repeat(500)}`);
  const r = conduit(['store', 'check', '--data', data]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /conduit\.db is not a SQLite database/);
  assert.match(r.stderr, /restore .*conduit\.db from a backup/);
  const start = conduit(['start', '--data', data, '--port', '0'], { CONDUIT_ADMIN_TOKEN: 'a-long-enough-admin-token-for-tests-0123456789' });
  assert.equal(start.status, 1);
  assert.match(start.stderr, /Conduit did not start: the store .*conduit\.db is not a SQLite database/);
  assert.match(start.stderr, /conduit store check --data /);
});

test('conduit store without an action, or with another one, is a usage error (exit 2)', () => {
  assert.equal(conduit(['store']).status, 2);
  const r = conduit(['store', 'repair']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no action 'repair' \(only: check, stats, keygen, rekey\)/);
});

test('conduit store stats: per channel messages, pending, content bytes, oldest; the files; --json', async (t) => {
  const data = await dataDirWithStore(tempFiles(t).dir, 3);
  const r = conduit(['store', 'stats', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, new RegExp(`^${join(data, 'conduit.db')}: \\d+\\.\\d MiB \\(of which \\d+\\.\\d MiB free, reused by new rows\\), write-ahead log \\d+\\.\\d MiB$`));
  assert.match(lines[1]!, /^channel +messages +content removed +pending deliveries +content +oldest received$/);
  assert.match(lines[3]!, /^ch +3 +0 +3 +0\.0 MiB +2026-11-20T09:00:00\.\d{3}Z$/);
  const json = conduit(['store', 'stats', '--data', data, '--json']);
  assert.equal(json.status, 0, json.stderr);
  const stats = JSON.parse(json.stdout) as { channels: Array<{ channelId: string; messages: number; pendingDeliveries: number; contentBytes: number }> };
  assert.deepEqual(
    stats.channels.map((c) => [c.channelId, c.messages, c.pendingDeliveries, c.contentBytes > 0]),
    [['ch', 3, 3, true]],
  );
});

test('conduit store stats without a store says so (exit 1)', (t) => {
  const r = conduit(['store', 'stats', '--data', join(tempFiles(t).dir, 'nothing')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no store here/);
});

test('conduit store stats and check of a PostgreSQL store: per channel figures, the database and its tables; an unreachable one exits 1', { skip: await postgresUnavailable() }, async (t) => {
  const url = await tempDatabase(t);
  const store = new PostgresStore(url, { synchronous: 'normal' });
  for (let i = 0; i < 3; i++) await store.insertMessage(message());
  await store.close();
  const r = conduit(['store', 'stats', '--store', url]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^postgres:\/\/postgres@127\.0\.0\.1:5432\/conduit_test_\w+: \d+\.\d MiB \(messages \d+\.\d MiB, deliveries /);
  assert.match(lines[3]!, /^ch +3 +0 +3 +0\.0 MiB +2026-11-20T09:00:00\.\d{3}Z$/);
  const json = JSON.parse(conduit(['store', 'stats', '--store', url, '--json']).stdout) as { store: string; channels: Array<{ channelId: string; messages: number }> };
  assert.deepEqual([json.store, json.channels.map((c) => [c.channelId, c.messages])], ['postgres', [['ch', 3]]]);
  const check = conduit(['store', 'check', '--store', url]);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /: ok \(schema \d+, 3 messages, 3 pending deliveries/);
  const down = conduit(['store', 'check', '--store', 'postgres://postgres@127.0.0.1:1/none']);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /ECONNREFUSED/);
});
