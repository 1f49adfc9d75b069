/**
 * Issue 8: at open the store checks its file. A malformed or truncated database is refused
 * (STORE_FAILED naming the file and what to do), never opened as healthy, and a store that
 * existed is never silently replaced by an empty one.
 */
import assert from 'node:assert/strict';
import { existsSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { test } from 'node:test';
import { checkStore, markerOf } from '../../src/store/sqlite/check.ts';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import { message, tempDb } from './support.ts';

/** A closed store file with `count` messages, checkpointed into the main file (no -wal left). */
async function storeWith(t: Parameters<typeof tempDb>[0], count: number) {
  const db = tempDb(t);
  const s = db.open();
  for (let i = 0; i < count; i++) await s.insertMessage(message({ rawInput: `{"n": ${i}, "pad": "${'x'.repeat(2000)}"}` }));
  await s.close();
  return db;
}

function refusedWith(pattern: RegExp) {
  return (e: Error & { code?: string }) => {
    assert.equal(e.code, 'STORE_FAILED');
    assert.match(e.message, pattern);
    assert.match(e.message, /Restore conduit\.db from a backup/);
    assert.match(e.message, /conduit store check --data /);
    return true;
  };
}

test('a healthy store opens, and a marker records that a store exists here', async (t) => {
  const db = await storeWith(t, 3);
  assert.ok(existsSync(markerOf(db.file)));
  const s = db.open();
  assert.equal((await s.listMessages({ limit: 10 })).messages.length, 3);
  assert.deepEqual(checkStore(db.file).problems, []);
  assert.equal(checkStore(db.file).messages, 3);
});

test('a file that is not a SQLite database is refused, naming the file', async (t) => {
  const db = await storeWith(t, 1);
  writeFileSync(db.file, `not a database${' '.repeat(200)}`);
  assert.throws(() => new SqliteStore(db.file), refusedWith(new RegExp(`${db.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a SQLite database`)));
});

test('a truncated database is refused: cut inside a page, and cut at a page boundary', async (t) => {
  const db = await storeWith(t, 50);
  const size = statSync(db.file).size;
  const original = readFileSync(db.file);
  truncateSync(db.file, size - 1000);
  assert.throws(() => new SqliteStore(db.file), refusedWith(/is truncated: \d+ bytes is not a whole number of 4096-byte pages/));
  writeFileSync(db.file, original);
  truncateSync(db.file, size - 4096 * 4);
  assert.throws(() => new SqliteStore(db.file), refusedWith(/is truncated/));
  assert.equal(checkStore(db.file).ok, false);
});

test('a damaged page inside the file fails the quick check and is refused', async (t) => {
  const db = await storeWith(t, 50);
  // Overwrite a page in the middle of the table's b-tree with garbage of the same size.
  const fd = openSync(db.file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 5);
  closeSync(fd);
  assert.throws(() => new SqliteStore(db.file), refusedWith(/quick check|could not be read/));
  const report = checkStore(db.file);
  assert.equal(report.ok, false);
  assert.ok(report.problems.length > 0);
  // The cheaper start-up check (--store-check header) looks at the header and size only: this damage gets past it.
  const s = new SqliteStore(db.file, { check: 'header' });
  await s.close();
});

test('a store that existed is never replaced by an empty one: missing, emptied, or only its -wal left', async (t) => {
  const db = await storeWith(t, 2);
  rmSync(db.file);
  assert.throws(() => new SqliteStore(db.file), refusedWith(/is missing but a store was created here \(conduit\.db\.created\)/));
  assert.ok(!existsSync(db.file) || statSync(db.file).size === 0, 'nothing was created in its place');
  writeFileSync(db.file, '');
  assert.throws(() => new SqliteStore(db.file), refusedWith(/is empty but a store was created here/));
  // Without the marker (a store from before it existed): a write-ahead log without its database.
  rmSync(markerOf(db.file));
  writeFileSync(`${db.file}-wal`, Buffer.alloc(8192, 1));
  assert.throws(() => new SqliteStore(db.file), refusedWith(/its write-ahead log conduit\.db-wal \(8192 bytes\) is not/));
});

test('a new data directory (no file, or the empty file made before SQLite opens it) gets a new store', async (t) => {
  const db = tempDb(t);
  const s = db.open();
  assert.equal(s.pendingCount(), 0);
  await s.close();
  rmSync(db.file);
  rmSync(markerOf(db.file));
  writeFileSync(db.file, '');
  assert.equal(db.open().pendingCount(), 0);
});
