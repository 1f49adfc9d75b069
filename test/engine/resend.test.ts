/**
 * Issue 8, resend semantics: a superseded version is not resent over its correction (409 unless
 * ?force=true), the admin API says which message is the current version of its result, and a
 * resend of a message waiting for a retry brings that retry forward.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildAck, DEFAULT_DELIMITERS, Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../src/protocols/mllp/index.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
type Summary = { id: string; current: boolean; supersededBy?: string };

async function post(t: TestEngine, id: string, version: number): Promise<string> {
  const res = await t.post('/channels/to-lis', makeEvent(id, { version, ...(version > 1 ? { event: 'result.updated' } : {}) }));
  assert.equal(res.status, 201);
  return ((await res.json()) as { messageId: string }).messageId;
}

describe('resend of a superseded version', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let v1: string;
  let v2: string;
  let v10: string;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
    v1 = await post(t, 'res_SUPERSEDED', 1);
    v2 = await post(t, 'res_SUPERSEDED', 2);
    // Versions compare as numbers: 10 is newer than 2 (and than 9).
    v10 = await post(t, 'res_SUPERSEDED', 10);
    await t.drained();
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  const atLis = async () => (await sandboxMessages(lis)).filter((m) => m.includes('res_SUPERSEDED')).length;

  test('the message view and list say whether a message is the current version of its result, and which one is', async () => {
    const view = (id: string) => t.admin(`/api/messages/${id}`).then((r) => r.json() as Promise<Summary>);
    assert.deepEqual([await view(v1), await view(v2), await view(v10)].map((m) => [m.current, m.supersededBy]), [
      [false, v10],
      [false, v10],
      [true, undefined],
    ]);
    const list = (await (await t.admin('/api/messages?channel=to-lis')).json()) as { messages: Summary[] };
    assert.deepEqual(
      list.messages.map((m) => [m.id, m.current, m.supersededBy]),
      [
        [v10, true, undefined],
        [v2, false, v10],
        [v1, false, v10],
      ],
    );
  });

  test('resending version 1 after the LIS acknowledged a newer one is refused with 409 naming the newer messages; nothing is sent', async () => {
    const before = await atLis();
    const res = await t.admin(`/api/messages/${v1}/resend`, { method: 'POST' });
    assert.equal(res.status, 409);
    const o = (await res.json()) as Outcome;
    assert.equal(o.resourceType, 'OperationOutcome');
    assert.ok(o.issue.every((i) => i.code === 'conflict'));
    assert.equal(o.issue.length, 2, 'one issue per newer version the destination acknowledged');
    assert.match(o.issue[0]!.diagnostics, new RegExp(`message ${v1} is version 1 of result res_SUPERSEDED; destination lis has acknowledged a newer version, message ${v10} \\(version 10\\)`));
    assert.match(o.issue[1]!.diagnostics, new RegExp(`message ${v2} \\(version 2\\)`));
    assert.match(o.issue[0]!.diagnostics, /\?force=true/);
    assert.equal((await t.engine.store.getMessage(v1))!.deliveries[0]!.status, 'acknowledged', 'not requeued');
    await t.drained();
    assert.equal(await atLis(), before);
    const { events } = (await (await t.admin('/api/audit?action=message.resend')).json()) as { events: Array<{ outcome: string; detail?: { refused?: string } }> };
    assert.ok(events.some((e) => e.outcome === 'denied' && e.detail?.refused === 'superseded'));
  });

  test('?force=true resends it anyway; the current version resends without a question', async () => {
    const forced = await t.admin(`/api/messages/${v1}/resend?force=true`, { method: 'POST' });
    assert.equal(forced.status, 202);
    assert.deepEqual(await forced.json(), { messageId: v1, requeued: 1, broughtForward: 0 });
    await t.drained();
    const current = await t.admin(`/api/messages/${v10}/resend`, { method: 'POST' });
    assert.equal(current.status, 202);
    assert.deepEqual(await current.json(), { messageId: v10, requeued: 1, broughtForward: 0 });
    await t.drained();
    // The sandbox LIS keeps one copy per MSH-10, so the resends show in the attempts.
    assert.equal((await t.engine.store.getMessage(v1))!.deliveries[0]!.attempts.length, 2);
    assert.equal((await t.engine.store.getMessage(v10))!.deliveries[0]!.attempts.length, 2);
  });

  test('?force takes true or false only', async () => {
    const res = await t.admin(`/api/messages/${v1}/resend?force=yes`, { method: 'POST' });
    assert.equal(res.status, 422);
    assert.deepEqual(((await res.json()) as { issue: Array<{ expression: string[] }> }).issue.map((i) => i.expression[0]), ['query.force']);
  });
});

test('resend of a message waiting for its retry brings the retry forward to now', async (t) => {
  const port = await releasedPort();
  // A backoff of ten minutes: without the resend, nothing would happen within the test.
  const e = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', port, 'maxAttempts: 5\n      initialBackoffMs: 600000\n      maxBackoffMs: 600000') });
  const lis = new MllpServer();
  t.after(async () => {
    await e.stop();
    await lis.close();
  });
  const id = await post(e, 'res_RETRYING', 1);
  type View = { status: string; deliveries: Array<{ nextAttemptAt?: string; attempts: unknown[] }> };
  let view: View;
  do {
    await new Promise((r) => setTimeout(r, 20));
    view = (await (await e.admin(`/api/messages/${id}`)).json()) as View;
  } while (view.status !== 'errored');
  assert.ok(Date.parse(view.deliveries[0]!.nextAttemptAt!) > Date.now() + 60_000, 'the next attempt is minutes away');

  const received: string[] = [];
  await lis.listen({
    host: '127.0.0.1',
    port,
    maxFrameBytes: 1 << 20,
    handler: async (frame) => {
      const m = Hl7Message.parse(frame.toString('utf8'));
      received.push(m.controlId);
      return buildAck(m, DEFAULT_DELIMITERS, { code: 'AA', controlId: 'ACK1', timestamp: '20261122' });
    },
  });
  const res = await e.admin(`/api/messages/${id}/resend`, { method: 'POST' });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { messageId: id, requeued: 0, broughtForward: 1 });
  await e.drained();
  const done = (await (await e.admin(`/api/messages/${id}`)).json()) as View;
  assert.equal(done.status, 'acknowledged');
  assert.equal(done.deliveries[0]!.attempts.length, 2);
  assert.equal(received.length, 1);
});
