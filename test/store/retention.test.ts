/** Retention in the store: content removed, then messages deleted, oldest first, never a pending one. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import pg from 'pg';
import { storeStats } from '../../src/store/sqlite/stats.ts';
import type { Store } from '../../src/store/types.ts';
import { postgresUnavailable } from '../support/postgres.ts';
import { attempt, delivery, eachStore, message, tempDb, tempPostgres } from './support.ts';

const at = (minute: number): string => new Date(Date.UTC(2026, 10, 20, 9, minute)).toISOString();

/** A message received at `minute`, its one delivery settled (acknowledged with a raw ACK) unless `pending`. */
async function received(store: Store, minute: number, opts: { pending?: boolean; channelId?: string } = {}) {
  const m = message({
    receivedAt: at(minute),
    rawInput: `{"patient": "Smith^Jane", "minute": ${minute}}`,
    ...(opts.channelId ? { channelId: opts.channelId } : {}),
    deliveries: [delivery({ payload: `MSH|^~\\&|PID|||Smith^Jane ${minute}\r` })],
  });
  await store.insertMessage(m);
  const [row] = (await store.pendingDeliveries(m.channelId, 'lis', 0, 100)).filter((d) => d.messageId === m.id);
  if (!opts.pending) store.recordAttempt(attempt(row!.id, { response: `MSA|AA|${row!.controlId}\r` }));
  await store.flush();
  return m;
}

await eachStore((tempStore) => {
  test('content: raw input, canonical, payloads and raw answers go; ids, statuses and attempts stay', async (t) => {
    const store = (await tempStore(t)).open();
    const old = await received(store, 0);
    const young = await received(store, 30);
    const r = await store.prune('ch', 'content', at(10), undefined, 100);
    assert.deepEqual(r, { changed: 1 });
    const pruned = (await store.getMessage(old.id))!;
    assert.equal(pruned.rawInput, '');
    assert.equal(pruned.canonical, undefined);
    assert.ok(pruned.contentPrunedAt, 'the view says when');
    assert.equal(pruned.status, 'acknowledged');
    assert.equal(pruned.deliveries[0]!.payload, '');
    assert.equal(pruned.deliveries[0]!.controlId, old.deliveries[0]!.controlId);
    assert.equal(pruned.deliveries[0]!.attempts.length, 1);
    assert.equal(pruned.deliveries[0]!.attempts[0]!.response, undefined);
    const kept = (await store.getMessage(young.id))!;
    assert.equal(kept.rawInput, young.rawInput);
    assert.equal(kept.contentPrunedAt, undefined);
    // A second pass finds nothing more to do.
    assert.deepEqual(await store.prune('ch', 'content', at(10), undefined, 100), { changed: 0 });
  });

  test('a message with a pending delivery is kept whatever its age', async (t) => {
    const store = (await tempStore(t)).open();
    const pending = await received(store, 0, { pending: true });
    const settled = await received(store, 1);
    assert.deepEqual(await store.prune('ch', 'metadata', at(59), undefined, 100), { changed: 1 });
    assert.deepEqual(await store.prune('ch', 'content', at(59), undefined, 100), { changed: 0 });
    assert.equal(await store.getMessage(settled.id), undefined);
    const view = (await store.getMessage(pending.id))!;
    assert.equal(view.rawInput, pending.rawInput);
    assert.equal((await store.pendingDeliveries('ch', 'lis', 0, 10)).length, 1, 'still deliverable, payload and all');
    assert.equal((await store.pendingDeliveries('ch', 'lis', 0, 10))[0]!.payload, pending.deliveries[0]!.payload);
  });

  test('batches: oldest first, at most the limit looked at per call, going on from the cursor', async (t) => {
    const store = (await tempStore(t)).open();
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push(await received(store, i));
    const first = await store.prune('ch', 'content', at(59), undefined, 2);
    assert.equal(first.changed, 2);
    assert.deepEqual(
      (await Promise.all(ms.map((m) => store.getMessage(m.id)))).map((v) => v!.contentPrunedAt !== undefined),
      [true, true, false, false, false],
    );
    const second = await store.prune('ch', 'content', at(59), first.next, 2);
    assert.equal(second.changed, 2);
    assert.deepEqual(await store.prune('ch', 'content', at(59), second.next, 2), { changed: 1 });
  });

  test('old pending messages cost each batch no more than the limit: the walk goes past them', async (t) => {
    const store = (await tempStore(t)).open();
    for (let i = 0; i < 4; i++) await received(store, i, { pending: true });
    const settled = await received(store, 10);
    const first = await store.prune('ch', 'metadata', at(59), undefined, 2);
    assert.equal(first.changed, 0, 'two pending ones looked at');
    assert.ok(first.next);
    const second = await store.prune('ch', 'metadata', at(59), first.next, 2);
    assert.equal(second.changed, 0);
    assert.deepEqual(await store.prune('ch', 'metadata', at(59), second.next, 2), { changed: 1 });
    assert.equal(await store.getMessage(settled.id), undefined);
    assert.equal((await store.pendingDeliveries('ch', 'lis', 0, 10)).length, 4);
  });

  test('a pruned message cannot be requeued: there is no payload to send', async (t) => {
    const store = (await tempStore(t)).open();
    const m = await received(store, 0);
    await store.prune('ch', 'content', at(10), undefined, 100);
    assert.equal(await store.requeue(m.id), 0);
    assert.equal((await store.pendingDeliveries('ch', 'lis', 0, 10)).length, 0);
  });
});

test('metadata: the message goes with its deliveries and attempts; other channels are untouched', async (t) => {
  const db = tempDb(t);
  const store = db.open();
  const mine = await received(store, 0);
  const theirs = await received(store, 0, { channelId: 'other' });
  assert.deepEqual(await store.prune('ch', 'metadata', at(10), undefined, 100), { changed: 1 });
  assert.equal(await store.getMessage(mine.id), undefined);
  assert.ok(await store.getMessage(theirs.id));
  const stats = storeStats(db.file);
  assert.deepEqual(
    stats.channels.map((c) => [c.channelId, c.messages]),
    [['other', 1]],
  );
});

test('stats: content bytes per channel fall when content is removed; nothing of the patient is left in the file', async (t) => {
  const db = tempDb(t);
  const store = db.open();
  for (let i = 0; i < 3; i++) await received(store, i);
  const before = storeStats(db.file).channels[0]!;
  assert.equal(before.messages, 3);
  assert.ok(before.contentBytes > 0);
  await store.prune('ch', 'content', at(59), undefined, 100);
  const after = storeStats(db.file).channels[0]!;
  assert.equal(after.contentRemoved, 3);
  assert.equal(after.contentBytes, 0);
  await store.close();
  // Closing checkpoints the log into the file; secure_delete overwrote the removed text in its pages.
  assert.equal(readFileSync(db.file).includes('Smith^Jane'), false);
});

test('PostgreSQL: a retention walk that removed rows vacuums the tables it touched, so their space is reused even with autovacuum off', { skip: await postgresUnavailable() }, async (t) => {
  const db = await tempPostgres(t);
  const store = db.open();
  for (let minute = 0; minute < 5; minute++) await received(store, minute);
  const before = await vacuums(db.url);
  assert.deepEqual(await store.prune('ch', 'metadata', at(10), undefined, 100), { changed: 5 });
  // The vacuum runs in the background; close waits for it.
  await store.close();
  const after = await vacuums(db.url);
  assert.ok(after > before, `vacuum count of messages ${before} → ${after}`);
});

/** How many times messages was vacuumed by hand (pg_stat_user_tables). */
async function vacuums(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The statistics collector is asynchronous: ask for a fresh snapshot.
    await client.query('SELECT pg_stat_clear_snapshot()');
    return Number((await client.query(`SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'messages'`)).rows[0].vacuum_count);
  } finally {
    await client.end();
  }
}
