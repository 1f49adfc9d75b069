/** The delivery lifecycle: backlog per lane, sent, attempts and their outcomes, requeue, relane. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../src/store/types.ts';
import { attempt, delivery, eachStore, message } from './support.ts';

async function insertMany(store: Store, count: number, lane: (i: number) => number = () => 0) {
  const ms = Array.from({ length: count }, (_, i) => message({ deliveries: [delivery({ lane: lane(i) })] }));
  for (const m of ms) await store.insertMessage(m);
  return ms;
}

await eachStore((tempStore) => {
  test('pendingDeliveries: oldest first, up to the limit, with the delivery fields', async (t) => {
    const store = (await tempStore(t)).open();
    const ms = await insertMany(store, 5);
    const page = await store.pendingDeliveries('ch', 'lis', 0, 3);
    assert.deepEqual(
      page.map((d) => d.messageId),
      ms.slice(0, 3).map((m) => m.id),
    );
    const d = page[0]!;
    assert.equal(typeof d.id, 'number');
    const sent = ms[0]!.deliveries[0]!;
    assert.deepEqual(
      { ...d, id: 0 },
      {
        id: 0,
        messageId: ms[0]!.id,
        destinationId: 'lis',
        controlId: sent.controlId,
        payload: sent.payload,
        contentType: sent.contentType,
        attempts: 0,
        nextAttemptAt: 0,
        partitionKey: ms[0]!.partitionKey,
        sourceId: ms[0]!.sourceId,
        sourceVersion: ms[0]!.sourceVersion,
        receivedAt: ms[0]!.receivedAt,
      },
    );
  });

  test('pendingDeliveries: only the given channel, destination and lane', async (t) => {
    const store = (await tempStore(t)).open();
    const a0 = message({ deliveries: [delivery({ lane: 0 }), delivery({ destinationId: 'ehr', lane: 0 })] });
    const a1 = message({ deliveries: [delivery({ lane: 1 })] });
    const b0 = message({ channelId: 'other', deliveries: [delivery({ lane: 0 })] });
    for (const m of [a0, a1, b0]) await store.insertMessage(m);
    const ids = async (ch: string, dest: string, lane: number) => (await store.pendingDeliveries(ch, dest, lane, 10)).map((d) => d.messageId);
    assert.deepEqual(await ids('ch', 'lis', 0), [a0.id]);
    assert.deepEqual(await ids('ch', 'lis', 1), [a1.id]);
    assert.deepEqual(await ids('ch', 'ehr', 0), [a0.id]);
    assert.deepEqual(await ids('other', 'lis', 0), [b0.id]);
    assert.deepEqual(await ids('ch', 'lis', 2), []);
    assert.deepEqual(await ids('nope', 'lis', 0), []);
  });

  test('markSent: the delivery is sent and still pending (it may need a resend)', async (t) => {
    const store = (await tempStore(t)).open();
    const [m] = await insertMany(store, 1);
    const [d] = await store.pendingDeliveries('ch', 'lis', 0, 10);
    store.markSent(d!.id);
    assert.equal((await store.getMessage(m!.id))!.deliveries[0]!.status, 'sent');
    assert.equal((await store.getMessage(m!.id))!.status, 'sent');
    assert.deepEqual(
      (await store.pendingDeliveries('ch', 'lis', 0, 10)).map((x) => x.id),
      [d!.id],
    );
    assert.equal(store.pendingCount(), 1);
  });

  test('an acknowledged outcome is visible at once: the next backlog read does not return the row again', async (t) => {
    const store = (await tempStore(t)).open();
    await insertMany(store, 3);
    const first = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.markSent(first.id);
    store.recordAttempt(attempt(first.id));
    // No wait: the write-behind timer has not fired, the read must flush it first.
    const next = await store.pendingDeliveries('ch', 'lis', 0, 10);
    assert.ok(!next.some((d) => d.id === first.id));
    assert.equal(next.length, 2);
    assert.equal(store.pendingCount(), 2);
  });

  test('draining a lane one row at a time returns each row exactly once', async (t) => {
    const store = (await tempStore(t)).open();
    const ms = await insertMany(store, 50);
    const seen: string[] = [];
    for (;;) {
      const [d] = await store.pendingDeliveries('ch', 'lis', 0, 1);
      if (!d) break;
      seen.push(d.messageId);
      store.markSent(d.id);
      store.recordAttempt(attempt(d.id, { outcome: seen.length % 2 ? 'acknowledged' : 'rejected', status: seen.length % 2 ? 'acknowledged' : 'rejected' }));
    }
    assert.deepEqual(
      seen,
      ms.map((m) => m.id),
    );
    assert.equal(store.pendingCount(), 0);
  });

  test('a retryable outcome leaves the delivery errored and pending, with its attempt count and next attempt time', async (t) => {
    const store = (await tempStore(t)).open();
    const [m] = await insertMany(store, 1);
    const d = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    const next = Date.UTC(2026, 10, 20, 9, 5, 0);
    store.markSent(d.id);
    store.recordAttempt(attempt(d.id, { outcome: 'retryable', status: 'errored', code: 'MLLP_ACK_TIMEOUT', nextAttemptAt: next }));
    const again = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    assert.equal(again.id, d.id);
    assert.equal(again.attempts, 1);
    assert.equal(again.nextAttemptAt, next);
    const v = (await store.getMessage(m!.id))!;
    assert.equal(v.status, 'errored');
    assert.equal(v.deliveries[0]!.nextAttemptAt, '2026-11-20T09:05:00.000Z');
    assert.equal(store.pendingCount(), 1);
    // The retry is marked sent again (errored → sent).
    store.markSent(d.id);
    assert.equal((await store.getMessage(m!.id))!.deliveries[0]!.status, 'sent');
  });

  test('rejected and dead are terminal: not pending, counted out of the backlog', async (t) => {
    const store = (await tempStore(t)).open();
    const [a, b, c] = await insertMany(store, 3);
    const [da, db] = await store.pendingDeliveries('ch', 'lis', 0, 2);
    store.recordAttempt(attempt(da!.id, { outcome: 'rejected', status: 'rejected', code: 'HL7_APPLICATION_REJECT' }));
    store.recordAttempt(attempt(db!.id, { attempt: 10, outcome: 'retryable', status: 'dead', code: 'MLLP_CONNECT_REFUSED' }));
    assert.deepEqual(
      (await store.pendingDeliveries('ch', 'lis', 0, 10)).map((d) => d.messageId),
      [c!.id],
    );
    assert.equal(store.pendingCount(), 1);
    assert.equal((await store.getMessage(a!.id))!.status, 'rejected');
    assert.equal((await store.getMessage(b!.id))!.status, 'dead');
  });

  test('backlogByDestination: pending deliveries (queued, sent, errored) per channel and destination, as committed', async (t) => {
    const store = (await tempStore(t)).open();
    await store.insertMessage(message({ deliveries: [delivery(), delivery({ destinationId: 'ehr' })] }));
    await store.insertMessage(message({ deliveries: [delivery({ lane: 1 })] }));
    await store.insertMessage(message({ channelId: 'other', deliveries: [delivery()] }));
    await store.insertMessage(message({ deliveries: [delivery()] }));
    await store.insertMessage(message({ deliveries: [delivery()] }));
    const [first, second, third] = await store.pendingDeliveries('ch', 'lis', 0, 10);
    store.recordAttempt(attempt(first!.id));
    store.recordAttempt(attempt(second!.id, { outcome: 'retryable', status: 'errored', nextAttemptAt: Date.now() + 60_000 }));
    store.recordAttempt(attempt(third!.id, { attempt: 3, outcome: 'retryable', status: 'dead' }));
    await store.settled();
    const byKey = (rows: Array<{ channelId: string; destinationId: string; pending: number }>) =>
      rows.map((r) => `${r.channelId}/${r.destinationId}=${r.pending}`).sort();
    // lis: the errored row on lane 0 and the row on lane 1; the acknowledged and dead ones are not pending.
    assert.deepEqual(byKey(await store.backlogByDestination()), ['ch/ehr=1', 'ch/lis=2', 'other/lis=1']);
  });

  test('markSent does not revive a delivery that already has a terminal outcome', async (t) => {
    const store = (await tempStore(t)).open();
    const [m] = await insertMany(store, 1);
    const d = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.recordAttempt(attempt(d.id));
    store.markSent(d.id);
    assert.equal((await store.getMessage(m!.id))!.deliveries[0]!.status, 'acknowledged');
    assert.deepEqual(await store.pendingDeliveries('ch', 'lis', 0, 10), []);
  });

  test('written-behind outcomes reach the file within a few milliseconds without any read', async (t) => {
    const db = await tempStore(t);
    const store = db.open();
    const [m] = await insertMany(store, 1);
    const d = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.recordAttempt(attempt(d.id));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A second connection sees it: it was committed, not only queued in memory.
    const reader = db.open();
    assert.equal((await reader.getMessage(m!.id))!.deliveries[0]!.status, 'acknowledged');
  });

  test('requeue: terminal deliveries become queued again with the same control id and payload; history is kept', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message({ deliveries: [delivery({ destinationId: 'lis', controlId: 'C-KEEP' }), delivery({ destinationId: 'ehr' })] });
    await store.insertMessage(m);
    const lis = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    const ehr = (await store.pendingDeliveries('ch', 'ehr', 0, 1))[0]!;
    store.recordAttempt(attempt(lis.id, { outcome: 'rejected', status: 'rejected', response: 'MSH|...\rMSA|AR|C-KEEP\r' }));
    store.recordAttempt(attempt(ehr.id, { outcome: 'retryable', status: 'errored', nextAttemptAt: Date.now() + 60_000 }));
    assert.equal(store.pendingCount(), 1);

    // Only the terminal one changes; the errored one is still pending and keeps its schedule.
    assert.equal(await store.requeue(m.id), 1);
    assert.equal(store.pendingCount(), 2);
    const again = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    assert.deepEqual([again.id, again.controlId, again.payload, again.nextAttemptAt], [lis.id, 'C-KEEP', lis.payload, 0]);
    const v = (await store.getMessage(m.id))!;
    assert.equal(v.deliveries[0]!.status, 'queued');
    assert.equal(v.deliveries[0]!.attempts.length, 1);
    assert.equal(v.deliveries[1]!.status, 'errored');
  });

  test('dismiss marks dead and rejected deliveries only; they leave the health counts; a requeue clears the mark', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message({ deliveries: [delivery({ destinationId: 'lis' }), delivery({ destinationId: 'ehr' }), delivery({ destinationId: 'kafka' })] });
    await store.insertMessage(m);
    const [lis, ehr, kafka] = await Promise.all(['lis', 'ehr', 'kafka'].map(async (id) => (await store.pendingDeliveries('ch', id, 0, 1))[0]!));
    store.recordAttempt(attempt(lis!.id, { outcome: 'rejected', status: 'rejected' }));
    store.recordAttempt(attempt(ehr!.id, { outcome: 'retryable', status: 'dead' }));
    store.recordAttempt(attempt(kafka!.id));
    const since = new Date(Date.now() - 60_000).toISOString();
    await store.flush();
    const byDestination = (rows: Array<{ destinationId: string }>) => [...rows].sort((x, y) => x.destinationId.localeCompare(y.destinationId));
    assert.deepEqual(byDestination(await store.settledSince(since)), [
      { channelId: 'ch', destinationId: 'ehr', dead: 1, rejected: 0 },
      { channelId: 'ch', destinationId: 'lis', dead: 0, rejected: 1 },
    ]);

    assert.equal(await store.dismiss(m.id, 'lab-ops'), 2);
    assert.equal(await store.dismiss(m.id, 'lab-ops'), 0, 'once');
    assert.deepEqual(await store.settledSince(since), []);
    const v = (await store.getMessage(m.id))!;
    assert.deepEqual(
      v.deliveries.map((d) => [d.destinationId, d.status, d.dismissedBy]),
      [
        ['lis', 'rejected', 'lab-ops'],
        ['ehr', 'dead', 'lab-ops'],
        ['kafka', 'acknowledged', undefined],
      ],
    );
    assert.equal(await store.requeue(m.id), 3);
    assert.ok((await store.getMessage(m.id))!.deliveries.every((d) => d.dismissedAt === undefined));
  });

  test('requeue of a message with nothing terminal, or of an unknown message, changes nothing', async (t) => {
    const store = (await tempStore(t)).open();
    const [m] = await insertMany(store, 1);
    assert.equal(await store.requeue(m!.id), 0);
    assert.equal(await store.requeue('NO-SUCH-MESSAGE'), 0);
    assert.equal(store.pendingCount(), 1);
  });

  test('requeue sees an outcome recorded just before it (flushes the write-behind first)', async (t) => {
    const store = (await tempStore(t)).open();
    const [m] = await insertMany(store, 1);
    const d = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.recordAttempt(attempt(d.id, { outcome: 'rejected', status: 'rejected' }));
    assert.equal(await store.requeue(m!.id), 1);
    assert.equal((await store.getMessage(m!.id))!.status, 'queued');
  });

  test('relane moves pending deliveries to the lane of their partition key; terminal ones stay', async (t) => {
    const store = (await tempStore(t)).open();
    const keys = ['patient:a', 'patient:b', 'patient:c', 'patient:d'];
    const ms = keys.map((partitionKey) => message({ partitionKey, deliveries: [delivery({ lane: 0 })] }));
    for (const m of ms) await store.insertMessage(m);
    // The first one is finished before the lane count changes.
    const done = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.recordAttempt(attempt(done.id));
    const laneOf = (k: string) => keys.indexOf(k) % 2;
    await store.relane('ch', 'lis', laneOf);
    assert.deepEqual(
      (await store.pendingDeliveries('ch', 'lis', 0, 10)).map((d) => d.messageId),
      [ms[2]!.id],
    );
    assert.deepEqual(
      (await store.pendingDeliveries('ch', 'lis', 1, 10)).map((d) => d.messageId),
      [ms[1]!.id, ms[3]!.id],
    );
    assert.equal((await store.getMessage(ms[0]!.id))!.status, 'acknowledged');
    assert.equal(store.pendingCount(), 3);
  });

  test('relane back to one lane gathers everything on lane 0, still in intake order', async (t) => {
    const store = (await tempStore(t)).open();
    const ms = await insertMany(store, 6, (i) => i % 3);
    await store.relane('ch', 'lis', () => 0);
    assert.deepEqual(
      (await store.pendingDeliveries('ch', 'lis', 0, 10)).map((d) => d.messageId),
      ms.map((m) => m.id),
    );
    assert.deepEqual(await store.pendingDeliveries('ch', 'lis', 1, 10), []);
  });
});
