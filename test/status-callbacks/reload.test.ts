/** Adding a statusCallback to a running channel restarts it (new dispatchers); the next outcome is reported. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';
import { type Accepted, restToMllpChannel } from '../sources/rest/support.ts';
import { startCallbackReceiver } from './receiver.ts';

test('a reload that adds statusCallback restarts the channel with its callback dispatcher', async (t) => {
  const lis = await startSandboxLis('AA');
  const receiver = await startCallbackReceiver();
  const engine = await startTestEngine({ 'rl.yaml': restToMllpChannel('rl', lis.mllpPort) });
  t.after(async () => {
    await engine.stop();
    await Promise.all([lis.stop(), receiver.close()]);
  });
  const before = engine.engine.channels.find((c) => c.id === 'rl')!;
  writeFileSync(join(engine.dir, 'channels', 'rl.yaml'), restToMllpChannel('rl', lis.mllpPort, { extra: `statusCallback:\n  url: ${receiver.url}\n` }));
  const res = await engine.admin('/api/reload', { method: 'POST' });
  assert.equal(res.status, 200);
  const after = engine.engine.channels.find((c) => c.id === 'rl')!;
  assert.notEqual(after, before, 'restarted, not swapped');
  assert.deepEqual([...after.dispatchers.keys()], ['lis', 'status-callback:lis']);
  const { submissionId } = (await (await engine.post('/channels/rl/submissions', makeEvent('res_CB_RELOAD'))).json()) as Accepted;
  const [cb] = await receiver.waitFor(1);
  assert.equal(cb!.event.message_id, submissionId);
});
