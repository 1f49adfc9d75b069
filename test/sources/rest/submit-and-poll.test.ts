import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import { makeEvent, sampleEvent } from '../../support/events.ts';
import { startTestEngine, type TestEngine } from '../../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../../support/sandbox.ts';
import { type Accepted, pollUntil, restToMllpChannel } from './support.ts';

describe('REST submission → ORU^R01 → MLLP → the sandbox LIS', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({ 'rest.yaml': restToMllpChannel('rest', lis.mllpPort) });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  test('202 with a submission id and a Location, then GET until acknowledged, with the ACK text', async () => {
    const event = sampleEvent('full-bmp-panel');
    const res = await t.post('/channels/rest/submissions', event);
    assert.equal(res.status, 202);
    const body = (await res.json()) as Accepted;
    assert.match(body.submissionId, /^[0-9A-Z]{26}$/);
    assert.equal(body.status, 'accepted');
    assert.equal(body.location, `/channels/rest/submissions/${body.submissionId}`);
    assert.equal(res.headers.get('location'), body.location);
    // The 202 comes after the commit: the message is in the store already.
    assert.ok(await t.engine.store.getMessage(body.submissionId), 'stored before the answer');

    const view = await pollUntil(t, body.location, (v) => v.status === 'acknowledged');
    assert.equal(view.submissionId, body.submissionId);
    assert.equal(view.messages.length, 1);
    assert.deepEqual(view.messages[0]!.source, { id: event.result.id, version: String(event.result.version ?? 1) });
    assert.equal(view.destinations.length, 1);
    const d = view.destinations[0]!;
    assert.equal(d.destination, 'lis');
    assert.equal(d.status, 'acknowledged');
    assert.equal(d.attempts, 1);
    assert.equal(d.lastOutcome, 'AA');
    assert.deepEqual(view.statusCallbacks, []);
    // The LIS got it, with the MSH-10 the status shows.
    const mine = (await sandboxMessages(lis)).map((m) => Hl7Message.parse(m)).find((m) => m.controlId === d.controlId);
    assert.ok(mine, 'the LIS stored the message');
  });

  test('the status shows no payload, raw input or canonical report', async () => {
    const event = makeEvent('res_REST_NOPHI', { family: 'Zyxwvutsrq' });
    const res = await t.post('/channels/rest', event);
    assert.equal(res.status, 404, 'the default path is /channels/<id>/submissions');
    const ok = (await (await t.post('/channels/rest/submissions', event)).json()) as Accepted;
    await pollUntil(t, ok.location, (v) => v.status === 'acknowledged');
    const text = await (await fetch(t.url + ok.location)).text();
    assert.doesNotMatch(text, /Zyxwvutsrq|MSH\||OBX|observations/);
  });

  test('a PDF-only submission (documents[].data_base64, no observations) is accepted and delivered as an ED OBX', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n').toString('base64');
    const event = {
      event: 'result.created',
      id: 'evt_pdf_only',
      result: {
        id: 'res_REST_PDF_ONLY',
        status: 'final',
        patient: { id: 'pat_pdf', family: 'Doe', given: ['Jo'] },
        documents: [{ content_type: 'application/pdf', title: 'Printout', data_base64: pdf }],
      },
    };
    const res = await t.post('/channels/rest/submissions', event);
    assert.equal(res.status, 202, await res.clone().text());
    const { location } = (await res.json()) as Accepted;
    const view = await pollUntil(t, location, (v) => v.status === 'acknowledged');
    const sent = (await sandboxMessages(lis)).map((m) => Hl7Message.parse(m)).find((m) => m.controlId === view.destinations[0]!.controlId)!;
    const obx = sent.all('OBX');
    assert.equal(obx.length, 1);
    assert.equal(obx[0]!.get(2), 'ED');
  });

  test('the same event twice without a key: one message, the same submission id, 200 the second time', async () => {
    const event = makeEvent('res_REST_TWICE');
    const first = await t.post('/channels/rest/submissions', event);
    assert.equal(first.status, 202);
    const a = (await first.json()) as Accepted;
    const second = await t.post('/channels/rest/submissions', event);
    assert.equal(second.status, 200);
    const b = (await second.json()) as Accepted;
    assert.equal(b.submissionId, a.submissionId);
    assert.equal(b.duplicate, true);
    assert.equal(second.headers.get('location'), a.location);
    await t.drained();
    assert.equal((await sandboxMessages(lis)).filter((m) => m.includes('res_REST_TWICE')).length, 1);
  });

  test('a LIS that is down: the status shows errored with the attempt count and the transport error and when it tries again', async () => {
    const down = await startTestEngine({
      'rest-down.yaml': restToMllpChannel('rest-down', 1, { delivery: 'maxAttempts: 2\n      initialBackoffMs: 5000\n      maxBackoffMs: 5000' }),
    });
    try {
      const res = await down.post('/channels/rest-down/submissions', makeEvent('res_REST_DOWN'));
      const { location } = (await res.json()) as Accepted;
      const view = await pollUntil(down, location, (v) => v.status === 'errored');
      const d = view.destinations[0]!;
      assert.equal(d.attempts, 1);
      assert.equal(d.code, 'MLLP_CONNECT_REFUSED');
      assert.match(d.lastOutcome ?? '', /refused/);
      assert.ok(d.nextAttemptAt && Date.parse(d.nextAttemptAt) > Date.now(), 'the next attempt is due later');
    } finally {
      await down.stop();
    }
  });
});
