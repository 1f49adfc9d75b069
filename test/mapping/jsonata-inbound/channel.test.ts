/**
 * The jsonata sample mapping through a running engine: webhook → platform-result-jsonata →
 * ORU^R01 → MLLP → our sandbox LIS. A good event is delivered with the same ORU^R01 the
 * built-in mapping gives; a bad one is answered 422 with an OperationOutcome naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../../support/in-process.ts';
import { platformEvent } from '../../support/repo.ts';
import { sandboxMessages, startSandboxLis } from '../../support/sandbox.ts';
import type { Editable } from './support.ts';

type Outcome = { resourceType: string; issue: Array<{ severity: string; code: string; diagnostics: string; expression?: string[] }> };
type MessageView = { status: string; mappingVersion?: string; deliveries: Array<{ controlId: string; status: string; payload: string }> };

describe('webhook → jsonata mapping → ORU^R01 → MLLP → sandbox LIS', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({
      'jsonata.yaml': webhookToMllpChannel('jsonata', lis.mllpPort).replace('mapping: platform-result\n', 'mapping: platform-result-jsonata\n'),
      'built-in.yaml': webhookToMllpChannel('built-in', lis.mllpPort),
    });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  /** Posts an event to a channel and returns the stored message once delivered. */
  async function deliver(channel: string, event: unknown): Promise<MessageView> {
    const res = await t.post(`/channels/${channel}`, event);
    assert.equal(res.status, 201, await res.clone().text());
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    return (await (await t.admin(`/api/messages/${messageId}`)).json()) as MessageView;
  }

  /** An ORU^R01 without what differs between two sends of one report: MSH-7 (time) and MSH-10 (control id). */
  const comparable = (er7: string) => {
    const m = Hl7Message.parse(er7).toString().split('\r');
    m[0] = m[0]!.split('|').map((f, i) => (i === 6 || i === 9 ? '' : f)).join('|');
    return m.join('\r');
  };

  test('a good event is delivered and acknowledged, as the same ORU^R01 as the built-in mapping sends', async () => {
    for (const name of ['full-bmp-panel', 'compact-glucose', 'special-characters']) {
      const viaJsonata = await deliver('jsonata', platformEvent(name));
      assert.equal(viaJsonata.status, 'acknowledged', name);
      assert.match(viaJsonata.mappingVersion ?? '', /^platform-result-jsonata@[0-9a-f]{12}$/);
      const viaBuiltIn = await deliver('built-in', platformEvent(name));
      const received = new Map((await sandboxMessages(lis)).map((m) => [Hl7Message.parse(m).controlId, m]));
      const sent = received.get(viaJsonata.deliveries[0]!.controlId);
      assert.ok(sent, `${name}: the LIS stored the message`);
      assert.equal(sent, viaJsonata.deliveries[0]!.payload, `${name}: the LIS got exactly the stored bytes`);
      assert.equal(comparable(sent), comparable(viaBuiltIn.deliveries[0]!.payload), name);
    }
  });

  test('a bad event is answered 422 with an OperationOutcome naming the report field and the event field', async () => {
    const e: Editable = platformEvent('full-bmp-panel');
    e.result.id = 'res_JSONATA_BAD';
    e.result.observations[1].value = 6.1;
    const before = (await sandboxMessages(lis)).length;
    const res = await t.post('/channels/jsonata', e);
    assert.equal(res.status, 422);
    const o = (await res.json()) as Outcome;
    assert.equal(o.resourceType, 'OperationOutcome');
    assert.deepEqual(
      o.issue.map((i) => [i.code, i.expression]),
      [['invalid', ['report.observations[1].value']]],
    );
    assert.equal(
      o.issue[0]!.diagnostics,
      'report.observations[1].value: expected a string; the mapping gave a number from result.observations[1].value; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
    );
    // A missing id is `required`.
    delete e.result.id;
    e.result.observations[1].value = '6.1';
    const missing = (await (await t.post('/channels/jsonata', e)).json()) as Outcome;
    assert.deepEqual(missing.issue, [
      {
        severity: 'error',
        code: 'required',
        diagnostics: 'report.id: required, but the mapping gave nothing: result.id is not in the input',
        expression: ['report.id'],
        details: { text: 'INPUT_INVALID' },
      },
    ]);
    // Nothing refused was stored or sent.
    await t.drained();
    assert.equal((await sandboxMessages(lis)).length, before);
    const stored = (await (await t.admin('/api/messages?channel=jsonata')).json()) as { messages: unknown[] };
    assert.equal(stored.messages.length, 3);
  });
});
