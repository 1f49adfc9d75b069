import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildAck, DEFAULT_DELIMITERS, Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../src/protocols/mllp/index.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';

test('LIS down, then up: messages queued meanwhile drain in order, each with the MSH-10 it was first given', async () => {
  const port = await releasedPort();
  const t = await startTestEngine({
    'to-lis.yaml': webhookToMllpChannel('to-lis', port, 'maxAttempts: 100\n      initialBackoffMs: 20\n      maxBackoffMs: 100'),
  });
  const lis = new MllpServer();
  after(async () => {
    await t.stop();
    await lis.close();
  });
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await t.post('/channels/to-lis', makeEvent(`res_DOWN_${i}`, { patientId: 'pat_DOWN' }));
    assert.equal(res.status, 201);
    ids.push(((await res.json()) as { messageId: string }).messageId);
  }
  // Let a few connection attempts fail (between attempts the head message is errored, during one sent).
  type View = { status: string; deliveries: Array<{ controlId: string; attempts: Array<{ code: string }> }> };
  let first: View;
  do {
    await new Promise((r) => setTimeout(r, 50));
    first = (await (await t.admin(`/api/messages/${ids[0]}`)).json()) as View;
  } while (first.deliveries[0]!.attempts.length < 2);
  assert.ok(['errored', 'sent'].includes(first.status), first.status);
  assert.ok(first.deliveries[0]!.attempts.every((a) => a.code === 'MLLP_CONNECT_REFUSED'));

  const received: Hl7Message[] = [];
  await lis.listen({
    host: '127.0.0.1',
    port,
    maxFrameBytes: 1 << 20,
    handler: async (frame) => {
      const m = Hl7Message.parse(frame.toString('utf8'));
      received.push(m);
      return buildAck(m, DEFAULT_DELIMITERS, { code: 'AA', controlId: `A${received.length}`, timestamp: '20261122' });
    },
  });
  await t.drained();
  assert.deepEqual(
    received.map((m) => m.segment('ORC')!.get(3)),
    ids.map((_, i) => `res_DOWN_${i}`),
    'delivered once each, in intake order',
  );
  for (const [i, id] of ids.entries()) {
    const view = (await (await t.admin(`/api/messages/${id}`)).json()) as { status: string; deliveries: Array<{ controlId: string }> };
    assert.equal(view.status, 'acknowledged');
    assert.equal(received[i]!.controlId, view.deliveries[0]!.controlId);
  }
});
