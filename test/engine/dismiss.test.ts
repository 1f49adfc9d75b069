/**
 * An operator dismisses a message's dead or rejected deliveries (POST /api/messages/:id/dismiss):
 * they stay dead or rejected, but no longer make their destination degraded in /health; a
 * resend clears the mark. Recorded in the audit trail.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

type Health = { components: Record<string, string>; details?: Record<string, Record<string, unknown>> };
type View = { status: string; deliveries: Array<{ status: string; dismissedAt?: string; dismissedBy?: string }> };

test('dismissing a rejected delivery clears the degraded destination; a resend clears the mark', async (t) => {
  const refusing = await startSandboxLis('AR');
  const e = await startTestEngine({ 'to-refusing.yaml': webhookToMllpChannel('to-refusing', refusing.mllpPort) });
  t.after(async () => {
    await e.stop();
    await refusing.stop();
  });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) ids.push(((await (await e.post('/channels/to-refusing', makeEvent(`res_DISMISS_${i}`))).json()) as { messageId: string }).messageId);
  await e.drained();
  let h = (await (await e.admin('/health')).json()) as Health;
  assert.equal(h.components['destination:to-refusing/lis'], 'degraded');
  assert.deepEqual(h.details?.['destination:to-refusing/lis'], { dead: 0, rejected: 2, windowHours: 24 });

  const first = await e.admin(`/api/messages/${ids[0]}/dismiss`, { method: 'POST' });
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { messageId: ids[0], dismissed: 1 });
  h = (await (await e.admin('/health')).json()) as Health;
  assert.deepEqual(h.details?.['destination:to-refusing/lis'], { dead: 0, rejected: 1, windowHours: 24 });
  const again = await e.admin(`/api/messages/${ids[0]}/dismiss`, { method: 'POST' });
  assert.equal(again.status, 409);
  assert.match(await again.text(), /no dead or rejected delivery left to dismiss/);

  assert.equal((await e.admin(`/api/messages/${ids[1]}/dismiss`, { method: 'POST' })).status, 200);
  h = (await (await e.admin('/health')).json()) as Health;
  assert.equal(h.components['destination:to-refusing/lis'], 'healthy');
  const view = (await (await e.admin(`/api/messages/${ids[1]}`)).json()) as View;
  assert.equal(view.status, 'rejected', 'a dismissed delivery keeps its status');
  assert.equal(view.deliveries[0]!.dismissedBy, 'bootstrap-admin');
  assert.ok(view.deliveries[0]!.dismissedAt);

  // Sent again (still refused): the new outcome counts again.
  assert.equal((await e.admin(`/api/messages/${ids[1]}/resend`, { method: 'POST' })).status, 202);
  await e.drained();
  const resent = (await (await e.admin(`/api/messages/${ids[1]}`)).json()) as View;
  assert.equal(resent.deliveries[0]!.dismissedAt, undefined);
  h = (await (await e.admin('/health')).json()) as Health;
  assert.equal(h.components['destination:to-refusing/lis'], 'degraded');

  assert.equal((await e.admin('/api/messages/01NOPE/dismiss', { method: 'POST' })).status, 404);
  const { events } = (await (await e.admin('/api/audit?action=message.dismiss')).json()) as { events: Array<{ target: string; actor: string; detail: { destinations: string } }> };
  assert.deepEqual(
    events.map((x) => [x.target, x.actor, x.detail.destinations]),
    [
      [`message:${ids[1]}`, 'bootstrap-admin', 'lis'],
      [`message:${ids[0]}`, 'bootstrap-admin', 'lis'],
    ],
  );
});
