/**
 * Status callbacks end to end: a REST channel delivering to the sandbox LIS, and a receiving
 * server that checks every signature. Each terminal outcome is reported once, with the ACK
 * text or error as detail and no patient data; a failing receiver gets the event retried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';
import { type Accepted, envRef, pollUntil, restToMllpChannel } from '../sources/rest/support.ts';
import { type CallbackReceiver, startCallbackReceiver } from './receiver.ts';

const SECRET = 'callback-secret-0123456789abcdef';
process.env.TEST_CALLBACK_SECRET = SECRET;

function callbackBlock(url: string, lines: string[] = []): string {
  return ['statusCallback:', `  url: ${url}`, `  secret: ${envRef('TEST_CALLBACK_SECRET')}`, ...lines.map((l) => `  ${l}`), ''].join('\n');
}

const FAST = ['delivery:', '  maxAttempts: 5', '  initialBackoffMs: 50', '  maxBackoffMs: 100'];

type Lis = Awaited<ReturnType<typeof startSandboxLis>>;

/** Submits a result whose patient has a recognisable name, which no callback may carry. */
async function submit(t: TestEngine, channel: string, resultId: string): Promise<Accepted> {
  const res = await t.post(`/channels/${channel}/submissions`, makeEvent(resultId, { patientId: 'pat_CALLBACK', family: 'Callbackpatient' }));
  assert.equal(res.status, 202);
  return (await res.json()) as Accepted;
}

function assertNoPatientData(body: string): void {
  assert.doesNotMatch(body, /Callbackpatient|pat_CALLBACK|MSH\||birth|OBX/i);
}

describe('status callbacks: delivered, rejected, failed', () => {
  let aa: Lis;
  let ar: Lis;
  let receiver: CallbackReceiver;
  let t: TestEngine;
  before(async () => {
    aa = await startSandboxLis('AA');
    ar = await startSandboxLis('AR');
    receiver = await startCallbackReceiver({ secret: SECRET });
    t = await startTestEngine({
      'ok.yaml': restToMllpChannel('ok', aa.mllpPort, { extra: callbackBlock(receiver.url, FAST) }),
      'refused.yaml': restToMllpChannel('refused', ar.mllpPort, { extra: callbackBlock(receiver.url, FAST) }),
      'down.yaml': restToMllpChannel('down', 1, {
        delivery: 'maxAttempts: 2\n      initialBackoffMs: 20\n      maxBackoffMs: 20',
        extra: callbackBlock(receiver.url, FAST),
      }),
      'only-failed.yaml': restToMllpChannel('only-failed', aa.mllpPort, { extra: callbackBlock(receiver.url, ['events: [failed]', ...FAST]) }),
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([aa.stop(), ar.stop(), receiver.close()]);
  });

  const eventsOf = (messageId: string) => receiver.received.filter((r) => r.event.message_id === messageId);

  test('acknowledged → one signed result.delivered with the ACK, the source ids and no patient data', async () => {
    const { submissionId, location } = await submit(t, 'ok', 'res_CB_OK');
    const [cb] = await receiver.waitFor(1, (r) => r.event.message_id === submissionId);
    const view = await pollUntil(t, location, (v) => v.statusCallbacks[0]?.status === 'acknowledged');
    const d = view.destinations[0]!;
    assert.equal(cb!.signatureOk, true);
    assert.equal(cb!.headers['content-type'], 'application/json');
    assert.equal(cb!.headers['x-conduit-event'], 'result.delivered');
    assert.equal(cb!.headers['x-conduit-event-id'], cb!.event.id);
    const { id, occurred_at, ...rest } = cb!.event;
    assert.match(String(id), /^[0-9A-Z]{26}$/);
    assert.ok(Math.abs(Date.parse(String(occurred_at)) - Date.now()) < 60_000);
    assert.deepEqual(rest, {
      event: 'result.delivered',
      channel: 'ok',
      destination: 'lis',
      message_id: submissionId,
      source: { id: 'res_CB_OK', version: '1' },
      control_id: d.controlId,
      status: 'acknowledged',
      attempts: 1,
      detail: 'AA',
    });
    assertNoPatientData(cb!.body);
    assert.deepEqual(view.statusCallbacks.map((c) => [c.destination, c.status, c.attempts, c.eventId]), [['lis', 'acknowledged', 1, id]]);
    await t.drained();
    assert.equal(eventsOf(submissionId).length, 1, 'once');
  });

  test('AR → one result.rejected with the ACK text and the error code', async () => {
    const { submissionId } = await submit(t, 'refused', 'res_CB_AR');
    const [cb] = await receiver.waitFor(1, (r) => r.event.message_id === submissionId);
    assert.equal(cb!.signatureOk, true);
    assert.equal(cb!.event.event, 'result.rejected');
    assert.equal(cb!.event.status, 'rejected');
    assert.equal(cb!.event.code, 'HL7_APPLICATION_REJECT');
    assert.equal(cb!.event.detail, 'AR: rehearsal: channel lis-sandbox is set to answer AR');
    assert.equal(cb!.event.channel, 'refused');
    assertNoPatientData(cb!.body);
    await t.drained();
    assert.equal(eventsOf(submissionId).length, 1, 'once');
  });

  test('dead after maxAttempts → one result.failed with the last error', async () => {
    const { submissionId } = await submit(t, 'down', 'res_CB_DEAD');
    const [cb] = await receiver.waitFor(1, (r) => r.event.message_id === submissionId);
    assert.equal(cb!.event.event, 'result.failed');
    assert.equal(cb!.event.status, 'dead');
    assert.equal(cb!.event.attempts, 2);
    assert.equal(cb!.event.code, 'MLLP_CONNECT_REFUSED');
    assert.match(String(cb!.event.detail), /refused/);
    await t.drained();
    assert.equal(eventsOf(submissionId).length, 1, 'once');
  });

  test('events: [failed] → a delivered result sends nothing', async () => {
    const { location, submissionId } = await submit(t, 'only-failed', 'res_CB_QUIET');
    await pollUntil(t, location, (v) => v.status === 'acknowledged');
    await t.drained();
    assert.equal(eventsOf(submissionId).length, 0);
  });

  test('the admin API shows the callback as a delivery of the message, following its destination', async () => {
    const { submissionId } = await submit(t, 'ok', 'res_CB_ADMIN');
    await receiver.waitFor(1, (r) => r.event.message_id === submissionId);
    await t.drained();
    const view = (await (await t.admin(`/api/messages/${submissionId}`)).json()) as {
      status: string;
      deliveries: Array<{ destinationId: string; status: string; follows?: string; contentType: string; payload: string; attempts: Array<{ response?: string }> }>;
    };
    assert.equal(view.status, 'acknowledged');
    const cb = view.deliveries.find((d) => d.destinationId === 'status-callback:lis')!;
    assert.equal(cb.follows, 'lis');
    assert.equal(cb.status, 'acknowledged');
    assert.equal(cb.contentType, 'application/json');
    assert.equal((JSON.parse(cb.payload) as { event: string }).event, 'result.delivered');
    assert.equal(cb.attempts[0]!.response, '{"ok":true}');
    const channels = (await (await t.admin('/api/channels')).json()) as { channels: Array<{ id: string; destinations: Array<{ id: string }> }> };
    assert.deepEqual(
      channels.channels.find((c) => c.id === 'ok')!.destinations.map((d) => d.id),
      ['lis', 'status-callback:lis'],
    );
  });
});

describe('status callbacks are retried like any destination', () => {
  let lis: Lis;
  let flaky: CallbackReceiver;
  let broken: CallbackReceiver;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis('AA');
    // Fails twice (500, then 503), then takes it.
    flaky = await startCallbackReceiver({ secret: SECRET, script: (n) => (n === 1 ? 500 : n === 2 ? 503 : 200) });
    broken = await startCallbackReceiver({ secret: SECRET, script: () => 500 });
    t = await startTestEngine({
      'flaky.yaml': restToMllpChannel('flaky', lis.mllpPort, { extra: callbackBlock(flaky.url, FAST) }),
      'broken.yaml': restToMllpChannel('broken', lis.mllpPort, {
        extra: callbackBlock(broken.url, ['delivery:', '  maxAttempts: 2', '  initialBackoffMs: 20', '  maxBackoffMs: 20']),
      }),
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([lis.stop(), flaky.close(), broken.close()]);
  });

  test('a receiver that fails twice then succeeds gets the event, the same one each time, signed each time', async () => {
    const { location, submissionId } = await submit(t, 'flaky', 'res_CB_FLAKY');
    const tries = await flaky.waitFor(3, (r) => r.event.message_id === submissionId);
    assert.deepEqual(
      tries.map((r) => r.answered),
      [500, 503, 200],
    );
    assert.equal(new Set(tries.map((r) => r.body)).size, 1, 'the same bytes on every attempt');
    assert.ok(tries.every((r) => r.signatureOk));
    const view = await pollUntil(t, location, (v) => v.statusCallbacks[0]?.status === 'acknowledged');
    assert.equal(view.statusCallbacks[0]!.attempts, 3);
    await t.drained();
    assert.equal(flaky.delivered().filter((r) => r.event.message_id === submissionId).length, 1);
  });

  test('a callback that dies does not bring a callback about itself', async () => {
    const { location, submissionId } = await submit(t, 'broken', 'res_CB_BROKEN');
    const view = await pollUntil(t, location, (v) => v.statusCallbacks[0]?.status === 'dead');
    assert.equal(view.status, 'acknowledged', 'the submission itself was delivered');
    assert.equal(view.statusCallbacks[0]!.attempts, 2);
    assert.equal(view.statusCallbacks[0]!.code, 'HTTP_SERVER_ERROR');
    await t.drained();
    assert.equal(broken.received.filter((r) => r.event.message_id === submissionId).length, 2, 'two attempts, then nothing');
    const admin = (await (await t.admin(`/api/messages/${submissionId}`)).json()) as { deliveries: unknown[] };
    assert.equal(admin.deliveries.length, 2);
  });
});

describe('signature options', () => {
  test('a custom header carries the signature; without a secret there is none', async () => {
    const lis = await startSandboxLis('AA');
    const signed = await startCallbackReceiver({ secret: SECRET, header: 'X-Platform-Signature' });
    const unsigned = await startCallbackReceiver();
    const t = await startTestEngine({
      'custom.yaml': restToMllpChannel('custom', lis.mllpPort, { extra: callbackBlock(signed.url, ['signatureHeader: X-Platform-Signature', 'headers:', '  x-api-key: platform-key']) }),
      'plain.yaml': restToMllpChannel('plain', lis.mllpPort, { extra: `statusCallback:\n  url: ${unsigned.url}\n` }),
    });
    try {
      await submit(t, 'custom', 'res_CB_CUSTOM');
      await submit(t, 'plain', 'res_CB_PLAIN');
      const [a] = await signed.waitFor(1);
      const [b] = await unsigned.waitFor(1);
      assert.equal(a!.signatureOk, true);
      assert.equal(a!.headers['x-conduit-signature'], undefined);
      assert.equal(a!.headers['x-api-key'], 'platform-key');
      assert.equal(b!.headers['x-conduit-signature'], undefined);
      assert.equal(b!.event.event, 'result.delivered');
    } finally {
      await t.stop();
      await Promise.all([lis.stop(), signed.close(), unsigned.close()]);
    }
  });
});
