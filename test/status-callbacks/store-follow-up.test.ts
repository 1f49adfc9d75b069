/**
 * The store half of the callbacks' durability: a follow-up delivery is written in the same
 * transaction as the terminal attempt that brings it, so it exists if and only if that attempt
 * was written. Checked by failing the transaction from inside (triggers), and by killing a
 * process (SIGKILL) before and after the write-behind flush.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.ts';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import type { FollowUpDelivery } from '../../src/store/types.ts';
import { attempt, delivery, eachStore, message, tempDb } from '../store/support.ts';

const REPO = join(import.meta.dirname, '..', '..');

function followUp(n = 1): FollowUpDelivery {
  return { destinationId: 'status-callback:lis', lane: 0, controlId: `EVT${n}`, payload: `{"id":"EVT${n}"}`, contentType: 'application/json' };
}

function raw(file: string) {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA busy_timeout = 5000');
  return db;
}

/** Runs a child process that records a terminal attempt with a follow-up and is killed with SIGKILL, before or after the flush. */
function killedChild(file: string, flushFirst: boolean) {
  const script = `
    import { SqliteStore } from ${JSON.stringify(join(REPO, 'src/store/sqlite/store.ts'))};
    const store = new SqliteStore(${JSON.stringify(file)});
    const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
    store.markSent(d.id);
    await store.flush();
    store.recordAttempt({ deliveryId: d.id, controlId: d.controlId, attempt: 1, startedAt: new Date().toISOString(), latencyMs: 1,
      outcome: 'acknowledged', status: 'acknowledged', response: 'MSA|AA',
      followUp: { destinationId: 'status-callback:lis', lane: 0, controlId: 'EVT', payload: '{}', contentType: 'application/json' } });
    ${flushFirst ? 'await store.flush();' : ''}
    process.kill(process.pid, 'SIGKILL');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
}

await eachStore((tempStore) => {
  test('a terminal attempt with a follow-up: both written, the follow-up queued and pending, shown as following its destination', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message();
    await store.insertMessage(m);
    const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
    store.markSent(d!.id);
    assert.equal(store.pendingCount(), 1);
    store.recordAttempt(attempt(d!.id, { controlId: d!.controlId, response: 'MSA|AA', followUp: followUp() }));
    // Follow-ups are read from the store: once written.
    await store.settled();
    assert.equal(store.pendingCount(), 1, 'the delivery is done, its follow-up is pending');
    const [f] = await store.pendingDeliveries('ch', 'status-callback:lis', 0, 10);
    assert.deepEqual(
      { messageId: f!.messageId, controlId: f!.controlId, payload: f!.payload, contentType: f!.contentType, attempts: f!.attempts },
      { messageId: m.id, controlId: 'EVT1', payload: '{"id":"EVT1"}', contentType: 'application/json', attempts: 0 },
    );
    const view = (await store.getMessage(m.id))!;
    assert.deepEqual(
      view.deliveries.map((x) => [x.destinationId, x.status, x.follows]),
      [
        ['lis', 'acknowledged', undefined],
        ['status-callback:lis', 'queued', 'lis'],
      ],
    );
    store.recordAttempt(attempt(f!.id, { controlId: 'EVT1' }));
    assert.equal(store.pendingCount(), 0);
    assert.equal((await store.getMessage(m.id))!.status, 'acknowledged');
  });

  test('resend: follow-ups are not requeued; the new outcome replaces the earlier follow-up', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message();
    await store.insertMessage(m);
    const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
    store.recordAttempt(attempt(d!.id, { controlId: d!.controlId, followUp: followUp(1) }));
    // Follow-ups are read from the store: once written.
    await store.settled();
    const [f] = await store.pendingDeliveries('ch', 'status-callback:lis', 0, 1);
    store.recordAttempt(attempt(f!.id, { controlId: 'EVT1' }));
    assert.equal(await store.requeue(m.id), 1, 'only the delivery itself');
    assert.equal(store.pendingCount(), 1);
    const [again] = await store.pendingDeliveries('ch', 'lis', 0, 1);
    store.recordAttempt(attempt(again!.id, { attempt: 2, controlId: again!.controlId, outcome: 'rejected', status: 'rejected', code: 'HL7_APPLICATION_REJECT', followUp: followUp(2) }));
    // Follow-ups are read from the store: once written.
    await store.settled();
    assert.equal(store.pendingCount(), 1);
    const [f2] = await store.pendingDeliveries('ch', 'status-callback:lis', 0, 1);
    assert.equal(f2!.id, f!.id, 'the same row, replaced');
    assert.equal(f2!.controlId, 'EVT2');
    assert.equal(f2!.payload, '{"id":"EVT2"}');
    assert.equal(f2!.attempts, 0);
  });

  test('an outcome for a follow-up replaced while it was on the wire leaves the new one pending', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message();
    await store.insertMessage(m);
    const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
    store.recordAttempt(attempt(d!.id, { controlId: d!.controlId, followUp: followUp(1) }));
    // Follow-ups are read from the store: once written.
    await store.settled();
    const [f] = await store.pendingDeliveries('ch', 'status-callback:lis', 0, 1);
    store.markSent(f!.id);
    // Meanwhile the message is resent and settles again.
    await store.requeue(m.id);
    const [again] = await store.pendingDeliveries('ch', 'lis', 0, 1);
    store.recordAttempt(attempt(again!.id, { attempt: 2, controlId: again!.controlId, followUp: followUp(2) }));
    // Follow-ups are read from the store: once written.
    await store.settled();
    // The first event's answer arrives.
    store.recordAttempt(attempt(f!.id, { controlId: 'EVT1' }));
    await store.settled();
    const pending = await store.pendingDeliveries('ch', 'status-callback:lis', 0, 1);
    assert.deepEqual(
      pending.map((x) => x.controlId),
      ['EVT2'],
    );
    assert.equal(store.pendingCount(), 1);
    store.recordAttempt(attempt(pending[0]!.id, { controlId: 'EVT2' }));
    assert.equal(store.pendingCount(), 0);
    assert.equal((await store.getMessage(m.id))!.deliveries[1]!.attempts.length, 2, 'both answers are in the history');
  });
});

test('the transaction fails on the follow-up: the terminal attempt is not written either; both land when the write succeeds', async (t) => {
  const db = tempDb(t);
  const errors: unknown[] = [];
  const store = new SqliteStore(db.file, { synchronous: 'normal', onWriteError: (e) => errors.push(e) });
  t.after(() => store.close());
  const m = message();
  await store.insertMessage(m);
  const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
  const other = raw(db.file);
  other.exec(`CREATE TRIGGER refuse_follow_up BEFORE INSERT ON deliveries WHEN NEW.follows IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  store.recordAttempt(attempt(d!.id, { controlId: d!.controlId, outcome: 'rejected', status: 'rejected', code: 'HL7_APPLICATION_REJECT', followUp: followUp() }));
  // Follow-ups are read from the store: once written.
  await store.settled();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(errors.length, 1, 'the write-behind batch failed');
  const rows = () => other.prepare('SELECT destination_id, status FROM deliveries ORDER BY id').all().map((r) => ({ ...r }));
  const attempts = () => (other.prepare('SELECT count(*) AS n FROM attempts').get() as { n: number }).n;
  assert.deepEqual(rows(), [{ destination_id: 'lis', status: 'queued' }], 'neither the outcome nor the follow-up');
  assert.equal(attempts(), 0);
  other.exec('DROP TRIGGER refuse_follow_up');
  await store.flush();
  assert.deepEqual(rows(), [
    { destination_id: 'lis', status: 'rejected' },
    { destination_id: 'status-callback:lis', status: 'queued' },
  ]);
  assert.equal(attempts(), 1);
  assert.equal(store.pendingCount(), 1);
  other.close();
});

test('the transaction fails on the attempt: no follow-up', async (t) => {
  const db = tempDb(t);
  const store = new SqliteStore(db.file, { synchronous: 'normal', onWriteError: () => {} });
  t.after(() => store.close());
  const m = message();
  await store.insertMessage(m);
  const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
  const other = raw(db.file);
  other.exec(`CREATE TRIGGER refuse_attempt BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  store.recordAttempt(attempt(d!.id, { controlId: d!.controlId, outcome: 'retryable', status: 'dead', code: 'MLLP_CONNECT_REFUSED', followUp: followUp() }));
  // Follow-ups are read from the store: once written.
  await store.settled();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    other.prepare('SELECT destination_id FROM deliveries').all().map((r) => ({ ...r })),
    [{ destination_id: 'lis' }],
  );
  other.exec('DROP TRIGGER refuse_attempt');
  other.close();
});

test('kill -9 before the flush: neither is written, and the delivery comes back to be sent again', async (t) => {
  const db = tempDb(t);
  const first = db.open();
  const m = message();
  await first.insertMessage(m);
  await first.close();
  killedChild(db.file, false);
  const after = db.open();
  assert.equal(await after.recoverInFlight(), 1, 'the delivery was on the wire');
  const view = (await after.getMessage(m.id))!;
  assert.deepEqual(
    view.deliveries.map((d) => [d.destinationId, d.status, d.attempts.map((a) => a.outcome)]),
    [['lis', 'queued', ['unknown']]],
  );
});

test('kill -9 after the flush: both are there, the follow-up pending', async (t) => {
  const db = tempDb(t);
  const first = db.open();
  const m = message();
  await first.insertMessage(m);
  await first.close();
  killedChild(db.file, true);
  const after = db.open();
  assert.deepEqual(
    (await after.getMessage(m.id))!.deliveries.map((d) => [d.destinationId, d.status, d.attempts.length]),
    [
      ['lis', 'acknowledged', 1],
      ['status-callback:lis', 'queued', 0],
    ],
  );
  assert.equal(after.pendingCount(), 1);
  assert.equal((await after.pendingDeliveries('ch', 'status-callback:lis', 0, 10)).length, 1);
});

test('a schema 2 database is migrated: follow-ups and submissions work on it', async (t) => {
  const db = tempDb(t);
  db.open(); // creates the directory
  const m = message({ deliveries: [delivery()] });
  const old = raw(join(db.file, '..', 'v2.db'));
  old.exec(readFileSync(join(import.meta.dirname, 'fixtures', 'schema-v2.sql'), 'utf8'));
  old.close();
  const store = new SqliteStore(join(db.file, '..', 'v2.db'), { synchronous: 'normal' });
  t.after(() => store.close());
  await store.insertMessage(m);
  const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
  store.recordAttempt(attempt(d!.id, { controlId: d!.controlId, followUp: followUp() }));
  // Follow-ups are read from the store: once written.
  await store.settled();
  assert.equal((await store.pendingDeliveries('ch', 'status-callback:lis', 0, 1)).length, 1);
  const s = await store.recordSubmission({ id: m.id, channelId: 'ch', idempotencyKey: 'k', fingerprint: 'f', messageIds: [m.id], receivedAt: m.receivedAt });
  assert.deepEqual(await store.findSubmission('ch', { idempotencyKey: 'k' }), s);
  const check = raw(join(db.file, '..', 'v2.db'));
  assert.equal((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION);
  check.close();
});
