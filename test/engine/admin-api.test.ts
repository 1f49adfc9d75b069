import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

describe('admin API and health', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  const ids: string[] = [];
  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) });
    for (let i = 0; i < 5; i++) {
      const res = await t.post('/channels/to-lis', makeEvent(`res_ADMIN_${i}`));
      ids.push(((await res.json()) as { messageId: string }).messageId);
    }
    await t.drained();
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  test('every /api route needs the bearer token', async () => {
    for (const path of ['/api/channels', '/api/messages', `/api/messages/${ids[0]}`]) {
      const none = await fetch(t.url + path);
      assert.equal(none.status, 401, path);
      assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
      const wrong = await fetch(t.url + path, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401, path);
    }
    const resend = await fetch(`${t.url}/api/messages/${ids[0]}/resend`, { method: 'POST' });
    assert.equal(resend.status, 401);
  });

  test('GET /health needs no token for its status; a token shows the seed-003 shape', async () => {
    const anonymous = await fetch(`${t.url}/health`);
    assert.equal(anonymous.status, 200);
    assert.deepEqual(Object.keys((await anonymous.json()) as object).sort(), ['status', 'uptime_seconds', 'version']);
    const res = await t.admin('/health');
    assert.equal(res.status, 200);
    const h = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(h).sort(), ['components', 'status', 'uptime_seconds', 'version']);
    assert.equal(h.status, 'healthy');
    assert.equal(typeof h.uptime_seconds, 'number');
    assert.equal((h.components as Record<string, string>).database, 'healthy');
    assert.equal((h.components as Record<string, string>)['channel:to-lis'], 'healthy');
  });

  test('GET /api/channels lists channels with counts by status', async () => {
    const body = (await (await t.admin('/api/channels')).json()) as {
      channels: Array<{ id: string; state: string; source: string; messages: number; deliveries: Record<string, number> }>;
    };
    const c = body.channels.find((x) => x.id === 'to-lis')!;
    assert.equal(c.state, 'running');
    assert.equal(c.source, 'POST /channels/to-lis');
    assert.equal(c.messages, 5);
    assert.deepEqual(c.deliveries, { acknowledged: 5 });
  });

  test('GET /api/messages filters by channel and status and pages with a cursor', async () => {
    const first = (await (await t.admin('/api/messages?channel=to-lis&status=acknowledged&limit=2')).json()) as {
      messages: Array<{ id: string; status: string; sourceId: string }>;
      nextCursor?: string;
    };
    assert.equal(first.messages.length, 2);
    assert.ok(first.nextCursor);
    assert.ok(first.messages.every((m) => m.status === 'acknowledged'));
    const seen = first.messages.map((m) => m.id);
    let cursor: string | undefined = first.nextCursor;
    while (cursor) {
      const page = (await (await t.admin(`/api/messages?channel=to-lis&limit=2&cursor=${cursor}`)).json()) as { messages: Array<{ id: string }>; nextCursor?: string };
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [...ids].reverse(), 'newest first, each once');
    const none = (await (await t.admin('/api/messages?status=dead')).json()) as { messages: unknown[] };
    assert.deepEqual(none.messages, []);
    const other = (await (await t.admin('/api/messages?channel=nope')).json()) as { messages: unknown[] };
    assert.deepEqual(other.messages, []);
  });

  test('bad query parameters are answered 422 naming the parameter', async () => {
    const res = await t.admin('/api/messages?limit=0&status=lost');
    assert.equal(res.status, 422);
    const o = (await res.json()) as { issue: Array<{ expression: string[] }> };
    assert.deepEqual(o.issue.map((i) => i.expression[0]).sort(), ['query.limit', 'query.status']);
  });

  test('GET /api/messages/:id has the full history; unknown ids are 404', async () => {
    const m = (await (await t.admin(`/api/messages/${ids[0]}`)).json()) as Record<string, unknown> & {
      deliveries: Array<Record<string, unknown> & { attempts: Array<Record<string, unknown>> }>;
    };
    assert.equal(m.channelId, 'to-lis');
    assert.equal(m.sourceId, 'res_ADMIN_0');
    assert.equal(m.sourceVersion, '1');
    assert.equal(m.inputFormat, 'json');
    assert.match(m.rawInput as string, /res_ADMIN_0/);
    assert.ok(m.canonical);
    const d = m.deliveries[0]!;
    assert.equal(d.destinationId, 'lis');
    assert.match(d.payload as string, /^MSH\|/);
    const a = d.attempts[0]!;
    assert.equal(a.outcome, 'acknowledged');
    assert.equal(typeof a.latencyMs, 'number');
    assert.match(a.startedAt as string, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal((await t.admin('/api/messages/01NOPE')).status, 404);
    assert.equal((await t.admin('/api/messages/01NOPE/resend', { method: 'POST' })).status, 404);
  });

  test('reads of a message are audited without its contents', async () => {
    const res = await t.admin('/api/audit?action=message.');
    assert.equal(res.status, 200);
    const { events } = (await res.json()) as { events: Array<{ action: string; actor: string; target: string }> };
    assert.ok(events.some((e) => e.action === 'message.content.read' && e.actor === 'bootstrap-admin' && e.target === `message:${ids[0]}`));
    assert.ok(!JSON.stringify(events).includes('Nguyen'));
  });
});
