/**
 * Issue 10, retention in a running engine: a channel's `retention` removes the content of
 * delivered messages once they are old enough (the admin view says when; a resend is refused
 * with 410), then deletes them; a message still pending is kept. The channel file's block is
 * checked with specific errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChannelConfig } from '../../src/config/channel.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

type View = { rawInput: string; contentPrunedAt?: string; status: string; deliveries: Array<{ payload: string; controlId: string }> };

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('retention of a running channel', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    const retention = 'retention:\n  content: 1s\n  metadata: 3s\n';
    // A LIS nobody runs: its message stays pending (retried far apart).
    const down = webhookToMllpChannel('to-nowhere', await releasedPort(), 'maxAttempts: 10\n      initialBackoffMs: 60000\n      maxBackoffMs: 60000');
    t = await startTestEngine({ 'to-lis.yaml': `${webhookToMllpChannel('to-lis', lis.mllpPort)}${retention}`, 'to-nowhere.yaml': `${down}${retention}` }, { retentionIntervalMs: 100 });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  test('content goes after 1 s, the message after 3 s; a resend in between is refused with 410', async () => {
    const res = await t.post('/channels/to-lis', makeEvent('res_RETAINED'));
    assert.equal(res.status, 201);
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    const view = async (): Promise<View | undefined> => {
      const r = await t.admin(`/api/messages/${messageId}`);
      return r.status === 404 ? undefined : ((await r.json()) as View);
    };
    const delivered = (await view())!;
    assert.equal(delivered.status, 'acknowledged');
    assert.notEqual(delivered.rawInput, '');
    await until('the content to be removed', async () => (await view())?.contentPrunedAt !== undefined);
    const pruned = (await view())!;
    assert.equal(pruned.rawInput, '');
    assert.equal(pruned.deliveries[0]!.payload, '');
    assert.equal(pruned.deliveries[0]!.controlId, delivered.deliveries[0]!.controlId, 'ids stay');
    assert.equal(pruned.status, 'acknowledged');
    const resend = await t.admin(`/api/messages/${messageId}/resend`, { method: 'POST' });
    assert.equal(resend.status, 410);
    const outcome = (await resend.json()) as { issue: Array<{ code: string; diagnostics: string }> };
    assert.equal(outcome.issue[0]!.code, 'deleted');
    assert.match(outcome.issue[0]!.diagnostics, /removed by the channel's retention/);
    await until('the message to be deleted', async () => (await view()) === undefined);
    assert.ok(t.logs.some((l) => l.includes('retention applied')));
  });

  test('a message the LIS has not acknowledged is kept past its retention', async () => {
    const res = await t.post('/channels/to-nowhere', makeEvent('res_HELD'));
    assert.equal(res.status, 201);
    const { messageId } = (await res.json()) as { messageId: string };
    await new Promise((r) => setTimeout(r, 3500));
    const v = (await (await t.admin(`/api/messages/${messageId}`)).json()) as View;
    assert.notEqual(v.rawInput, '', 'still pending: its content stays');
    assert.equal(v.contentPrunedAt, undefined);
  });
});

test('the retention block of a channel file: durations and their order are checked', () => {
  const base = { id: 'c', source: { type: 'webhook' } };
  const issues = (retention: unknown) => {
    const r = ChannelConfig.safeParse({ ...base, retention });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(issues({ content: '30d', metadata: '365d' }), []);
  assert.deepEqual(issues({ content: '30x' }), ["retention.content: expected a duration such as '30d', '12h', '90m' or '45s' (a whole number, then s, m, h or d)"]);
  assert.deepEqual(issues({ content: '30d', metadata: '7d' }), ['retention.metadata: expected metadata to be kept at least as long as content']);
  assert.deepEqual(issues({ contents: '30d' }), ['retention: Unrecognized key: "contents"']);
});
