/**
 * Issue 8, end to end over HTTP: a webhook event whose status the mapping's table does not
 * know is answered 422 naming the field and the value, and nothing is stored or sent; a
 * status that reaches the report as `unknown` is refused by the ORU^R01 encoder instead of
 * going out as F.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string; expression?: string[]; details?: { text: string } }> };

describe('webhook: an unknown result status is refused with 422, never sent as final', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({
      'built-in.yaml': webhookToMllpChannel('built-in', lis.mllpPort),
      'jsonata.yaml': webhookToMllpChannel('jsonata', lis.mllpPort).replace('mapping: platform-result\n', 'mapping: platform-result-jsonata\n'),
    });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  async function refused(channel: string, event: unknown): Promise<Outcome> {
    const res = await t.post(`/channels/${channel}`, event);
    assert.equal(res.status, 422);
    return (await res.json()) as Outcome;
  }
  const stored = (channel: string) => t.engine.store.listMessages({ channelId: channel, limit: 100 }).messages.length;

  test('an observation status outside the mapping table: 422 naming result.observations[1].status and the value', async () => {
    const e = makeEvent('res_UNKNOWN_OBS') as { result: { observations: Array<{ status?: string }> } };
    e.result.observations[1]!.status = 'validated';
    const o = await refused('built-in', e);
    assert.deepEqual(
      o.issue.map((i) => i.expression?.[0]),
      ['result.observations[1].status'],
    );
    assert.match(o.issue[0]!.diagnostics, /unknown status 'validated'/);
    assert.equal(stored('built-in'), 0);
  });

  test("a status that reaches the report as 'unknown' is refused by the ORU^R01 encoder, naming each status", async () => {
    const e = makeEvent('res_UNKNOWN_ALL') as { result: { status: string; observations: Array<{ status?: string }> } };
    e.result.status = 'unknown';
    for (const o of e.result.observations) o.status = undefined;
    const o = await refused('jsonata', e);
    assert.equal(o.issue[0]!.details?.text, 'ENCODING_FAILED');
    assert.deepEqual(
      o.issue.map((i) => i.expression?.[0]),
      ['report.status', ...e.result.observations.map((_, i) => `report.observations[${i}].status`)],
    );
    assert.match(o.issue[0]!.diagnostics, /status 'unknown' has no OBR-25 \(HL7 table 0123\) code/);
    assert.equal(stored('jsonata'), 0);
  });
});
