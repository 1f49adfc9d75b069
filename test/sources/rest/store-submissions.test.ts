/** Submissions in the store: recorded durably, found by id or key per channel, the first under a key kept. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Submission } from '../../../src/store/types.ts';
import { tempDb } from '../../store/support.ts';

const at = '2026-11-20T09:00:00.000Z';
const sub = (s: Partial<Submission> = {}): Submission => ({ id: 'MSG1', channelId: 'ch', fingerprint: 'f1', messageIds: ['MSG1'], receivedAt: at, ...s });

test('keyed: the first under a key is kept and returned, whatever comes later under that key', async (t) => {
  const store = tempDb(t).open();
  const first = await store.recordSubmission(sub({ idempotencyKey: 'k1', messageIds: ['MSG1', 'MSG2'] }));
  assert.deepEqual(first, sub({ idempotencyKey: 'k1', messageIds: ['MSG1', 'MSG2'] }));
  const later = await store.recordSubmission(sub({ id: 'MSG9', idempotencyKey: 'k1', fingerprint: 'f2', messageIds: ['MSG9'] }));
  assert.deepEqual(later, first, 'the caller compares fingerprints');
  assert.deepEqual(await store.findSubmission('ch', { idempotencyKey: 'k1' }), first);
  assert.deepEqual(await store.findSubmission('ch', { id: 'MSG1' }), first);
  assert.equal(await store.findSubmission('ch', { id: 'MSG9' }), undefined);
  assert.equal(await store.findSubmission('other', { idempotencyKey: 'k1' }), undefined, 'keys are per channel');
});

test('unkeyed: a repeat of the same id keeps the first; a key can still be recorded for that id', async (t) => {
  const store = tempDb(t).open();
  await store.recordSubmission(sub());
  const again = await store.recordSubmission(sub({ fingerprint: 'f2' }));
  assert.equal(again.fingerprint, 'f1');
  const keyed = await store.recordSubmission(sub({ idempotencyKey: 'k2', fingerprint: 'f3' }));
  assert.equal(keyed.idempotencyKey, 'k2');
  assert.equal((await store.findSubmission('ch', { id: 'MSG1' }))!.fingerprint, 'f1', 'by id: the first recorded');
});

test('submissions survive reopening the file', async (t) => {
  const db = tempDb(t);
  const before = db.open();
  const s = await before.recordSubmission(sub({ idempotencyKey: 'k3' }));
  await before.close();
  assert.deepEqual(await db.open().findSubmission('ch', { idempotencyKey: 'k3' }), s);
});
