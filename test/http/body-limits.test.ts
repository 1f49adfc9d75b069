import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { restToMllpChannel } from '../sources/rest/support.ts';
import { parseAnswer, postHead, rawRequest } from './raw.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string; details?: { text: string } }> };

/** Resolves once the engine holds `bytes` of request bodies (the stalled ones have arrived). */
async function holding(bodies: { bytesInFlight: number }, bytes: number): Promise<void> {
  for (let i = 0; bodies.bytesInFlight < bytes; i++) {
    if (i > 2_000) throw new Error(`the engine holds ${bodies.bytesInFlight} bytes of bodies, not ${bytes}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('request bodies: a budget across requests, and a timeout for stalled ones', () => {
  test('over the budget the largest body in flight gets 503 + Retry-After; small requests keep being answered', { timeout: 30_000 }, async () => {
    // Nothing listens on port 9: deliveries just wait in the store.
    const t = await startTestEngine(
      { 'hook.yaml': webhookToMllpChannel('hook', 9), 'rest.yaml': restToMllpChannel('rest', 9) },
      { maxBodyBytesInFlight: 300_000, bodyTimeoutMs: 60_000 },
    );
    try {
      const bodies = (t.engine as unknown as { routes: { bodies: { bytesInFlight: number } } }).routes.bodies;
      // A big upload that stalls after 200 kB of its promised 250 kB.
      const big = rawRequest(t.engine.port, postHead('/channels/rest/submissions', 250_000), Buffer.alloc(200_000, 0x20));
      await holding(bodies, 200_000);
      // Small legitimate requests fit beside it.
      assert.equal((await t.post('/channels/hook', makeEvent('res_BUDGET_1'))).status, 201);
      // A second stalled upload of 150 kB: 350 kB would be over the budget, so the largest (the first) is refused.
      const second = rawRequest(t.engine.port, postHead('/channels/hook', 250_000), Buffer.alloc(150_000, 0x20));
      const refused = parseAnswer(await big.answer);
      assert.equal(refused.status, 503);
      assert.match(refused.headers, /retry-after: 5/i);
      assert.match(refused.headers, /connection: close/i);
      const o = refused.body as Outcome;
      assert.equal(o.resourceType, 'OperationOutcome');
      assert.equal(o.issue[0]!.code, 'throttled');
      assert.equal(o.issue[0]!.details?.text, 'BACKPRESSURE');
      await holding(bodies, 150_000);
      assert.ok(bodies.bytesInFlight <= 300_000);
      assert.equal((await t.post('/channels/rest/submissions', makeEvent('res_BUDGET_2'))).status, 202);
      second.socket.destroy();
      assert.ok(t.logs.some((l) => l.includes('"code":"BACKPRESSURE"') && l.includes('the largest answered 503')), 'the refusal is logged');
    } finally {
      await t.stop();
    }
  });

  test('a body that sends nothing for bodyTimeoutMs is cut with 408 and its bytes are freed', { timeout: 30_000 }, async () => {
    const t = await startTestEngine({ 'hook.yaml': webhookToMllpChannel('hook', 9) }, { bodyTimeoutMs: 200 });
    try {
      const bodies = (t.engine as unknown as { routes: { bodies: { bytesInFlight: number } } }).routes.bodies;
      const stalled = rawRequest(t.engine.port, postHead('/channels/hook', 50_000), '{"event": "result.cre');
      const a = parseAnswer(await stalled.answer);
      assert.equal(a.status, 408);
      assert.match(a.headers, /connection: close/i);
      assert.equal((a.body as Outcome).issue[0]!.code, 'timeout');
      assert.equal(bodies.bytesInFlight, 0);
      assert.ok(t.logs.some((l) => l.includes('request bodies stalled: answered 408')), 'the cut is logged');
      assert.equal((await t.post('/channels/hook', makeEvent('res_TIMEOUT_1'))).status, 201);
    } finally {
      await t.stop();
    }
  });

  test('a Content-Length over the route limit or the whole budget is refused before any byte is read', { timeout: 30_000 }, async () => {
    const t = await startTestEngine({ 'hook.yaml': webhookToMllpChannel('hook', 9), 'rest.yaml': restToMllpChannel('rest', 9) }, { maxBodyBytesInFlight: 3_000_000 });
    try {
      const overRoute = parseAnswer(await rawRequest(t.engine.port, postHead('/channels/hook', 2_000_000)).answer);
      assert.equal(overRoute.status, 413);
      assert.equal((overRoute.body as Outcome).issue[0]!.code, 'too-costly');
      assert.match((overRoute.body as Outcome).issue[0]!.diagnostics, /limit of 1048576 bytes/);
      const overBudget = parseAnswer(await rawRequest(t.engine.port, postHead('/channels/rest/submissions', 5_000_000)).answer);
      assert.equal(overBudget.status, 413);
      assert.match((overBudget.body as Outcome).issue[0]!.diagnostics, /limit of 3000000 bytes/);
    } finally {
      await t.stop();
    }
  });
});
