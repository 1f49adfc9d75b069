import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { makeEvent, sampleEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

describe('webhook → ORU^R01 → MLLP → our sandbox LIS', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  test('a full-form event is stored, delivered, acknowledged, with the raw ACK in the history', async () => {
    const res = await t.post('/channels/to-lis', sampleEvent('full-bmp-panel'));
    assert.equal(res.status, 201);
    const { messageId, duplicate } = (await res.json()) as { messageId: string; duplicate: boolean };
    assert.equal(duplicate, false);
    await t.drained();
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as {
      status: string;
      rawInput: string;
      canonical: { observations: unknown[] };
      deliveries: Array<{ controlId: string; status: string; payload: string; attempts: Array<{ outcome: string; response: string; latencyMs: number }> }>;
    };
    assert.equal(view.status, 'acknowledged');
    assert.equal(view.canonical.observations.length, 3);
    const d = view.deliveries[0]!;
    assert.equal(d.status, 'acknowledged');
    assert.equal(d.attempts.length, 1);
    assert.match(d.attempts[0]!.response, new RegExp(`MSA\\|AA\\|${d.controlId}`));
    const received = (await sandboxMessages(lis)).map((m) => Hl7Message.parse(m));
    const mine = received.find((m) => m.controlId === d.controlId);
    assert.ok(mine, 'the LIS stored the message');
    assert.equal(mine.toString(), d.payload, 'the LIS got exactly the stored bytes');
    assert.equal(mine.all('OBX').length, 4, '3 results + 1 PDF');
  });

  test('the compact form is accepted too', async () => {
    const res = await t.post('/channels/to-lis', sampleEvent('compact-glucose'));
    assert.equal(res.status, 201);
  });

  test('the same event id + version twice is one message, sent once', async () => {
    const event = makeEvent('res_IDEMP_1');
    const first = await t.post('/channels/to-lis', event);
    assert.equal(first.status, 201);
    const a = (await first.json()) as { messageId: string };
    const second = await t.post('/channels/to-lis', event);
    assert.equal(second.status, 200);
    const b = (await second.json()) as { messageId: string; duplicate: boolean };
    assert.equal(b.messageId, a.messageId);
    assert.equal(b.duplicate, true);
    await t.drained();
    const mentions = (await sandboxMessages(lis)).filter((m) => m.includes('res_IDEMP_1'));
    assert.equal(mentions.length, 1);
    // A correction (higher version) is a new message, sent as status C.
    const corrected = await t.post('/channels/to-lis', makeEvent('res_IDEMP_1', { version: 2, event: 'result.updated' }));
    assert.equal(corrected.status, 201);
    await t.drained();
    const all = (await sandboxMessages(lis)).filter((m) => m.includes('res_IDEMP_1')).map((m) => Hl7Message.parse(m));
    assert.equal(all.length, 2);
    assert.equal(all[1]!.segment('OBR')!.get(25), 'C');
    assert.deepEqual(all[1]!.all('OBX').map((o) => o.get(11)), ['C', 'C', 'C']);
  });

  test('resend via the admin API delivers again with the same MSH-10', async () => {
    const res = await t.post('/channels/to-lis', makeEvent('res_RESEND_1'));
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    const again = await t.admin(`/api/messages/${messageId}/resend`, { method: 'POST' });
    assert.equal(again.status, 202);
    assert.deepEqual(await again.json(), { messageId, requeued: 1, broughtForward: 0 });
    await t.drained();
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as {
      deliveries: Array<{ controlId: string; attempts: Array<{ response: string }> }>;
    };
    const d = view.deliveries[0]!;
    assert.equal(d.attempts.length, 2);
    for (const a of d.attempts) assert.match(a.response, new RegExp(`MSA\\|AA\\|${d.controlId}`));
    // The sandbox LIS de-duplicates on MSH-10, as receivers are meant to: the resend carried the same one.
    const copies = (await sandboxMessages(lis)).filter((m) => m.includes('res_RESEND_1')).map((m) => Hl7Message.parse(m).controlId);
    assert.deepEqual(copies, [d.controlId]);
  });
});

describe('delivery outcomes against a LIS that refuses', () => {
  test('AR is rejected at once, not retried', async () => {
    const lis = await startSandboxLis('AR');
    const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
    after(async () => {
      await t.stop();
      await lis.stop();
    });
    const { messageId } = (await (await t.post('/channels/to-lis', makeEvent('res_AR_1'))).json()) as { messageId: string };
    await t.drained();
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as { status: string; deliveries: Array<{ attempts: Array<{ code: string; response: string }> }> };
    assert.equal(view.status, 'rejected');
    assert.equal(view.deliveries[0]!.attempts.length, 1);
    assert.equal(view.deliveries[0]!.attempts[0]!.code, 'HL7_APPLICATION_REJECT');
    assert.match(view.deliveries[0]!.attempts[0]!.response, /MSA\|AR\|/);
  });

  test('AE is retried per policy and then dead; the channel goes on with the next message', async () => {
    const lis = await startSandboxLis('AE');
    const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
    after(async () => {
      await t.stop();
      await lis.stop();
    });
    const first = (await (await t.post('/channels/to-lis', makeEvent('res_AE_1'))).json()) as { messageId: string };
    const second = (await (await t.post('/channels/to-lis', makeEvent('res_AE_2'))).json()) as { messageId: string };
    await t.drained();
    for (const id of [first.messageId, second.messageId]) {
      const view = (await (await t.admin(`/api/messages/${id}`)).json()) as { status: string; deliveries: Array<{ attempts: Array<{ code: string }> }> };
      assert.equal(view.status, 'dead');
      assert.deepEqual(view.deliveries[0]!.attempts.map((a) => a.code), ['HL7_APPLICATION_ERROR', 'HL7_APPLICATION_ERROR', 'HL7_APPLICATION_ERROR']);
    }
    const dead = (await (await t.admin('/api/messages?status=dead')).json()) as { messages: unknown[] };
    assert.equal(dead.messages.length, 2);
  });

  test('a silent LIS times out and the message is retried with the same MSH-10', async () => {
    const lis = await startSandboxLis('silent');
    const t = await startTestEngine({
      'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort).replace('ackTimeoutMs: 2000', 'ackTimeoutMs: 150'),
    });
    after(async () => {
      await t.stop();
      await lis.stop();
    });
    const { messageId } = (await (await t.post('/channels/to-lis', makeEvent('res_SILENT_1'))).json()) as { messageId: string };
    await t.drained();
    const view = (await (await t.admin(`/api/messages/${messageId}`)).json()) as { status: string; deliveries: Array<{ controlId: string; attempts: Array<{ code: string }> }> };
    assert.equal(view.status, 'dead');
    assert.deepEqual(view.deliveries[0]!.attempts.map((a) => a.code), ['MLLP_ACK_TIMEOUT', 'MLLP_ACK_TIMEOUT', 'MLLP_ACK_TIMEOUT']);
  });
});
