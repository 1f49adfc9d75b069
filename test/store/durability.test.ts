/** Closing and reopening the same database file: nothing is lost, in-flight rows are recovered. */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import { attempt, delivery, eachStore, message, tempDb } from './support.ts';

await eachStore((tempStore) => {
  test('reopening the file keeps messages, deliveries, statuses, attempts and the backlog count', async (t) => {
    const db = await tempStore(t);
    const before = db.open();
    const acked = message({ deliveries: [delivery({ controlId: 'C-ACK' })] });
    const errored = message();
    const queued = message({ deliveries: [delivery({ lane: 1 })] });
    for (const m of [acked, errored, queued]) await before.insertMessage(m);
    const [da, de] = await before.pendingDeliveries('ch', 'lis', 0, 2);
    before.markSent(da!.id);
    before.recordAttempt(attempt(da!.id, { response: 'MSA|AA|C-ACK' }));
    before.recordAttempt(attempt(de!.id, { outcome: 'retryable', status: 'errored', code: 'MLLP_CONNECT_REFUSED', nextAttemptAt: 1_800_000_000_000 }));
    const views = await Promise.all([acked, errored, queued].map((m) => before.getMessage(m.id)));
    await before.settled();
    const list = await before.listMessages({ limit: 10 });
    const counts = await before.channelCounts();
    await before.close();

    const after = db.open();
    assert.deepEqual(
      await Promise.all([acked, errored, queued].map((m) => after.getMessage(m.id))),
      views,
    );
    assert.deepEqual(await after.listMessages({ limit: 10 }), list);
    assert.deepEqual(await after.channelCounts(), counts);
    assert.equal(after.pendingCount(), 2);
    assert.deepEqual(
      (await after.pendingDeliveries('ch', 'lis', 0, 10)).map((d) => [d.messageId, d.attempts, d.nextAttemptAt]),
      [[errored.id, 1, 1_800_000_000_000]],
    );
    assert.deepEqual(
      (await after.pendingDeliveries('ch', 'lis', 1, 10)).map((d) => d.messageId),
      [queued.id],
    );
  });

  test('outcomes recorded just before close are written by close', async (t) => {
    const db = await tempStore(t);
    const s = db.open();
    const m = message();
    await s.insertMessage(m);
    const d = (await s.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    s.markSent(d.id);
    s.recordAttempt(attempt(d.id));
    await s.close();
    const reopened = db.open();
    assert.equal((await reopened.getMessage(m.id))!.status, 'acknowledged');
    assert.equal(reopened.pendingCount(), 0);
  });

  test('an insert queued in the same tick as close is committed, not lost', async (t) => {
    const db = await tempStore(t);
    const s = db.open();
    const m = message();
    const inserted = s.insertMessage(m);
    await s.close();
    assert.deepEqual(await inserted, { messageId: m.id, duplicate: false });
    assert.equal((await db.open().getMessage(m.id))?.id, m.id);
  });

  test('idempotency holds across a restart: a redelivery after reopening is a duplicate', async (t) => {
    const db = await tempStore(t);
    const first = message({ sourceId: 'res_R', sourceVersion: '3' });
    const s1 = db.open();
    await s1.insertMessage(first);
    await s1.close();
    const s2 = db.open();
    assert.deepEqual(await s2.insertMessage(message({ sourceId: 'res_R', sourceVersion: '3' })), { messageId: first.id, duplicate: true });
    assert.equal(s2.pendingCount(), 1);
  });

  test("recoverInFlight: after a restart, rows left 'sent' are queued again, keeping their control id, with an attempt 'outcome unknown'", async (t) => {
    const db = await tempStore(t);
    const s1 = db.open();
    const inFlight = message({ deliveries: [delivery({ controlId: 'C-INFLIGHT' })] });
    const waiting = message();
    const done = message();
    for (const m of [inFlight, waiting, done]) await s1.insertMessage(m);
    const [a, , c] = await s1.pendingDeliveries('ch', 'lis', 0, 3);
    s1.recordAttempt(attempt(a!.id, { outcome: 'retryable', status: 'errored', nextAttemptAt: 1 }));
    s1.markSent(a!.id);
    s1.markSent(c!.id);
    s1.recordAttempt(attempt(c!.id));
    await s1.close();

    // As if the process had been killed with a message on the wire.
    const s2 = db.open();
    assert.equal((await s2.getMessage(inFlight.id))!.deliveries[0]!.status, 'sent');
    assert.equal(await s2.recoverInFlight(), 1);
    const v = (await s2.getMessage(inFlight.id))!;
    assert.equal(v.deliveries[0]!.status, 'queued');
    assert.equal(v.deliveries[0]!.controlId, 'C-INFLIGHT');
    // The attempt on the wire at the kill is counted: the receiver may have taken it.
    assert.deepEqual(
      v.deliveries[0]!.attempts.map((a) => [a.attempt, a.outcome, a.detail]),
      [
        [1, 'retryable', undefined],
        [2, 'unknown', 'outcome unknown: engine restarted'],
      ],
    );
    assert.equal((await s2.getMessage(waiting.id))!.status, 'queued');
    assert.equal((await s2.getMessage(done.id))!.status, 'acknowledged');
    assert.equal(s2.pendingCount(), 2);
    assert.deepEqual(
      (await s2.pendingDeliveries('ch', 'lis', 0, 10)).map((d) => [d.messageId, d.attempts]),
      [
        [inFlight.id, 2],
        [waiting.id, 0],
      ],
    );
    // Nothing more to recover.
    assert.equal(await s2.recoverInFlight(), 0);
  });

  test('the database file is created with its directory, and a second store on it sees committed inserts', async (t) => {
    const db = await tempStore(t);
    const writer = db.open();
    const m = message();
    await writer.insertMessage(m);
    const reader = db.open();
    assert.equal((await reader.getMessage(m.id))?.rawInput, m.rawInput);
    assert.equal(reader.pendingCount(), 1);
  });

  test('close is idempotent, and ping answers false once closed', async (t) => {
    const s = (await tempStore(t)).open();
    await s.close();
    await s.close();
    assert.equal(await s.ping(), false);
  });
});

test('a file written by a newer schema is refused with STORE_FAILED', async (t) => {
  const db = tempDb(t);
  await db.open().close();
  const raw = new DatabaseSync(db.file);
  raw.exec('PRAGMA user_version = 99');
  raw.close();
  assert.throws(
    () => new SqliteStore(db.file),
    (e: Error & { code?: string }) => e.code === 'STORE_FAILED' && /newer Conduit \(schema 99\)/.test(e.message),
  );
});
