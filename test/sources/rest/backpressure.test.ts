import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../../support/events.ts';
import { startTestEngine } from '../../support/in-process.ts';
import { type Outcome, restToMllpChannel } from './support.ts';

test('over the backlog bound: 503 with Retry-After and an OperationOutcome, nothing stored', async (t) => {
  // Nothing listens on port 1, so the first submission stays in the backlog.
  const engine = await startTestEngine(
    { 'bp.yaml': restToMllpChannel('bp', 1, { delivery: 'maxAttempts: 10\n      initialBackoffMs: 60000\n      maxBackoffMs: 60000' }) },
    { maxBacklog: 1 },
  );
  t.after(() => engine.stop());
  assert.equal((await engine.post('/channels/bp/submissions', makeEvent('res_BP_1'))).status, 202);
  const res = await engine.post('/channels/bp/submissions', makeEvent('res_BP_2'), { 'idempotency-key': 'bp-2' });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  const oo = (await res.json()) as Outcome;
  assert.equal(oo.issue[0]!.code, 'throttled');
  assert.equal((await engine.engine.store.listMessages({ limit: 10 })).messages.length, 1);
  assert.equal(await engine.engine.store.findSubmission('bp', { idempotencyKey: 'bp-2' }), undefined, 'the key is free for the retry');
});
