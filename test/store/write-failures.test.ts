/**
 * Issue 8, faults of the store: a write that fails (here SQLITE_BUSY, a real lock held by a
 * second connection on the same file) never throws out of the write-behind, reads keep working
 * and show what is not written yet, and everything lands once writes work again.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import { attempt, message, tempDb } from './support.ts';

/** Holds the database's write lock from another connection until released. */
function holdWriteLock(file: string): { release(): void } {
  const other = new DatabaseSync(file);
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      other.exec('ROLLBACK');
      other.close();
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10);
  assert.ok(condition(), what);
}

test('while writes fail: outcomes stay queued, reads work and show them, lanes never re-read a finished row; all lands afterwards', async (t) => {
  const db = tempDb(t);
  await db.open().close();
  const errors: unknown[] = [];
  let recovered = 0;
  // A short busy timeout: the lock is a failure at once instead of a 5 s wait.
  const store = new SqliteStore(db.file, { synchronous: 'normal', busyTimeoutMs: 10, onWriteError: (e) => errors.push(e), onWriteRecovered: () => recovered++ });
  t.after(() => store.close());
  const [done, retrying, waiting] = [message(), message(), message()];
  for (const m of [done, retrying, waiting]) await store.insertMessage(m);
  const [d1, d2] = await store.pendingDeliveries('ch', 'lis', 0, 10);
  await store.markSent(d1!.id);
  await store.markSent(d2!.id);

  const lock = holdWriteLock(db.file);
  store.recordAttempt(attempt(d1!.id, { controlId: d1!.controlId, response: 'MSA|AA|X' }));
  store.recordAttempt(attempt(d2!.id, { controlId: d2!.controlId, outcome: 'retryable', status: 'errored', code: 'MLLP_CONNECT_REFUSED', nextAttemptAt: 1_900_000_000_000 }));
  // More than a write-behind batch: the flush it triggers fails inside recordAttempt, which must not throw.
  for (let n = 2; n <= 600; n++) {
    store.recordAttempt(attempt(d2!.id, { attempt: n, controlId: d2!.controlId, outcome: 'retryable', status: 'errored', nextAttemptAt: 1_900_000_000_000 + n }));
  }
  await until(() => store.writeFailure() !== undefined, 'the failure is known');
  assert.match(store.writeFailure()!.reason, /locked/);
  assert.equal(errors.length, 1, 'reported once, not at every retry');

  // Reads: the written state plus the unwritten outcomes.
  const view = (await store.getMessage(done.id))!;
  assert.equal(view.status, 'acknowledged');
  assert.deepEqual(
    view.deliveries[0]!.attempts.map((a) => [a.outcome, a.response]),
    [['acknowledged', 'MSA|AA|X']],
  );
  assert.equal((await store.getMessage(retrying.id))!.deliveries[0]!.status, 'errored');
  assert.equal((await store.listMessages({ limit: 10 })).messages.length, 3);
  assert.equal((await store.channelCounts())[0]!.messages, 3);
  // The acknowledged row is not pending again; the errored one carries its new attempt count and backoff.
  assert.deepEqual(
    (await store.pendingDeliveries('ch', 'lis', 0, 10)).map((d) => [d.messageId, d.attempts, d.nextAttemptAt]),
    [
      [retrying.id, 600, 1_900_000_000_600],
      [waiting.id, 0, 0],
    ],
  );
  // Writes that cannot wait are refused with STORE_FAILED; a delivery not marked sent must not be sent.
  const d3 = (await store.pendingDeliveries('ch', 'lis', 0, 10))[1]!;
  await assert.rejects(store.markSent(d3.id), (e: Error & { code?: string }) => e.code === 'STORE_FAILED');
  await assert.rejects(store.insertMessage(message()), (e: Error & { code?: string }) => e.code === 'STORE_FAILED');
  await assert.rejects(store.requeue(done.id), (e: Error & { code?: string }) => e.code === 'STORE_FAILED');

  lock.release();
  await until(() => store.writeFailure() === undefined, 'writes recover by themselves');
  assert.equal(recovered, 1);
  const reader = db.open();
  assert.equal((await reader.getMessage(done.id))!.status, 'acknowledged');
  assert.equal((await reader.getMessage(retrying.id))!.deliveries[0]!.attempts.length, 600);
  assert.equal((await reader.getMessage(waiting.id))!.status, 'queued', 'the refused markSent left no trace');
  assert.equal(store.pendingCount(), 2);
});

test('a failed intake makes the store degraded until a write works again; the next insert is stored', async (t) => {
  const db = tempDb(t);
  await db.open().close();
  const store = new SqliteStore(db.file, { synchronous: 'normal', busyTimeoutMs: 10 });
  t.after(() => store.close());
  const lock = holdWriteLock(db.file);
  await assert.rejects(store.insertMessage(message()), (e: Error & { code?: string }) => e.code === 'STORE_FAILED');
  assert.ok(store.writeFailure());
  lock.release();
  // The probe write of the retry timer notices the recovery without waiting for traffic.
  await until(() => store.writeFailure() === undefined, 'the probe clears the failure');
  const m = message();
  assert.deepEqual(await store.insertMessage(m), { messageId: m.id, duplicate: false });
});

test('close while writes fail closes anyway; the unwritten outcome means a resend after reopening', async (t) => {
  const db = tempDb(t);
  await db.open().close();
  const store = new SqliteStore(db.file, { synchronous: 'normal', busyTimeoutMs: 10 });
  const m = message();
  await store.insertMessage(m);
  const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
  await store.markSent(d!.id);
  const lock = holdWriteLock(db.file);
  store.recordAttempt(attempt(d!.id));
  await store.close();
  lock.release();
  const after = db.open();
  assert.equal(await after.recoverInFlight(), 1);
  assert.equal((await after.pendingDeliveries('ch', 'lis', 0, 1))[0]?.messageId, m.id);
});
