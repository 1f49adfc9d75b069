/**
 * A running engine picks up an edited code table: the next message is encoded with the new
 * row and recorded with the new mapping version; a broken table is refused with its file and
 * line, and the engine keeps the last good version.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

type View = { deliveries: Array<{ mappingVersion: string; payload: string }> };

describe('editing a code table under a running engine', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let analytes: string;
  before(async () => {
    lis = await startSandboxLis();
    // Reloads only when asked, so the test decides when the edit is seen.
    t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) }, { watch: false });
    analytes = join(t.dir, 'mappings', 'tables', 'analytes.csv');
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  async function send(id: string): Promise<View> {
    const res = await t.post('/channels/to-lis', makeEvent(id));
    assert.equal(res.status, 201);
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    return (await (await t.admin(`/api/messages/${messageId}`)).json()) as View;
  }

  test('the next message uses the edited row and records a new version; a broken edit is refused and the last good one kept', async () => {
    const first = await send('res_RELOAD_1');
    const text = readFileSync(analytes, 'utf8');
    writeFileSync(analytes, text.replace('14743-9,Glucose [Moles/volume] in Capillary blood by Glucometer', '14743-9,Glucose POC (edited)'));
    const reload = await t.admin('/api/reload', { method: 'POST' });
    assert.equal(reload.status, 200, await reload.clone().text());
    const second = await send('res_RELOAD_2');
    assert.notEqual(second.deliveries[0]!.mappingVersion, first.deliveries[0]!.mappingVersion);
    assert.match(second.deliveries[0]!.mappingVersion, /^oru-r01-lis@[0-9a-f]{12}$/);
    assert.ok((await sandboxMessages(lis)).some((m) => m.includes('res_RELOAD_2') && m.includes('^14743-9^Glucose POC (edited)^LN')));

    writeFileSync(analytes, `${readFileSync(analytes, 'utf8')}GLU,duplicate,2345-7,x,mg/dL,mg/dL,Serum,here\n`);
    const refused = await t.admin('/api/reload', { method: 'POST' });
    assert.equal(refused.status, 422);
    const body = (await refused.json()) as { applied: boolean; issues: Array<{ file: string; line: number; message: string }> };
    assert.equal(body.applied, false);
    assert.equal(body.issues.length, 1);
    assert.match(body.issues[0]!.file, /tables\/analytes\.csv$/);
    assert.equal(body.issues[0]!.line, readFileSync(analytes, 'utf8').trimEnd().split('\n').length);
    assert.match(body.issues[0]!.message, /^duplicate key 'GLU' in column 'code', first on line \d+/);
    const third = await send('res_RELOAD_3');
    assert.equal(third.deliveries[0]!.mappingVersion, second.deliveries[0]!.mappingVersion, 'the last good version stays');
  });
});
