/**
 * `conduit store keygen`, `conduit store rekey`, `conduit store stats` by data key, and
 * `conduit start` with a wrong key (the repository's channels: the engine stops before any starts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/store.ts';
import { parseKeyFile } from '../../src/store/sealing/keyring.ts';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import { message } from '../store/support.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { conduit, tempFiles } from './support.ts';

const ADMIN = { CONDUIT_ADMIN_TOKEN: 'a-long-enough-admin-token-for-tests-0123456789' };

/** A new key line from the CLI itself. */
function keygen(id: string): string {
  const r = conduit(['store', 'keygen', '--id', id]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('conduit store keygen prints one key line (and how to use it on stderr); a bad id is a usage error', () => {
  const r = conduit(['store', 'keygen']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^k-\d{8}-[0-9a-f]{6} [A-Za-z0-9+/]{43}=\n$/);
  assert.match(r.stderr, /Put this line first in the data key file .* then run conduit store rekey/);
  assert.equal(parseKeyFile(keygen('k-ops.1'), 'stdout').sealing.id, 'k-ops.1');
  const bad = conduit(['store', 'keygen', '--id', 'no/slashes']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /key id 'no\/slashes' is not 1 to 64 of/);
});

test('rotation with the CLI: rekey seals old-key and plaintext rows with the new first key, stats shows rows by key, a rerun does nothing', async (t) => {
  const files = tempFiles(t);
  const data = join(files.dir, 'data');
  mkdirSync(data);
  const oldLine = keygen('k-old');
  const plain = new SqliteStore(join(data, 'conduit.db'), { synchronous: 'normal' });
  await plain.insertMessage(message());
  await plain.close();
  const sealed = new SqliteStore(join(data, 'conduit.db'), { synchronous: 'normal', keyring: parseKeyFile(oldLine, 'old') });
  for (let i = 0; i < 2; i++) await sealed.insertMessage(message());
  await sealed.close();
  const before = conduit(['store', 'stats', '--data', data]);
  assert.equal(before.status, 0, before.stderr);
  assert.match(before.stdout, /Rows holding content, by data key:\ndata key +messages +deliveries +attempts\n-+ +-+ +-+ +-+\nplaintext +1 +1 +0\nk-old +2 +2 +0\n$/);
  const keys = files.write('data.keys', `# first line seals\n${keygen('k-new')}\n${oldLine}\n`);
  const r = conduit(['store', 'rekey', '--data', data, '--data-key-file', keys]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Sealing with data key k-new \(the first of .*data\.keys\)/);
  assert.match(r.stdout, /^messages: 3 sealed with k-new \(1 plaintext, 2 from k-old\)\ndeliveries: 3 sealed with k-new \(1 plaintext, 2 from k-old\)\nattempts: 0 sealed with k-new\n/);
  assert.match(r.stdout, /No row is sealed with k-old any more: once every instance runs with the new key first, those lines may leave the key file\./);
  const stats = JSON.parse(conduit(['store', 'stats', '--data', data, '--json']).stdout) as { keys: Array<{ table: string; keyId: string | null; rows: number }> };
  assert.deepEqual(stats.keys, [
    { table: 'messages', keyId: 'k-new', rows: 3 },
    { table: 'deliveries', keyId: 'k-new', rows: 3 },
  ]);
  const again = conduit(['store', 'rekey', '--data', data], { CONDUIT_DATA_KEY_FILE: keys });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^messages: 0 sealed with k-new\ndeliveries: 0 sealed with k-new\nattempts: 0 sealed with k-new\n$/);
  const without = conduit(['store', 'rekey', '--data', data]);
  assert.equal(without.status, 2);
  assert.match(without.stderr, /conduit store rekey needs the data keys: set CONDUIT_DATA_KEY_FILE or pass --data-key-file/);
});

test('conduit start with a key file whose key id is known but whose bytes differ: exit 1, the error says which key', async (t) => {
  const files = tempFiles(t);
  const data = join(files.dir, 'data');
  mkdirSync(data);
  const store = new SqliteStore(join(data, 'conduit.db'), { synchronous: 'normal', keyring: parseKeyFile(keygen('k-1'), 'k') });
  await store.insertMessage(message());
  await store.close();
  const keys = files.write('other.keys', `${keygen('k-1')}\n`);
  const r = conduit(['start', '--data', data, '--port', '0', '--data-key-file', keys], ADMIN);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Conduit did not start: data key k-1 of .*other\.keys is not the key k-1 that sealed rows of .*conduit\.db \(its check value differs\)/);
  const malformed = files.write('bad.keys', 'k-1 too-short\n');
  const bad = conduit(['start', '--data', data, '--port', '0', '--data-key-file', malformed], ADMIN);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Conduit did not start: .*bad\.keys:1: key k-1: the key is not base64/);
});

test('conduit store rekey of a PostgreSQL store', { skip: await postgresUnavailable() }, async (t) => {
  const url = await tempDatabase(t);
  const oldLine = keygen('k-old');
  const store = new PostgresStore(url, { synchronous: 'normal', keyring: parseKeyFile(oldLine, 'old') });
  await store.insertMessage(message());
  await store.close();
  const keys = tempFiles(t).write('data.keys', `${keygen('k-new')}\n${oldLine}\n`);
  const r = conduit(['store', 'rekey', '--store', url, '--data-key-file', keys]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^messages: 1 sealed with k-new \(1 from k-old\)\ndeliveries: 1 sealed with k-new \(1 from k-old\)\n/);
  const stats = conduit(['store', 'stats', '--store', url]);
  assert.match(stats.stdout, /\nk-new +1 +1 +0\n$/);
  writeFileSync(keys, `${keygen('k-new')}\n`);
  const mismatch = conduit(['store', 'rekey', '--store', url, '--data-key-file', keys]);
  assert.equal(mismatch.status, 1);
  assert.match(mismatch.stderr, /data key k-new of .* is not the key k-new that sealed rows of postgres:\/\//);
});
