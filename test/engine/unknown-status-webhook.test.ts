/**
 * Issue 8, end to end over HTTP: a webhook event whose status the mapping's table does not
 * know is answered 422 naming the field and the value, and nothing is stored or sent; a
 * status that reaches the report as `unknown` is refused by the ORU^R01 encoder instead of
 * going out as F.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { REPO, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string; expression?: string[]; details?: { text: string } }> };

describe('webhook: an unknown result status is refused with 422, never sent as final', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  // The repository's mappings, with one row an integrator might write: 'validated' means unknown.
  const mappingsDir = mkdtempSync(join(tmpdir(), 'conduit-mappings-'));
  before(async () => {
    cpSync(join(REPO, 'mappings'), mappingsDir, { recursive: true });
    const file = join(mappingsDir, 'platform-result.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    pending: registered\n', '    pending: registered\n    validated: unknown\n'));
    lis = await startSandboxLis();
    t = await startTestEngine({
      'built-in.yaml': webhookToMllpChannel('built-in', lis.mllpPort),
      'jsonata.yaml': webhookToMllpChannel('jsonata', lis.mllpPort).replace('mapping: platform-result\n', 'mapping: platform-result-jsonata\n'),
    }, { mappingsDir });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
    rmSync(mappingsDir, { recursive: true, force: true });
  });

  async function refused(channel: string, event: unknown): Promise<Outcome> {
    const res = await t.post(`/channels/${channel}`, event);
    assert.equal(res.status, 422);
    return (await res.json()) as Outcome;
  }
  const stored = async (channel: string) => (await t.engine.store.listMessages({ channelId: channel, limit: 100 })).messages.length;

  test('an observation status outside the mapping table: 422 naming result.observations[1].status and the value', async () => {
    const e = makeEvent('res_UNKNOWN_OBS') as { result: { observations: Array<{ status?: string }> } };
    e.result.observations[1]!.status = 'checked';
    const o = await refused('built-in', e);
    assert.deepEqual(
      o.issue.map((i) => i.expression?.[0]),
      ['result.observations[1].status'],
    );
    assert.match(o.issue[0]!.diagnostics, /unknown status 'checked'/);
    assert.equal(await stored('built-in'), 0);
  });

  test("a status a mapping row makes 'unknown' is refused by the ORU^R01 encoder, naming each status", async () => {
    const e = makeEvent('res_UNKNOWN_ALL') as { result: { status: string; observations: Array<{ status?: string }> } };
    e.result.status = 'validated';
    for (const o of e.result.observations) o.status = undefined;
    const o = await refused('built-in', e);
    assert.equal(o.issue[0]!.details?.text, 'ENCODING_FAILED');
    assert.deepEqual(
      o.issue.map((i) => i.expression?.[0]),
      ['report.status', ...e.result.observations.map((_, i) => `report.observations[${i}].status`)],
    );
    assert.match(o.issue[0]!.diagnostics, /status 'unknown' has no OBR-25 \(HL7 table 0123\) code/);
    assert.match(o.issue[1]!.diagnostics, /\(sent as 'validated'\)/);
    assert.equal(await stored('built-in'), 0);
  });

  test("the jsonata mapping refuses a status 'unknown' its table does not have, at the report field", async () => {
    const e = makeEvent('res_UNKNOWN_JSONATA') as { result: { status: string } };
    e.result.status = 'unknown';
    const o = await refused('jsonata', e);
    assert.equal(o.issue[0]!.details?.text, 'INPUT_INVALID');
    assert.equal(o.issue[0]!.expression?.[0], 'report.status');
    assert.equal(await stored('jsonata'), 0);
  });
});
