/**
 * Issue 8 (control characters, text encoding), end to end: webhook POST → platform-result
 * mapping → ORU^R01 → our MLLP LIS listener. A value no destination can carry (C0 controls
 * other than TAB/CR/LF, lone surrogates, bytes that are not UTF-8) is refused at intake with
 * 422 naming the field, never accepted and then refused at send time; DEL, which FHIR strings
 * allow, reaches the LIS as the hex escape \X7F\, never raw.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string; expression?: string[]; details?: { text: string } }> };

describe('webhook → MLLP: control characters and invalid text', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({ 'plain.yaml': webhookToMllpChannel('plain', lis.mllpPort) });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  const stored = async () => (await t.engine.store.listMessages({ channelId: 'plain', limit: 100 })).messages.length;
  const event = (id: string) => makeEvent(id) as unknown as { result: { patient: Record<string, unknown>; observations: Array<Record<string, unknown>> } };

  async function refused(body: string | Uint8Array): Promise<Outcome> {
    const before = await stored();
    const res = await fetch(`${t.url}/channels/plain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 422);
    const o = (await res.json()) as Outcome;
    assert.equal(o.resourceType, 'OperationOutcome');
    assert.ok(o.issue.every((i) => i.details?.text === 'INPUT_TEXT_INVALID'), JSON.stringify(o));
    assert.equal(await stored(), before, 'nothing stored');
    return o;
  }

  test('NUL, BEL, VT, FS and ESC: 422 naming each field (not 201 and then never delivered)', async () => {
    const e = event('res_CTRL_1');
    e.result.observations[0]!.comment = 'see\x07 note';
    e.result.patient.family = 'Do\x0be';
    e.result.observations[1]!.value = '5\x1c4';
    e.result.observations[2]!.unit = 'mmol\x00/L';
    e.result.patient.given = ['J\x1b[0mane'];
    const o = await refused(JSON.stringify(e));
    const byPath = new Map(o.issue.map((i) => [i.expression?.[0], i.diagnostics]));
    assert.match(byPath.get('result.observations[0].comment') ?? '', /control character U\+0007 \(BEL\) at character 4/);
    assert.match(byPath.get('result.patient.family') ?? '', /U\+000B \(VT\)/);
    assert.match(byPath.get('result.observations[1].value') ?? '', /U\+001C \(FS\)/);
    assert.match(byPath.get('result.observations[2].unit') ?? '', /U\+0000 \(NUL\)/);
    assert.match(byPath.get('result.patient.given[0]') ?? '', /U\+001B \(ESC\)/);
    assert.equal(o.issue.length, 5);
  });

  test('a lone surrogate (\\ud800 escaped in the JSON): 422 naming the field', async () => {
    const text = JSON.stringify(event('res_SURROGATE')).replace('"result":{', '"result":{"x_note":"half \\ud800 pair",');
    const o = await refused(text);
    assert.deepEqual(o.issue.map((i) => i.expression?.[0]), ['result.x_note']);
    assert.match(o.issue[0]!.diagnostics, /lone surrogate at character 6/);
  });

  test('bytes that are not UTF-8: 422 naming the body and the byte offset, never U+FFFD', async () => {
    const json = Buffer.from(JSON.stringify(event('res_LATIN1')).replace('"result":{', '"result":{"x_note":"Gr\u00fcn",'), 'latin1');
    const o = await refused(json);
    assert.equal(o.issue[0]!.diagnostics.startsWith('(body): not valid UTF-8 (byte offset '), true, o.issue[0]!.diagnostics);
  });

  test('DEL and TAB are text: accepted, DEL reaches the LIS as \\X7F\\, TAB as itself', async () => {
    const e = event('res_DEL_1');
    e.result.observations[0]!.comment = 'a\x7fb\tc';
    const res = await t.post('/channels/plain', e);
    assert.equal(res.status, 201, await res.text());
    await t.drained();
    const sent = (await sandboxMessages(lis)).find((m) => m.includes('res_DEL_1'));
    assert.ok(sent, 'delivered to the LIS');
    assert.ok(!sent.includes('\x7f'), 'no raw DEL on the wire');
    assert.ok(sent.includes('a\\X7F\\b\tc'), sent);
    const nte = Hl7Message.parse(sent)
      .all('NTE')
      .map((s) => s.get(3, 1, 1, 0, { formatting: 'text' }));
    assert.ok(nte.includes('a\x7fb\tc'), JSON.stringify(nte));
  });
});
