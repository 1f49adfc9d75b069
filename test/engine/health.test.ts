/**
 * Issue 8: /health reflects dead and rejected deliveries. A destination with any in the window
 * (healthWindowHours, 24 by default) is degraded, with the counts under `details`; the
 * seed-003 keys stay as they are.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { buildAck, DEFAULT_DELIMITERS, Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../src/protocols/mllp/index.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

type Health = { status: string; components: Record<string, string>; details?: Record<string, Record<string, unknown>> };

test('dead and rejected deliveries make their destination degraded, with counts; a resend that succeeds clears it', async (t) => {
  const refusing = await startSandboxLis('AR');
  const down = await releasedPort();
  const lis = new MllpServer();
  const e = await startTestEngine({
    'to-refusing.yaml': webhookToMllpChannel('to-refusing', refusing.mllpPort),
    'to-down.yaml': webhookToMllpChannel('to-down', down, 'maxAttempts: 1\n      initialBackoffMs: 10\n      maxBackoffMs: 10'),
    'to-fine.yaml': webhookToMllpChannel('to-fine', refusing.mllpPort).replace('to-refusing', 'to-fine'),
  });
  t.after(async () => {
    await e.stop();
    await refusing.stop();
    await lis.close();
  });
  const healthy = (await (await e.admin("/health")).json()) as Health;
  assert.equal(healthy.status, 'healthy');
  assert.equal(healthy.details, undefined, 'no details while all is well: the seed-003 shape');

  for (let i = 0; i < 2; i++) assert.equal((await e.post('/channels/to-refusing', makeEvent(`res_HEALTH_AR_${i}`))).status, 201);
  const dead: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await e.post('/channels/to-down', makeEvent(`res_HEALTH_DEAD_${i}`));
    assert.equal(r.status, 201);
    dead.push(((await r.json()) as { messageId: string }).messageId);
  }
  await e.drained();

  const res = await e.admin("/health");
  assert.equal(res.status, 200, 'degraded still answers 200');
  const h = (await res.json()) as Health;
  assert.equal(h.status, 'degraded');
  assert.equal(h.components['destination:to-refusing/lis'], 'degraded');
  assert.equal(h.components['destination:to-down/lis'], 'degraded');
  assert.equal(h.components['channel:to-fine'], 'healthy');
  assert.equal(h.components['destination:to-fine/lis'], 'healthy');
  assert.deepEqual(h.details, {
    'destination:to-refusing/lis': { dead: 0, rejected: 2, windowHours: 24 },
    'destination:to-down/lis': { dead: 3, rejected: 0, windowHours: 24 },
  });

  // The LIS is back and the dead letters are resent: they no longer count.
  await lis.listen({
    host: '127.0.0.1',
    port: down,
    maxFrameBytes: 1 << 20,
    handler: async (frame) => buildAck(Hl7Message.parse(frame.toString('utf8')), DEFAULT_DELIMITERS, { code: 'AA', controlId: 'ACK', timestamp: '20261122' }),
  });
  for (const id of dead) assert.equal((await e.admin(`/api/messages/${id}/resend`, { method: 'POST' })).status, 202);
  await e.drained();
  const after = (await (await e.admin("/health")).json()) as Health;
  assert.equal(after.components['destination:to-down/lis'], 'healthy');
  assert.deepEqual(Object.keys(after.details ?? {}), ['destination:to-refusing/lis']);
});

test('the window is a setting: deliveries that died before it do not count', async (t) => {
  const down = await releasedPort();
  const e = await startTestEngine({ 'to-down.yaml': webhookToMllpChannel('to-down', down, 'maxAttempts: 1\n      initialBackoffMs: 10\n      maxBackoffMs: 10') }, { healthWindowHours: 1 });
  t.after(() => e.stop());
  assert.equal((await e.post('/channels/to-down', makeEvent('res_HEALTH_OLD'))).status, 201);
  await e.drained();
  assert.deepEqual(((await (await e.admin("/health")).json()) as Health).details, {
    'destination:to-down/lis': { dead: 1, rejected: 0, windowHours: 1 },
  });
  // Two hours on: the dead letter is outside the one-hour window.
  const db = new DatabaseSync(join(e.dir, 'data', 'conduit.db'));
  db.prepare('UPDATE deliveries SET updated_at = ?').run(new Date(Date.now() - 2 * 3_600_000).toISOString());
  db.close();
  const h = (await (await e.admin("/health")).json()) as Health;
  assert.equal(h.status, 'healthy');
  assert.equal(h.details, undefined);
});
