/** Intake: inserts, idempotency on channel + source id + version, and group commit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delivery, eachStore, message } from './support.ts';

await eachStore((tempStore) => {
  test('an inserted message is stored with its raw input, canonical report and queued deliveries', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message({ deliveries: [delivery({ destinationId: 'lis', controlId: 'C-LIS' }), delivery({ destinationId: 'ehr', controlId: 'C-EHR', contentType: 'application/fhir+json', payload: '{}' })] });
    assert.deepEqual(await store.insertMessage(m), { messageId: m.id, duplicate: false });
    const v = (await store.getMessage(m.id))!;
    assert.equal(v.channelId, 'ch');
    assert.equal(v.sourceId, m.sourceId);
    assert.equal(v.sourceVersion, '1');
    assert.equal(v.receivedAt, m.receivedAt);
    assert.equal(v.rawInput, m.rawInput);
    assert.equal(v.inputFormat, 'json');
    assert.deepEqual(v.canonical, JSON.parse(m.canonical!));
    assert.equal(v.status, 'queued');
    assert.deepEqual(
      v.deliveries.map((d) => [d.destinationId, d.controlId, d.status, d.payload, d.contentType, d.attempts]),
      [
        ['lis', 'C-LIS', 'queued', m.deliveries[0]!.payload, 'application/hl7-v2', []],
        ['ehr', 'C-EHR', 'queued', '{}', 'application/fhir+json', []],
      ],
    );
    assert.equal(store.pendingCount(), 2);
  });

  test('the same channel, source id and version again is a duplicate carrying the first message id, and adds nothing', async (t) => {
    const store = (await tempStore(t)).open();
    const first = message({ sourceId: 'res_A', sourceVersion: '1' });
    await store.insertMessage(first);
    const again = message({ sourceId: 'res_A', sourceVersion: '1', rawInput: '{"redelivered": true}' });
    assert.deepEqual(await store.insertMessage(again), { messageId: first.id, duplicate: true });
    assert.equal(await store.getMessage(again.id), undefined);
    assert.equal((await store.getMessage(first.id))!.rawInput, first.rawInput);
    assert.equal(store.pendingCount(), 1);
    assert.equal((await store.listMessages({ limit: 10 })).messages.length, 1);
  });

  test('a new version of the same source id, or the same source id in another channel, is a new message', async (t) => {
    const store = (await tempStore(t)).open();
    const v1 = await store.insertMessage(message({ sourceId: 'res_A', sourceVersion: '1' }));
    const v2 = await store.insertMessage(message({ sourceId: 'res_A', sourceVersion: '2' }));
    const other = await store.insertMessage(message({ channelId: 'other', sourceId: 'res_A', sourceVersion: '1' }));
    assert.deepEqual(
      [v1.duplicate, v2.duplicate, other.duplicate],
      [false, false, false],
    );
    assert.equal(new Set([v1.messageId, v2.messageId, other.messageId]).size, 3);
    assert.equal(store.pendingCount(), 3);
  });

  test('a duplicate within the same group commit gets the id of the first of the group', async (t) => {
    const store = (await tempStore(t)).open();
    const a = message({ sourceId: 'res_SAME' });
    const b = message({ sourceId: 'res_SAME' });
    const [ra, rb] = await Promise.all([store.insertMessage(a), store.insertMessage(b)]);
    assert.deepEqual(ra, { messageId: a.id, duplicate: false });
    assert.deepEqual(rb, { messageId: a.id, duplicate: true });
    assert.equal(store.pendingCount(), 1);
  });

  test('group commit: many inserts in one tick all resolve, in order, and are all stored', async (t) => {
    const store = (await tempStore(t)).open();
    const messages = Array.from({ length: 500 }, (_, i) => message({ sourceId: `res_G${i}`, deliveries: [delivery(), delivery({ destinationId: 'ehr' })] }));
    const results = await Promise.all(messages.map((m) => store.insertMessage(m)));
    assert.deepEqual(
      results,
      messages.map((m) => ({ messageId: m.id, duplicate: false })),
    );
    assert.equal(store.pendingCount(), 1000);
    assert.deepEqual(await store.channelCounts(), [{ channelId: 'ch', messages: 500, byStatus: { queued: 1000 } }]);
    // Intake order is kept: the lane's backlog comes back in the order of the calls.
    assert.deepEqual(
      (await store.pendingDeliveries('ch', 'lis', 0, 1000)).map((d) => d.messageId),
      messages.map((m) => m.id),
    );
  });

  test('inserts from successive ticks each resolve', async (t) => {
    const store = (await tempStore(t)).open();
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await store.insertMessage(message()));
    assert.equal(results.filter((r) => !r.duplicate).length, 20);
    assert.equal(store.pendingCount(), 20);
  });

  test('a message without deliveries is received, and one without a canonical report has none', async (t) => {
    const store = (await tempStore(t)).open();
    const m = message({ deliveries: [], canonical: undefined, inputFormat: 'hl7v2', rawInput: 'MSH|^~\\&|X\r' });
    await store.insertMessage(m);
    const v = (await store.getMessage(m.id))!;
    assert.equal(v.status, 'received');
    assert.deepEqual(v.deliveries, []);
    assert.ok(!('canonical' in v));
    assert.equal(v.rawInput, 'MSH|^~\\&|X\r');
    assert.equal(store.pendingCount(), 0);
  });

  test('text is stored byte for byte: delimiters, CR, non-ASCII', async (t) => {
    const store = (await tempStore(t)).open();
    const raw = '{"family": "山田|^~\\\\&", "note": "a\\r\\nb"} 🧪';
    const payload = 'MSH|^~\\&|CONDUIT\rPID|1||x^^^A\\F\\B\rNTE|1|L|Zoë\r';
    const m = message({ rawInput: raw, deliveries: [delivery({ payload })] });
    await store.insertMessage(m);
    const v = (await store.getMessage(m.id))!;
    assert.equal(v.rawInput, raw);
    assert.equal(v.deliveries[0]!.payload, payload);
    assert.equal((await store.pendingDeliveries('ch', 'lis', 0, 10))[0]!.payload, payload);
  });

  test('after close, inserts are refused with STORE_FAILED', async (t) => {
    const store = (await tempStore(t)).open();
    await store.close();
    await assert.rejects(store.insertMessage(message()), (e: Error & { code?: string }) => e.code === 'STORE_FAILED');
  });

  test('ping answers true on an open store', async (t) => {
    assert.equal(await (await tempStore(t)).open().ping(), true);
  });
});
