/** getMessage history, listMessages (filters, status precedence, cursor paging) and channelCounts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../src/store/types.ts';
import type { DeliveryStatus } from '../../src/store/types.ts';
import { attempt, delivery, eachStore, message, tempDb } from './support.ts';

/** Inserts one message per list of delivery outcomes (undefined: left queued) and records them. */
async function withStatuses(store: Store, channelId: string, outcomes: Array<Array<DeliveryStatus | 'queued'>>) {
  const ids: string[] = [];
  for (const statuses of outcomes) {
    const m = message({ channelId, deliveries: statuses.map((_, i) => delivery({ destinationId: `d${i}` })) });
    await store.insertMessage(m);
    ids.push(m.id);
    const view = (await store.getMessage(m.id))!;
    for (const [i, status] of statuses.entries()) {
      const d = (await store.pendingDeliveries(channelId, `d${i}`, 0, 100)).find((x) => x.messageId === m.id)!;
      assert.ok(d, view.id);
      if (status === 'queued') continue;
      if (status === 'sent') store.markSent(d.id);
      else store.recordAttempt(attempt(d.id, { status, outcome: status === 'acknowledged' ? 'acknowledged' : status === 'rejected' ? 'rejected' : 'retryable' }));
    }
  }
  // listMessages reads what is committed; the outcomes above are written behind.
  await store.settled();
  return ids;
}

await eachStore((tempStore) => {
  test('getMessage: every attempt of every delivery in order, with outcome, code, detail and response', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message({ deliveries: [delivery({ destinationId: 'lis', controlId: 'C-1' }), delivery({ destinationId: 'ehr' })] });
    await store.insertMessage(m);
    const lis = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.markSent(lis.id);
    store.recordAttempt(attempt(lis.id, { attempt: 1, startedAt: '2026-11-20T09:00:01.000Z', latencyMs: 10000, outcome: 'retryable', status: 'errored', code: 'MLLP_ACK_TIMEOUT', detail: 'no ACK in 10000 ms', nextAttemptAt: 1 }));
    store.markSent(lis.id);
    store.recordAttempt(attempt(lis.id, { attempt: 2, startedAt: '2026-11-20T09:00:12.000Z', latencyMs: 30, outcome: 'retryable', status: 'errored', code: 'HL7_APPLICATION_ERROR', response: 'MSH|^~\\&|LIS\rMSA|AE|C-1|busy\r', nextAttemptAt: 2 }));
    store.markSent(lis.id);
    store.recordAttempt(attempt(lis.id, { attempt: 3, startedAt: '2026-11-20T09:00:14.000Z', latencyMs: 8.25, outcome: 'acknowledged', status: 'acknowledged', response: 'MSH|^~\\&|LIS\rMSA|AA|C-1\r' }));
    const v = (await store.getMessage(m.id))!;
    assert.equal(v.status, 'queued', 'the ehr delivery is still queued');
    const d = v.deliveries[0]!;
    assert.equal(d.status, 'acknowledged');
    assert.ok(!('nextAttemptAt' in d));
    assert.deepEqual(d.attempts, [
      { attempt: 1, startedAt: '2026-11-20T09:00:01.000Z', latencyMs: 10000, outcome: 'retryable', code: 'MLLP_ACK_TIMEOUT', detail: 'no ACK in 10000 ms' },
      { attempt: 2, startedAt: '2026-11-20T09:00:12.000Z', latencyMs: 30, outcome: 'retryable', code: 'HL7_APPLICATION_ERROR', response: 'MSH|^~\\&|LIS\rMSA|AE|C-1|busy\r' },
      { attempt: 3, startedAt: '2026-11-20T09:00:14.000Z', latencyMs: 8.25, outcome: 'acknowledged', response: 'MSH|^~\\&|LIS\rMSA|AA|C-1\r' },
    ]);
    assert.deepEqual(v.deliveries[1]!.attempts, []);
    assert.match(d.updatedAt, /^\d{4}-\d{2}-\d{2}T/);
  });

  test('getMessage of an unknown id is undefined', async (t) => {
    assert.equal(await (await tempStore(t)).open().getMessage('NOPE'), undefined);
  });

  test('a message shows its most troubled delivery: one acknowledged and one dead lists as dead', async (t) => {
    const store = (await tempStore(t)).open();
    const [mixed] = await withStatuses(store, 'ch', [['acknowledged', 'dead']]);
    assert.equal((await store.getMessage(mixed!))!.status, 'dead');
    assert.deepEqual(
      (await store.listMessages({ limit: 10 })).messages.map((m) => [m.id, m.status]),
      [[mixed, 'dead']],
    );
    assert.deepEqual(
      (await store.listMessages({ limit: 10, status: 'dead' })).messages.map((m) => m.id),
      [mixed],
    );
    assert.deepEqual((await store.listMessages({ limit: 10, status: 'acknowledged' })).messages, []);
  });

  test('status precedence: dead > rejected > errored > sent > queued > acknowledged; no deliveries is received', async (t) => {
    const store = (await tempStore(t)).open();
    const cases: Array<[Array<DeliveryStatus>, string]> = [
      [['acknowledged', 'acknowledged'], 'acknowledged'],
      [['acknowledged', 'queued'], 'queued'],
      [['queued', 'sent'], 'sent'],
      [['sent', 'errored'], 'errored'],
      [['errored', 'rejected'], 'rejected'],
      [['rejected', 'dead'], 'dead'],
      [[], 'received'],
    ];
    const ids = await withStatuses(
      store,
      'ch',
      cases.map(([s]) => s),
    );
    for (const [i, [, expected]] of cases.entries()) assert.equal((await store.getMessage(ids[i]!))!.status, expected, String(cases[i]![0]));
    // Each status filter lists exactly the messages that display that status.
    for (const [i, [, expected]] of cases.entries()) {
      assert.deepEqual(
        (await store.listMessages({ limit: 10, status: expected as DeliveryStatus })).messages.map((m) => m.id),
        [ids[i]],
        expected,
      );
    }
  });

  test('listMessages: newest first, filtered by channel, with summaries', async (t) => {
    const store = (await tempStore(t)).open();
    const a = await withStatuses(store, 'alpha', [['queued'], ['acknowledged']]);
    const b = await withStatuses(store, 'beta', [['queued']]);
    assert.deepEqual(
      (await store.listMessages({ limit: 10 })).messages.map((m) => m.id),
      [b[0], a[1], a[0]],
    );
    const alpha = (await store.listMessages({ limit: 10, channelId: 'alpha' })).messages;
    assert.deepEqual(
      alpha.map((m) => [m.id, m.channelId, m.status]),
      [
        [a[1], 'alpha', 'acknowledged'],
        [a[0], 'alpha', 'queued'],
      ],
    );
    assert.deepEqual(Object.keys(alpha[0]!).sort(), ['channelId', 'id', 'receivedAt', 'sourceId', 'sourceVersion', 'status']);
    assert.deepEqual(
      (await store.listMessages({ limit: 10, channelId: 'alpha', status: 'queued' })).messages.map((m) => m.id),
      [a[0]],
    );
  });

  test('listMessages pages with a cursor: every message exactly once, newest first, then no cursor', async (t) => {
    const store = (await tempStore(t)).open();
    const ids = await withStatuses(
      store,
      'ch',
      Array.from({ length: 23 }, () => ['queued'] as DeliveryStatus[]),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listMessages({ limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.nextCursor;
      pages++;
      assert.ok(pages <= 5);
    } while (cursor);
    assert.equal(pages, 5);
    assert.deepEqual(seen, [...ids].reverse());
  });

  test('a page that ends exactly at the last message has no next cursor', async (t) => {
    const store = (await tempStore(t)).open();
    await withStatuses(store, 'ch', [['queued'], ['queued']]);
    const page = await store.listMessages({ limit: 2 });
    assert.equal(page.messages.length, 2);
    assert.ok(!('nextCursor' in page));
  });

  test('cursor paging combines with the channel and status filters', async (t) => {
    const store = (await tempStore(t)).open();
    const outcomes: DeliveryStatus[][] = Array.from({ length: 12 }, (_, i) => [i % 3 === 0 ? 'dead' : 'acknowledged']);
    const ids = await withStatuses(store, 'ch', outcomes);
    await withStatuses(store, 'other', [['dead'], ['dead']]);
    const dead = ids.filter((_, i) => i % 3 === 0).reverse();
    const first = await store.listMessages({ limit: 3, channelId: 'ch', status: 'dead' });
    assert.deepEqual(
      first.messages.map((m) => m.id),
      dead.slice(0, 3),
    );
    const second = await store.listMessages({ limit: 3, channelId: 'ch', status: 'dead', cursor: first.nextCursor! });
    assert.deepEqual(
      second.messages.map((m) => m.id),
      dead.slice(3),
    );
    assert.equal(second.nextCursor, undefined);
  });

  test('listMessages finds by time range, source id, patient and control id (MSH-10), and a tenant\'s channels', async (t) => {
    const store = (await tempStore(t)).open();
    const a = message({ sourceId: 'res_A', partitionKey: 'patient:P-1', receivedAt: '2026-12-01T10:00:00.000Z', deliveries: [delivery({ controlId: 'CTL-A' })] });
    const b = message({ sourceId: 'res_B', partitionKey: 'patient:P-2', receivedAt: '2026-12-02T10:00:00.000Z', deliveries: [delivery({ controlId: 'CTL-B' })] });
    const c = message({ channelId: 'other', sourceId: 'res_A', partitionKey: 'patient:P-1', receivedAt: '2026-12-03T10:00:00.000Z', deliveries: [delivery({ controlId: 'CTL-C' })] });
    for (const m of [a, b, c]) await store.insertMessage(m);
    const ids = async (q: Omit<Parameters<Store['listMessages']>[0], 'limit'>) => (await store.listMessages({ limit: 10, ...q })).messages.map((m) => m.id);
    assert.deepEqual(await ids({ since: '2026-12-02T00:00:00.000Z' }), [c.id, b.id]);
    assert.deepEqual(await ids({ since: '2026-12-01T00:00:00.000Z', until: '2026-12-02T00:00:00.000Z' }), [a.id]);
    assert.deepEqual(await ids({ sourceId: 'res_A' }), [c.id, a.id]);
    assert.deepEqual(await ids({ patient: 'P-1' }), [c.id, a.id]);
    assert.deepEqual(await ids({ patient: 'P-1', channelId: 'ch' }), [a.id]);
    assert.deepEqual(await ids({ controlId: 'CTL-B' }), [b.id]);
    assert.deepEqual(await ids({ controlId: 'NOPE' }), []);
    assert.deepEqual(await ids({ channelIds: ['other'] }), [c.id]);
    assert.deepEqual(await ids({ channelIds: [] }), []);
  });

  test('listMessages and channelCounts see outcomes recorded just before, once the store has settled (the admin API awaits it)', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message();
    await store.insertMessage(m);
    const d = (await store.pendingDeliveries('ch', 'lis', 0, 1))[0]!;
    store.recordAttempt(attempt(d.id, { outcome: 'rejected', status: 'rejected' }));
    await store.settled();
    assert.equal((await store.listMessages({ limit: 1 })).messages[0]!.status, 'rejected');
    assert.deepEqual(await store.channelCounts(), [{ channelId: 'ch', messages: 1, byStatus: { rejected: 1 } }]);
  });

  test('channelCounts: messages per channel and deliveries per status', async (t) => {
    const store = (await tempStore(t)).open();
    await withStatuses(store, 'alpha', [['acknowledged', 'dead'], ['queued'], []]);
    await withStatuses(store, 'beta', [['errored']]);
    const counts = (await store.channelCounts()).sort((x, y) => x.channelId.localeCompare(y.channelId));
    assert.deepEqual(counts, [
      { channelId: 'alpha', messages: 3, byStatus: { acknowledged: 1, dead: 1, queued: 1 } },
      { channelId: 'beta', messages: 1, byStatus: { errored: 1 } },
    ]);
  });

  test('channelCounts of an empty store is empty', async (t) => {
    assert.deepEqual(await (await tempStore(t)).open().channelCounts(), []);
  });
});

test('an outcome already committed by the writer but not yet answered to the main thread shows once in a view', async (t) => {
  const db = tempDb(t);
  const store = db.open();
  const m = message();
  const other = message();
  await store.insertMessage(m);
  await store.insertMessage(other);
  const [d, e] = await store.pendingDeliveries('ch', 'lis', 0, 2);
  store.recordAttempt(attempt(d!.id, { startedAt: '2026-11-20T09:00:02.000Z' }));
  // A mark posts the round (with the outcome) at the next turn: the store's setImmediate runs
  // before this one, and the writer's answer cannot be read before the turn after.
  void store.markSent(e!.id);
  await new Promise((resolve) => setImmediate(resolve));
  // Without yielding to the event loop, wait until the round is committed, as another connection sees it.
  const { DatabaseSync } = await import('node:sqlite');
  const reader = new DatabaseSync(db.file, { readOnly: true });
  t.after(() => reader.close());
  const deadline = Date.now() + 10_000;
  while ((reader.prepare('SELECT count(*) AS n FROM attempts').get() as { n: number }).n === 0) {
    if (Date.now() > deadline) throw new Error('the outcome was never committed');
  }
  const view = (await store.getMessage(m.id))!;
  assert.deepEqual(
    view.deliveries[0]!.attempts.map((a) => [a.attempt, a.outcome]),
    [[1, 'acknowledged']],
  );
});
